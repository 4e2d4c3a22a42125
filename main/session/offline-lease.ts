/**
 * The offline lease in the session (issue 15 item 3). At unlock the vault asks for the server's
 * lease only when the cached one has expired (leaseFetcher: a short connection of its own, like
 * the admin check). While unlocked, every connection messaging makes renews it (onConnected):
 * the account's lease is read from private storage (xmpp/lease-storage.ts) and, when it is still
 * the one this profile was opened with, cached again for policy.offlineLeaseHours from now. A lease
 * the server no longer has (clinic-admin lease revoke) withdraws the cached copy. A profile
 * without a layer yet gets one at its first connection under a policy that asks for a lease
 * (the account's lease is created when it has none).
 */
import { randomBytes } from 'node:crypto';
import type { AuditLog } from '../audit';
import { errorName, type Logger } from '../log';
import type { Policy } from '../policy/schema';
import { fetchLeaseOnce, readLease, writeLease } from '../xmpp';
import type { XmppConnection } from '../xmpp/transport/connection';
import type { VaultEnv } from '../vault/device-secret';
import { isAllZero, type VaultKeys } from '../vault/keys';
import { cacheLease, dropCachedLease, type LeaseFetcher, type LeaseLogin } from '../vault/lease';
import type { Vault } from '../vault/vault';

/** The vault's LeaseFetcher over the xmpp short connection (tests may substitute `fetch`). */
export function leaseFetcher(opts: {
  fetch: typeof fetchLeaseOnce;
  caPems: (string | null | undefined)[];
  logger: Logger;
}): LeaseFetcher {
  return (login) => opts.fetch({ account: login, caPems: opts.caPems, logger: opts.logger });
}

export interface LeaseRenewalDeps {
  policy: Policy;
  env: VaultEnv;
  audit: AuditLog;
  profileId: string;
  account: LeaseLogin;
  /** The open profile's keys: MK (to put a layer on) and the lease that opened it. */
  keys: VaultKeys;
  /** Held only until the layer is on (it wraps the new P); null when the unlock did not hand it over. */
  passphrase: string | null;
  addLease: Vault['addLease'];
}

export interface LeaseRenewal {
  /** messaging's onConnected. Never throws: a failure is logged and the next connection tries again. */
  onConnected(conn: XmppConnection): void;
}

export function createLeaseRenewal(d: LeaseRenewalDeps): LeaseRenewal {
  const { policy, env, audit, profileId, keys } = d;
  let passphrase = d.passphrase;
  let queue: Promise<void> = Promise.resolve();
  const locked = () => isAllZero(keys.db);

  async function renew(conn: XmppConnection, hours: number): Promise<void> {
    const held = keys.lease;
    const server = await readLease(conn);
    if (!held || locked()) {
      server?.fill(0);
      return;
    }
    if (server?.equals(held)) {
      const expiresAt = await cacheLease(env, profileId, server, hours);
      server.fill(0);
      audit.append('lease-renewed', { profileId, expiresAt });
      return;
    }
    // The server answered, and not with this profile's lease: IT withdrew it. The cached copy goes too.
    server?.fill(0);
    // Once: later connections of this session have no lease to renew.
    held.fill(0);
    keys.lease = undefined;
    await dropCachedLease(env, profileId);
    audit.append('lease-revoked', { profileId });
    env.logger.warn('offline lease: the server no longer has this profile’s lease', { profileId });
  }

  async function enable(conn: XmppConnection, hours: number, pass: string): Promise<void> {
    // A copy taken now: a lock while this runs zero-fills keys.master, which must never be wrapped.
    const master = Buffer.from(keys.master);
    let lease: Buffer | null = null;
    try {
      if (isAllZero(master)) return;
      lease = await readLease(conn);
      if (!lease) {
        const fresh = randomBytes(32);
        await writeLease(conn, fresh);
        fresh.fill(0);
        // Read back: when two workstations create one at once, both use whichever the server kept.
        lease = await readLease(conn);
        if (!lease) throw new Error('the server kept no lease');
      }
      // Held no longer, whatever the outcome: a refusal (the passphrase changed) waits for the next unlock.
      passphrase = null;
      const expiresAt = await d.addLease(profileId, { passphrase: pass, master, lease, login: d.account });
      if (expiresAt === null || locked()) return;
      keys.lease = lease;
      lease = null;
      audit.append('lease-enabled', { profileId, expiresAt, hours });
    } finally {
      master.fill(0);
      lease?.fill(0);
    }
  }

  return {
    onConnected(conn) {
      const hours = policy.offlineLeaseHours;
      if (hours === 0) return;
      queue = queue
        .then(() => {
          if (locked()) return;
          if (keys.lease) return renew(conn, hours);
          if (passphrase !== null) return enable(conn, hours, passphrase);
        })
        .catch((err: unknown) => env.logger.warn('offline lease not renewed', { profileId, error: errorName(err) }));
    },
  };
}
