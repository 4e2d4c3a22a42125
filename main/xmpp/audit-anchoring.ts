/**
 * Audit anchoring (issue 15 item 4): with the policy's compliance account and key fingerprint set,
 * a connected session sends its new audit entries there at every fresh connection and then every
 * `auditAnchorHours` (timers on the session's Clock). Which rows: main/audit/anchor-batches.ts;
 * the format: main/crypto/audit-anchor.ts; the stanza: audit-anchor-stanza.ts.
 *
 * The compliance key comes from the compliance account's published OpenPGP key (XEP-0373 PEP) and
 * must have exactly the pinned fingerprint; any other key (or none) means nothing is sent, which is
 * logged and audited (`audit-anchor`, once per connection). A batch counts as anchored only after
 * the server's stream-management ack; otherwise it stays pending and is resent unchanged.
 */
import { markAnchored, nextBatch, type AnchorRun } from '../audit/anchor-batches';
import { every } from '../clock';
import { sealAnchorBatch } from '../crypto/audit-anchor';
import { errorName } from '../log';
import { auditAnchoringEnabled } from '../policy/schema';
import { auditAnchorStanza } from './audit-anchor-stanza';
import type { MessagingContext } from './context';
import { fetchPinnedKey } from './pep-keys';
import type { XmppConnection } from './transport/connection';

/** A backlog (a first anchoring of a long log) goes in bounded batches; this many per run at most. */
const MAX_BATCHES_PER_RUN = 100;

export interface AuditAnchoring {
  /** A fresh session is set up: anchor now, then every interval. */
  connected(c: XmppConnection): void;
  /** Anchors now (tests; the timer). Resolves when the run ends, whatever its outcome. */
  run(): Promise<void>;
  stop(): void;
}

export function createAuditAnchoring(ctx: MessagingContext): AuditAnchoring {
  const { store, audit, logger, clock, policy } = ctx.opts;
  const workstation = ctx.opts.workstationId;
  let stopTimer: (() => void) | null = null;
  let running: Promise<void> | null = null;
  let refusalAudited = false;

  async function anchor(c: XmppConnection): Promise<void> {
    if (!auditAnchoringEnabled(policy) || !workstation) return;
    const identity = ctx.identity();
    if (!identity) return;
    const found = await fetchPinnedKey(c, policy.complianceAccount!, policy.complianceKeyFingerprint!);
    if ('refused' in found) {
      logger.warn('audit anchoring: compliance key refused', { reason: found.refused });
      if (!refusalAudited) audit.append('audit-anchor', { result: found.refused, jid: policy.complianceAccount });
      refusalAudited = true;
      return;
    }
    const carried: AnchorRun = {};
    for (let i = 0; i < MAX_BATCHES_PER_RUN; i++) {
      const { batch, more } = nextBatch(store, audit, { account: ctx.ownJid, workstation }, clock.now(), carried);
      const armored = await sealAnchorBatch(batch, identity.privateKey, found.key, new Date(clock.now()));
      // No ack (a dropped connection): the batch stays pending and the next run sends it again.
      await c.sendAcked(auditAnchorStanza(policy.complianceAccount!, armored));
      markAnchored(store, batch, clock.now());
      if (!more) break;
    }
  }

  function run(): Promise<void> {
    const c = ctx.conn();
    if (!c?.isReady()) return Promise.resolve();
    running ??= anchor(c)
      .catch((err: unknown) => logger.warn('audit anchoring: not sent', { error: errorName(err) }))
      .finally(() => {
        running = null;
      });
    return running;
  }

  return {
    connected() {
      refusalAudited = false;
      stopTimer?.();
      stopTimer = null;
      if (!auditAnchoringEnabled(policy) || !workstation) return;
      // run() never rejects; the timer below repeats it.
      void run();
      // Each tick's run() never rejects either (it logs its own failure).
      stopTimer = every(clock, policy.auditAnchorHours * 3600_000, () => void run());
    },
    run,
    stop() {
      stopTimer?.();
      stopTimer = null;
    },
  };
}
