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
import type { MessagingContext } from './context';
import type { OxItem, Pending, Receiver } from './receive';
import { bare, fromOwnAccount, mamQuery, NS, originIdOf, serverStampOf } from './stanzas';

export const MAM_LAST_SETTING = 'xmpp:mamLast';
const PAGE = 250;

export interface CatchUpDeps {
  ctx: MessagingContext;
  receiver: Receiver;
}

interface Run {
  keys: Map<string, Promise<ContactKey | null>>;
}

interface Page {
  /** Archive ids of every result of the page, in order (ours or not, OX or not). */
  ids: string[];
  /** Items to store, each with the index of its result in `ids`. */
  pending: { p: Pending; at: number }[];
  last: string | null;
  complete: boolean;
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
  return {
    peer,
    direction: out ? 'out' : 'in',
    base64: ox.getText(),
    originId: originIdOf(m),
    stanzaId: result.attrs.id,
    serverStamp,
  };
}

export function createCatchUp({ ctx, receiver }: CatchUpDeps) {
  const { store, events, logger, clock } = ctx.opts;
  const collectors = new Map<string, (result: XmlElement) => void>();

  /** Called for every inbound <message/>; true when it was an archive result (ours or not). */
  function accept(el: XmlElement): boolean {
    const result = el.getChild('result', NS.mam);
    if (!result) return false;
    // Only our own server answers our queries (XEP-0313 §5: from our bare JID or absent).
    if (fromOwnAccount(el.attrs.from, ctx.ownJid)) collectors.get(result.attrs.queryid ?? '')?.(result);
    return true;
  }

  function begin(run: Run, it: OxItem): Pending | null {
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

  async function fetchPage(run: Run, after: string | null): Promise<Page> {
    const conn = ctx.conn();
    if (!conn?.isReady()) throw new Error('not connected');
    const queryId = randomUUID();
    const page: Page = { ids: [], pending: [], last: null, complete: false };
    collectors.set(queryId, (result) => {
      const it = toItem(result, ctx, clock.now());
      const p = it && begin(run, it);
      if (p) page.pending.push({ p, at: page.ids.length });
      page.ids.push(result.attrs.id ?? '');
    });
    try {
      const res = await conn.iq(mamQuery(queryId, after, PAGE), 120_000);
      const fin = res.getChild('fin', NS.mam);
      page.last = fin?.getChild('set', NS.rsm)?.getChildText('last') ?? null;
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
        if (pointer && pointer !== after) store.setSetting(MAM_LAST_SETTING, pointer);
      },
    );
    receiver.announce(received, false);
    if (!goOn)
      logger.warn(
        'xmpp: catch-up stopped before a message that could not be processed; it is retried on the next catch-up',
      );
    return { stored: received.length, pointer, goOn };
  }

  /** Runs the whole catch-up; returns how many messages were stored. */
  async function run(): Promise<number> {
    const r: Run = { keys: new Map() };
    let after = store.getSetting<string>(MAM_LAST_SETTING) ?? null;
    let done = 0;
    let stored = 0;
    events.emit('sync:progress', { done: 0, total: null, finished: false });
    let page = await fetchPage(r, after);
    for (;;) {
      // Ask for the next page at once: it streams into the pool while this page is finished.
      let next = !page.complete && page.last ? fetchPage(r, page.last) : null;
      // Awaited below, or dropped once the run stops early: only an early rejection must not go unhandled.
      next?.catch(() => undefined);
      const c = await commit(page, after);
      stored += c.stored;
      done += page.ids.length;
      after = c.pointer;
      if (!c.goOn) next = null;
      events.emit('sync:progress', { done, total: null, finished: !next });
      if (!next) break;
      page = await next;
    }
    logger.info('xmpp: catch-up finished', { fetched: done, stored });
    return stored;
  }

  return { accept, run };
}

export type CatchUp = ReturnType<typeof createCatchUp>;
