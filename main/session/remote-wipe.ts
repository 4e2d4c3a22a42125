/**
 * Remote wipe (issue 15 item 2): what the open profile does with an admin command it found — live,
 * in catch-up, or in the unlock check (main/xmpp/admin-check.ts). In this order, the first failure
 * being the reason, which is audited as 'wipe-command' { outcome: 'ignored', reason }:
 *   not-enabled     the policy pins no admin key or names no admin account;
 *   wrong-sender    not sent by the policy's adminAccount (the server vouches for the sender: no
 *                   federation); no signature is even checked then;
 *   malformed | forged | unpinned-signer | not-yet-valid | expired   (crypto/admin-command.ts);
 *   wrong-account | wrong-device | replayed                          (admin-command-check.ts);
 *   predates-profile  issued before this profile was created: it was meant for an earlier profile
 *                     of the same person on this PC, already erased by it (a new sign-in after a
 *                     wipe must not be wiped again by the same command).
 * An accepted command is audited as accepted and handed to `wipe`, once. Its nonce goes to the
 * device log with the wipe (main/vault/device-log.ts), which outlives the profile: 'replayed' is
 * checked there. The same command seen twice in one session (live, then again in catch-up) is
 * handled once and audited once.
 */
import { createHash } from 'node:crypto';
import type { AuditLog } from '../audit';
import type { Clock } from '../clock';
import { verifyAdminCommand } from '../crypto/admin-command';
import { parseXmppDateTime } from '../crypto/time';
import { errorName, type Logger } from '../log';
import { remoteWipeEnabled, type Policy } from '../policy/schema';
import { readDeviceLog } from '../vault/device-log';
import type { AdminCommandText, AdminCommandVia } from '../xmpp/admin-commands';
import { checkAdminCommand } from './admin-command-check';

/** What the session erases with: the command's nonce and signer go to the device log. */
export interface AcceptedWipe {
  nonce: string;
  signer: string;
  via: AdminCommandVia;
}

export interface RemoteWipeDeps {
  /** The live policy view: adminKeyFingerprints and adminAccount are read at each command. */
  policy: Policy;
  clock: Clock;
  logger: Logger;
  audit: AuditLog;
  userDataDir: string;
  profile: { id: string; jid: string; createdAt: number };
}

export type AdminCommandOutcome = { accepted: true; wipe: AcceptedWipe } | { accepted: false; reason: string } | null;

/** Nonces of admin commands this PC already carried out (any profile): they are never acted on again. */
export function executedNonces(userDataDir: string): Set<string> {
  const out = new Set<string>();
  for (const e of readDeviceLog(userDataDir)) {
    const nonce = e.event === 'profile-wiped' ? e.detail?.nonce : undefined;
    if (typeof nonce === 'string') out.add(nonce);
  }
  return out;
}

export function createRemoteWipe(deps: RemoteWipeDeps) {
  const { policy, clock, logger, audit, profile } = deps;
  const seenTexts = new Set<string>();
  let accepted = false;

  async function decide(
    found: AdminCommandText,
  ): Promise<
    | { accepted: true; wipe: Omit<AcceptedWipe, 'via'> }
    | { accepted: false; reason: string; nonce?: string; signer?: string }
  > {
    if (!remoteWipeEnabled(policy)) return { accepted: false, reason: 'not-enabled' };
    if (found.from !== policy.adminAccount?.toLowerCase()) return { accepted: false, reason: 'wrong-sender' };
    const verified = await verifyAdminCommand(found.text, {
      pinnedFingerprints: policy.adminKeyFingerprints,
      date: new Date(clock.now()),
    });
    if (!verified.ok) return { accepted: false, reason: verified.reason };
    const { command, signer } = verified;
    const ids = { nonce: command.nonce, signer };
    const done = executedNonces(deps.userDataDir);
    const decision = checkAdminCommand(command, {
      account: profile.jid,
      deviceId: profile.id,
      seen: (nonce) => done.has(nonce),
    });
    if (!decision.accept) return { accepted: false, reason: decision.reason, ...ids };
    if (parseXmppDateTime(command.issuedAt)!.getTime() < profile.createdAt)
      return { accepted: false, reason: 'predates-profile', ...ids };
    return { accepted: true, wipe: ids };
  }

  /** The decision audited; audit.append throws once the session locked meanwhile (nothing to record into then). */
  function record(detail: Record<string, string | null>): void {
    try {
      audit.append('wipe-command', detail);
    } catch (err) {
      logger.warn('admin command decision not audited', { error: errorName(err) });
    }
  }

  async function handleOne(found: AdminCommandText, via: AdminCommandVia): Promise<AdminCommandOutcome> {
    const key = createHash('sha256').update(found.from).update('\n').update(found.text).digest('hex');
    if (seenTexts.has(key) || accepted) return null;
    seenTexts.add(key);
    let outcome: Awaited<ReturnType<typeof decide>>;
    try {
      outcome = await decide(found);
    } catch (err) {
      logger.error('admin command check failed', { error: errorName(err) });
      outcome = { accepted: false, reason: 'check-failed' };
    }
    const from = found.from || 'unknown';
    if (!outcome.accepted) {
      const { reason, nonce = null, signer = null } = outcome;
      logger.warn('admin command ignored', { reason, via });
      record({ outcome: 'ignored', reason, via, from, nonce, signer });
      return { accepted: false, reason };
    }
    accepted = true;
    logger.warn('admin command accepted: erasing this profile', { via });
    record({ outcome: 'accepted', via, from, ...outcome.wipe });
    return { accepted: true, wipe: { ...outcome.wipe, via } };
  }

  // One command at a time, in arrival order: the audit reads as they came, and a second genuine
  // command cannot be accepted while the first is being decided.
  let tail: Promise<unknown> = Promise.resolve();

  return {
    /**
     * Decides on one command and audits the decision; null when this exact command was already
     * handled in this session. Never rejects (a failure is logged and counts as ignored).
     */
    handle(found: AdminCommandText, via: AdminCommandVia): Promise<AdminCommandOutcome> {
      const run = tail.then(() => handleOne(found, via));
      // handleOne never rejects; the queue only orders (each caller gets `run` itself).
      tail = run.catch(() => undefined);
      return run;
    },
  };
}

export type RemoteWipe = ReturnType<typeof createRemoteWipe>;
