/**
 * Catch-up on connect (issue 5 §6): paged MAM query (XEP-0313 §4, RSM XEP-0059) from the last
 * archive id we finished. Each archived message goes through the one receive path (receive.ts):
 * its decryption starts the moment it arrives (on the crypto pool's worker threads), so the server
 * serialising a page, the cores decrypting + verifying and the next page request all overlap.
 * A page is stored in ONE transaction — rows, replay guard, audit entries and the archive pointer
 * (issue 10 §11) — so a crash never leaves stored messages without their audit entries, nor a
 * pointer past messages that were not stored. The pointer never moves past a message that failed
 * for an internal reason: the run stops there, and the next catch-up fetches it again.
 * Progress goes to the UI as 'sync:progress'.
 */
import { randomUUID } from 'node:crypto';
import type { XmlElement } from '@xmpp/client';
import type { ContactKey } from '../crypto';
import { archivedAdminCommand } from './admin-commands';
import type { MessagingContext } from './context';
import { acknowledge, receiptAsked, type OxItem, type Pending, type Receiver } from './receive';
import { parseXmppDateTime } from '../crypto';
import { pastRetention, retentionCutoff } from '../policy/retention';
import { bare, fromOwnAccount, mamQuery, NS, originIdOf, serverStampOf } from './stanzas';

export const MAM_LAST_SETTING = 'xmpp:mamLast';
/** The archive's own stamp of the message at MAM_LAST_SETTING: where the progress count starts. */
export const MAM_LAST_AT_SETTING = 'xmpp:mamLastAt';
const PAGE = 250;

export interface CatchUpDeps {
  ctx: MessagingContext;
  receiver: Receiver;
}

interface Run {
  keys: Map<string, Promise<ContactKey | null>>;
  /** The last archive result per conversation (peer) so far in this run: the next one follows it. */
  last: Map<string, Pick<OxItem, 'originId' | 'stanzaId'>>;
  /** The retention cutoff at the run's start (policy retentionDays), null when retention is off. */
  cutoff: number | null;
}

interface Page {
  /** Archive ids of every result of the page, in order (ours or not, OX or not). */
  ids: string[];
  /** The archive's stamp of each of them (XEP-0203 on the <forwarded/>), when it gave a valid one. */
  stamps: (string | null)[];
  /** Items to store, each with the index of its result in `ids`. */
  pending: { p: Pending; at: number }[];
  last: string | null;
  complete: boolean;
  /** RSM <count/> (XEP-0059 §2.6): the size of the whole result set, when the server says. */
  count: number | null;
}

/** One archive result as a receive item, or null when it is not a message between us and a colleague. */
function toItem(result: XmlElement, ctx: MessagingContext, now: number): OxItem | null {
  const fwd = result.getChild('forwarded', NS.forward);
  const m = fwd?.getChild('message');
  const ox = m?.getChild('openpgp', NS.ox);
  if (!m || !ox || !result.attrs.id) return null;
  const from = bare(m.attrs.from);
  const out = from === ctx.ownJid;
  const peer = out ? bare(m.attrs.to) : from;
  if (!peer || peer === ctx.ownJid || !peer.includes('@') || !ctx.peerAllowed(peer)) return null;
  // The archive's own stamp on the <forwarded/> (our server wrote the whole result).
  const serverStamp = serverStampOf(fwd, { bare: ctx.ownJid, now, allowNoFrom: true });
  const receipt = receiptAsked(m, out ? 'out' : 'in');
  return {
    peer,
    direction: out ? 'out' : 'in',
    base64: ox.getText(),
    originId: originIdOf(m),
    stanzaId: result.attrs.id,
    serverStamp,
    ...(receipt ? { receipt } : {}),
  };
}

/** The archive's stamp of a result, as sent (for a MAM `start` field), when it is a valid DateTime. */
function archiveStamp(result: XmlElement): string | null {
  const raw = result.getChild('forwarded', NS.forward)?.getChild('delay', NS.delay)?.attrs.stamp;
  return typeof raw === 'string' && parseXmppDateTime(raw) ? raw : null;
}

