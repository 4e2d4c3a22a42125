/**
 * The offline lease in the vault (issue 15 item 3): opening MK through the lease layer at unlock
 * (the cached lease while it is valid, else the server's), and putting the layer on or taking it
 * off when the policy turns the lease on or off. The crypto is lease-keys.ts; the server side is
 * the caller's LeaseFetcher (session/offline-lease.ts over xmpp/lease-storage.ts), so the vault
 * stays free of the network.
 *
 * Crash safety: the layer goes on or off in one atomic profile.json rename (profiles.ts
 * writeFileAtomic); the cached lease is written before the profile that needs it and withdrawn
 * only after the profile no longer does.
 */
import { randomBytes } from 'node:crypto';
import type { ServerConfig } from '../../common/contract/domain';
import { AppError } from '../../common/result';
import { appendDeviceLog } from './device-log';
import { deviceSecret, type VaultEnv } from './device-secret';
import { profileRecord } from './keychain';
import type { KdfParams } from './keys';
import {
  decodeCachedLease,
  encodeCachedLease,
  leaseExpiry,
  leaseValid,
  NO_CACHED_LEASE,
  openLeasedMaster,
  openLeaseLogin,
  sealLeaseLayer,
} from './lease-keys';
import { openMasterKey, wrapUnderPassphrase } from './passphrase-wrap';
import { writeProfile, type ProfileRecord } from './profiles';

/** The XMPP account the unlock signs in with to fetch the lease (the database's AccountSetting). */
export interface LeaseLogin {
  jid: string;
  password: string;
  server: ServerConfig;
}

export type LeaseFetchOutcome =
  { reached: true; lease: Buffer | null } | { reached: false; code: string; refused: boolean };

/** Fetches the account's lease from the server over a short connection of its own; never throws. */
export type LeaseFetcher = (login: LeaseLogin) => Promise<LeaseFetchOutcome>;

export interface LeasedMaster {
  master: Buffer;
  /** The lease secret that opened it (the caller zero-fills it). */
  lease: Buffer;
}

export async function cacheLease(env: VaultEnv, id: string, lease: Buffer, hours: number): Promise<number> {
  const expiresAt = leaseExpiry(env.clock.now(), hours);
  const rec = encodeCachedLease({ lease, expiresAt });
  try {
    await env.keychain.setRecord(profileRecord(id, 'lease'), rec);
  } finally {
    rec.fill(0);
  }
  return expiresAt;
}

export const dropCachedLease = (env: VaultEnv, id: string): Promise<void> =>
  env.keychain.setRecord(profileRecord(id, 'lease'), NO_CACHED_LEASE);

/** Why a leased profile did not open; the text the lock screen shows (renderer errors.ts words the first). */
function refusal(reason: 'unreachable' | 'refused' | 'revoked', hours: number): AppError {
  const text = {
    unreachable:
      hours > 0
        ? `This computer has been offline longer than your clinic allows (${hours} hours). Connect to the clinic network and unlock again.`
        : 'This profile needs the clinic server to open. Connect to the clinic network and unlock again.',
    refused:
      'The clinic server no longer accepts this account, so this profile cannot be opened on this computer. Contact IT.',
    revoked:
      "Your clinic withdrew this profile's offline lease, so it cannot be opened on this computer. Contact IT; you can remove it and sign in again.",
  }[reason];
  return new AppError('LEASE_EXPIRED', text, { reason, hours });
}

/**
 * MK of a profile with a lease layer, from P (the passphrase layer's key, already checked). The
 * cached lease while valid (or at all, when the policy no longer asks for a lease); otherwise the
 * server's, which is then cached for `hours`. Throws LEASE_EXPIRED and records it in the device
 * log when neither opens it; the profile is untouched then (an expired cached copy is withdrawn).
 */
export async function openThroughLease(
  env: VaultEnv,
  hours: number,
  record: ProfileRecord,
  pre: Buffer,
  fetch: LeaseFetcher | undefined,
): Promise<LeasedMaster> {
  const { id } = record;
  const layer = record.lease!;
  const cached = decodeCachedLease(await env.keychain.getRecord(profileRecord(id, 'lease')));
  if (cached && (hours === 0 || leaseValid(cached, env.clock.now()))) {
    const master = openLeasedMaster(id, layer, pre, cached.lease);
    if (master) return { master, lease: cached.lease };
  }
  cached?.lease.fill(0);
  const loginText = openLeaseLogin(id, layer, pre);
  if (loginText === null) throw new AppError('STORE_CORRUPT', 'The profile file is damaged.', { profileId: id });
  const got: LeaseFetchOutcome = fetch
    ? await fetch(JSON.parse(loginText) as LeaseLogin)
    : { reached: false, code: 'NOT_CONNECTED', refused: false };
  const master = got.reached && got.lease ? openLeasedMaster(id, layer, pre, got.lease) : null;
  if (got.reached && got.lease && master) {
    await cacheLease(env, id, got.lease, hours);
    return { master, lease: got.lease };
  }
  if (got.reached) got.lease?.fill(0);
  const reason = !got.reached ? (got.refused ? 'refused' : 'unreachable') : 'revoked';
  await appendDeviceLog(env.userDataDir, env.keychain, {
    at: env.clock.now(),
    event: 'lease-unlock-refused',
    profileId: id,
    detail: { reason, hours, ...(got.reached ? {} : { code: got.code }) },
  });
  env.logger.warn('offline lease: unlock refused', { profileId: id, reason });
  // An expired copy opens nothing here any more; it is not left in the keychain for anyone else.
  if (cached) await dropCachedLease(env, id);
  throw refusal(reason, hours);
}

