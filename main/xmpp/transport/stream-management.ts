/**
 * Works around the two @xmpp/client 0.14 stream-management defects (PROTOCOL.md, XEP-0198):
 *
 * 1. The inbound counter `h` misses every stanza a middleware consumes before the SM
 *    middleware sees it (IQ results taken by iqCaller, IQ gets answered by iqCallee). Prosody
 *    then treats delivered messages as unacknowledged and re-routes them to offline storage:
 *    duplicates at the next login. We count every inbound stanza ourselves, at the element
 *    level, and make `sm.inbound` read our counter (the library may only reset it to 0).
 * 2. `start()` resolves before `<enabled/>`: `waitEnabled` lets callers hold sends until then,
 *    so the client never acknowledges more than the server sent.
 * 3. A stanza is queued for its ack only after its socket write completed, which under load can be
 *    after the server's ack for it: that stanza was then never acknowledged. lib-patches.ts
 *    `queueStanzasAsWritten` queues it as the write starts (client-factory.ts applies it).
 *
 * It also turns the SM queue's ack/fail events into a per-stanza promise: a message counts as
 * sent only when the server acknowledged it (XEP-0198 §4), and asks for acks during a long run of
 * sends (`written`): the library asks only once its sends pause (client-factory.ts).
 */
import { xml, type Client, type XmlElement } from '@xmpp/client';
import { AppError } from '../../../common/result';
import type { Clock } from '../../clock';
import { replaceSmInboundCounter } from './lib-patches';

const STANZAS = new Set(['message', 'presence', 'iq']);
const NS_SM = 'urn:xmpp:sm:3';

/**
 * During a run of sends, an ack request (<r/>) goes after this many stanzas that wait for their ack.
 * The library's own request waits for a pause in the sends (its debounce, client-factory.ts): in a
 * burst the outbox kept sending, so no ack came and each message's commit waited for the burst's
 * end or the outbox's limit of messages unacknowledged (outbox-pass.ts MAX_UNACKED).
 */
export const ACK_REQUEST_EVERY = 8;

export interface SmTracker {
  /** Resolves when the server acknowledged `stanza`; rejects (NOT_CONNECTED) when the queue is failed. */
  acked(stanza: XmlElement): Promise<void>;
  /**
   * Whether `stanza` waits in the library's queue for its ack: then its fate is the queue's (acked,
   * sent again on resumption, or failed on a fresh session), whatever its own write did.
   */
  queued(stanza: XmlElement): boolean;
  /** Stops waiting for `stanza`'s ack: it never reached the queue (its write was refused). */
  forget(stanza: XmlElement): void;
  /** A stanza passed to `acked` was written: every ACK_REQUEST_EVERY of them, asks for the acks now. */
  written(): void;
  /** Resolves once `<enabled/>` (or `<resumed/>`) arrived, or after `timeoutMs` if the server never enables SM. */
  waitEnabled(timeoutMs: number): Promise<boolean>;
  /** Number of stanzas received on this SM session (our own count; equals what we report as h). */
  inbound(): number;
}

export function trackStreamManagement(xmpp: Client, clock: Clock): SmTracker {
  const sm = xmpp.streamManagement;
  let count = 0;
  // Defect 1: every stanza counts, whoever handles it. 'stanza' is emitted for each one right after
  // 'element', before any later <r/> is processed, so h is exact when we answer an ack request.
  xmpp.on('stanza', (el: XmlElement) => {
    if (STANZAS.has(el.name)) count += 1;
  });
  replaceSmInboundCounter(sm, {
    count: () => count,
    reset: () => {
      count = 0;
    },
  });

  const pending = new Map<XmlElement, { resolve: () => void; reject: (e: Error) => void }>();
  sm.on('ack', (stanza: XmlElement) => {
    pending.get(stanza)?.resolve();
    pending.delete(stanza);
  });
  sm.on('fail', (stanza: XmlElement) => {
    pending
      .get(stanza)
      ?.reject(new AppError('NOT_CONNECTED', 'The connection dropped before the server acknowledged the message.'));
    pending.delete(stanza);
  });

  let sinceRequest = 0;
  return {
    acked(stanza) {
      return new Promise((resolve, reject) => pending.set(stanza, { resolve, reject }));
    },
    queued: (stanza) => sm.outbound_q.some((item) => item.stanza === stanza),
    forget(stanza) {
      pending.delete(stanza);
    },
    written() {
      if (!sm.enabled || ++sinceRequest < ACK_REQUEST_EVERY) return;
      sinceRequest = 0;
      // Best effort, like the library's own request: a broken stream fails the queue anyway.
      xmpp.send(xml('r', { xmlns: NS_SM })).catch(() => undefined);
    },
    async waitEnabled(timeoutMs) {
      const deadline = clock.now() + timeoutMs;
      while (!sm.enabled) {
        if (clock.now() > deadline || xmpp.status !== 'online') return false;
        await new Promise<void>((r) => clock.setTimeout(r, 5));
      }
      return true;
    },
    inbound: () => count,
  };
}