/** Adds one archive result to the page: its id and stamp, and the item to store (its decryption started). */
function addResult(page: Page, result: XmlElement, ctx: MessagingContext, begin: (it: OxItem) => Pending | null) {
  const { metrics, clock } = ctx.opts;
  const t0 = metrics?.archiveResult ? performance.now() : 0;
  const admin = archivedAdminCommand(result);
  if (admin) ctx.opts.onAdminCommand?.(admin, 'archive');
  const it = admin ? null : toItem(result, ctx, clock.now());
  const p = it && begin(it);
  if (p) page.pending.push({ p, at: page.ids.length });
  page.ids.push(result.attrs.id ?? '');
  page.stamps.push(archiveStamp(result));
  metrics?.archiveResult?.(performance.now() - t0);
}

/**
 * How many archived messages follow the pointer, for the progress bar only: a count-only query
 * (RSM max 0) from the pointer's own second, which counts the pointer itself (and any message
 * archived in that same second before it, so it can be a few too many). null when unknown.
 */
async function countAfterPointer(ctx: MessagingContext, since: string): Promise<number | null> {
  const conn = ctx.conn();
  if (!conn?.isReady()) return null;
  try {
    const res = await conn.iq(mamQuery(randomUUID(), null, 0, since), 30_000);
    const n = Number(res.getChild('fin', NS.mam)?.getChild('set', NS.rsm)?.getChildText('count') ?? NaN);
    return Number.isSafeInteger(n) && n >= 0 ? Math.max(0, n - 1) : null;
  } catch {
    return null; // a server without counts: the bar stays indeterminate
  }
}

/**
 * Catch-up's 'sync:progress' (issue 12 §9): messages fetched, the total once known (never below
 * what is done: messages archived during the run come on top), and exactly one `finished` —
 * also when the run fails, so the UI never shows a catch-up that is no longer running.
 */
function progressReporter({ events, metrics }: MessagingContext['opts']) {
  let done = 0;
  let total: number | null = null;
  let over = false;
  const emit = () => {
    const t0 = metrics?.events ? performance.now() : 0;
    events.emit('sync:progress', { done, total, finished: over });
    metrics?.events?.(performance.now() - t0);
  };
  emit();
  return {
    get done() {
      return done;
    },
    total(n: number | null): void {
      if (n === null || over) return;
      total = Math.max(n, done);
      emit();
    },
    add(n: number, last: boolean): void {
      if (over) return;
      done += n;
      if (total !== null) total = Math.max(total, done);
      over = last;
      emit();
    },
    end(): void {
      if (!over) this.add(0, true);
    },
  };
}

/** One archive item into the decrypt pool (its sender's key parsed once per run), or null when it is not stored. */
function begin(receiver: Receiver, run: Run, item: OxItem): Pending | null {
  // Purged by retention (main/session/retention.ts) or as old: the archive still holds it, this
  // workstation does not store it again. Admin commands are read before this (addResult).
  if (pastRetention(run.cutoff, item.serverStamp)) return null;
  // Every result counts, also one already stored (live): what follows it is ordered after it.
  const follows = run.last.get(item.peer);
  run.last.set(item.peer, { originId: item.originId, stanzaId: item.stanzaId });
  const it = follows ? { ...item, follows } : item;
  return receiver.prepare(it, {
    senderKey: (item) => {
      const k = `${item.direction}:${item.peer}`;
      let key = run.keys.get(k);
      if (!key) {
        key = receiver.senderKey(item); // parsed once per sender per catch-up (PROTOCOL.md "Speed")
        run.keys.set(k, key);
      }
      return key;
    },
  });
}