/**
 * Puts the lease layer on (the policy asks for a lease): a new P under the passphrase, MK under
 * (P, lease), the account under P. The lease is cached first, then profile.json is replaced in one
 * rename. Returns the record written and the cache's expiry.
 */
export async function addLeaseLayer(
  env: VaultEnv,
  record: ProfileRecord,
  input: { passphrase: string; master: Buffer; lease: Buffer; login: LeaseLogin; hours: number; params: KdfParams },
): Promise<{ record: ProfileRecord; expiresAt: number }> {
  const secret = await deviceSecret(env, record.id);
  // The passphrase must still be the profile's: one changed since the unlock that handed it over
  // would otherwise be silently replaced by the old one.
  const current = await openMasterKey(record, input.passphrase, secret);
  const same = current?.equals(input.master) ?? false;
  current?.fill(0);
  if (!same) {
    secret.fill(0);
    throw new AppError(
      'CONFLICT',
      'The passphrase changed since this profile was unlocked; the next unlock adds the lease.',
    );
  }
  const pre = randomBytes(32);
  try {
    const lease = sealLeaseLayer(record.id, pre, input.master, input.lease, JSON.stringify(input.login));
    // Never write a layer that does not give MK back.
    const check = openLeasedMaster(record.id, lease, pre, input.lease);
    const sealed = check?.equals(input.master) ?? false;
    check?.fill(0);
    if (!sealed) throw new AppError('INTERNAL', 'The offline lease layer did not check out.');
    const expiresAt = await cacheLease(env, record.id, input.lease, input.hours);
    const next: ProfileRecord = {
      ...record,
      ...(await wrapUnderPassphrase(record.id, pre, input.passphrase, secret, input.params)),
      lease,
    };
    writeProfile(env.userDataDir, next);
    return { record: next, expiresAt };
  } finally {
    pre.fill(0);
    secret.fill(0);
  }
}

/** Takes the layer off (the policy no longer asks for a lease): MK under the passphrase again, then the cache withdrawn. */
export async function removeLeaseLayer(
  env: VaultEnv,
  record: ProfileRecord,
  input: { passphrase: string; master: Buffer; params: KdfParams },
): Promise<void> {
  const secret = await deviceSecret(env, record.id);
  try {
    const { lease: _dropped, ...rest } = record;
    writeProfile(env.userDataDir, {
      ...rest,
      ...(await wrapUnderPassphrase(record.id, input.master, input.passphrase, secret, input.params)),
    });
  } finally {
    secret.fill(0);
  }
  await dropCachedLease(env, record.id);
}

/**
 * The unlock of a profile with a lease layer: MK through the lease (P zero-filled here), and the
 * layer taken off when the policy no longer asks for a lease (a failure there is logged: the next
 * unlock tries again). The lease secret comes back only while the layer stays.
 */
export async function unlockThroughLease(
  env: VaultEnv,
  hours: number,
  record: ProfileRecord,
  input: { pre: Buffer; passphrase: string; fetch: LeaseFetcher | undefined; params: KdfParams },
): Promise<{ master: Buffer; lease: Buffer | undefined }> {
  let leased: LeasedMaster;
  try {
    leased = await openThroughLease(env, hours, record, input.pre, input.fetch);
  } finally {
    input.pre.fill(0);
  }
  if (hours > 0) return leased;
  try {
    await removeLeaseLayer(env, record, { passphrase: input.passphrase, master: leased.master, params: input.params });
    env.logger.info('offline lease layer removed: the policy no longer asks for a lease', { profileId: record.id });
  } catch (err) {
    env.logger.warn('could not remove the offline lease layer', {
      profileId: record.id,
      code: err instanceof AppError ? err.code : 'unknown',
    });
  }
  leased.lease.fill(0);
  return { master: leased.master, lease: undefined };
}