export function createCatchUp({ ctx, receiver }: CatchUpDeps) {
  const { store, logger, metrics } = ctx.opts;
  const collectors = new Map<string, (result: XmlElement) => void>();

  /** Called for every inbound <message/>; true when it was an archive result (ours or not). */
  function accept(el: XmlElement): boolean {
    const result = el.getChild('result', NS.mam);
    if (!result) return false;
    // Only our own server answers our queries (XEP-0313 §5: from our bare JID or absent).
    if (fromOwnAccount(el.attrs.from, ctx.ownJid)) collectors.get(result.attrs.queryid ?? '')?.(result);
    return true;
  }

  async function fetchPage(run: Run, after: string | null): Promise<Page> {
    const conn = ctx.conn();
    if (!conn?.isReady()) throw new Error('not connected');
    const queryId = randomUUID();
    const page: Page = { ids: [], stamps: [], pending: [], last: null, complete: false, count: null };
    collectors.set(queryId, (result) => addResult(page, result, ctx, (it) => begin(receiver, run, it)));
    try {
      const sent = metrics?.page ? performance.now() : 0;
      const res = await conn.iq(mamQuery(queryId, after, PAGE), 120_000);
      metrics?.page?.(sent, performance.now(), page.ids.length);
      const fin = res.getChild('fin', NS.mam);
      const set = fin?.getChild('set', NS.rsm);
      page.last = set?.getChildText('last') ?? null;
      const count = Number(set?.getChildText('count') ?? NaN);
      page.count = Number.isSafeInteger(count) && count >= 0 ? count : null;
      page.complete = fin?.attrs.complete === 'true' || page.ids.length === 0;
      return page;
    } finally {
      collectors.delete(queryId);
    }
  }

  /**
   * Stores the page and moves the pointer in the same transaction. Returns how many were stored
   * and whether the run may go on (false: an internal failure; the pointer stopped before it).
   */
  async function commit(
    page: Page,
    after: string | null,
  ): Promise<{ stored: number; pointer: string | null; goOn: boolean }> {
    let pointer = page.last ?? after;
    let goOn = true;
    const { received } = await receiver.commit(
      page.pending.map((x) => x.p),
      (firstInternal) => {
        if (firstInternal !== null) {
          const at = page.pending[firstInternal]!.at;
          pointer = at > 0 ? page.ids[at - 1]! : after;
          goOn = false;
        }
        if (pointer && pointer !== after) {
          store.setSetting(MAM_LAST_SETTING, pointer);
          store.setSetting(MAM_LAST_AT_SETTING, page.stamps[page.ids.lastIndexOf(pointer)] ?? null);
        }
      },
    );
    receiver.announce(received, false);
    const verified = received.flatMap((r) => (r.reason === null ? [r.it] : []));
    // Receipts, in the background, for what was stored verified here first (a live copy got its own).
    void acknowledge(ctx, verified);
    if (!goOn) logger.warn('xmpp: catch-up stopped before a message that failed; the next catch-up retries it');
    return { stored: received.length, pointer, goOn };
  }

  /**
   * Runs the whole catch-up; returns how many messages were stored. `started` runs once the first
   * page has come (the server has seen our query), before the rest: session-setup.ts sends our
   * presence there, so a colleague's new message arrives live during the catch-up (issue 13 item 4).
   */
  async function run(started?: () => Promise<void>): Promise<number> {
    const r: Run = {
      keys: new Map(),
      last: new Map(),
      cutoff: retentionCutoff(ctx.opts.policy.retentionDays, ctx.opts.clock.now()),
    };
    let after = store.getSetting<string>(MAM_LAST_SETTING) ?? null;
    let stored = 0;
    const progress = progressReporter(ctx.opts);
    try {
      // RSM's count ignores <after/> (XEP-0059): used from the archive's start; else counted apart.
      const since = after === null ? null : (store.getSetting<string | null>(MAM_LAST_AT_SETTING) ?? null);
      // countAfterPointer answers null on any failure: it never rejects.
      if (since) void countAfterPointer(ctx, since).then((n) => progress.total(n));
      let page = await fetchPage(r, after);
      if (after === null) progress.total(page.count);
      await started?.();
      for (;;) {
        // Ask for the next page at once: it streams into the pool while this page is finished.
        let next = !page.complete && page.last ? fetchPage(r, page.last) : null;
        // Awaited below, or dropped once the run stops early: only an early rejection must not go unhandled.
        next?.catch(() => undefined);
        const c = await commit(page, after);
        stored += c.stored;
        after = c.pointer;
        if (!c.goOn) next = null;
        progress.add(page.ids.length, !next);
        if (!next) break;
        page = await next;
      }
    } finally {
      progress.end();
    }
    logger.info('xmpp: catch-up finished', { fetched: progress.done, stored });
    return stored;
  }

  return { accept, run };
}

export type CatchUp = ReturnType<typeof createCatchUp>;
