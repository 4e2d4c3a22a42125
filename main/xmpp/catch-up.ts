/**
 * Catch-up on connect (issue 5 §6): paged MAM query (XEP-0313 §4, RSM XEP-0059) from the last
 * archive id we finished. Each archived message is handed to the crypto decrypt pool (worker
 * threads, every core) the moment it arrives, so the server serialising a page, the cores
 * decrypting + verifying and the next page request all overlap. A page is inserted in one
 * transaction (dedup on origin-id / stanza-id), its audit rows in another, then the last id is
 * saved. Progress goes to the UI as 'sync:progress'.
 */
import { randomUUID } from 'node:crypto';
import type { XmlElement } from '@xmpp/client';
import { SigncryptRejectedError, type ContactKey, type DecryptOutcome, type DecryptPool } from '../crypto';
import type { NewMessage } from '../store';
import type { MessagingContext } from './context';
import type { Inbound, OxItem } from './inbound';
import { bare, delayOf, mamQuery, NS, originIdOf } from './stanzas';

export const MAM_LAST_SETTING = 'xmpp:mamLast';
const PAGE = 250;

export interface CatchUpDeps {
  ctx: MessagingContext;
  inbound: Inbound;
  pool: () => Promise<DecryptPool>;
}

interface Pending {
  it: OxItem;
  conversationId: string;
  /** null: no key for the sender (rejected as such). */
  outcome: Promise<DecryptOutcome | null>;
}

interface Run {
  pool: DecryptPool;
  keys: Map<string, Promise<ContactKey | null>>;
}

export function createCatchUp({ ctx, inbound, pool }: CatchUpDeps) {
  const { store, events, logger, clock } = ctx.opts;
  const collectors = new Map<string, (result: XmlElement) => void>();

  /** Called for every inbound <message/>; true when it was an archive result (ours or not). */
  function accept(el: XmlElement): boolean {
    const result = el.getChild('result', NS.mam);
    if (!result) return false;
    const from = bare(el.attrs.from);
    // Only our own server answers our queries (XEP-0313 §5: from our bare JID or absent).
    if (!from || from === ctx.ownJid) collectors.get(result.attrs.queryid ?? '')?.(result);
    return true;
  }

  function toItem(result: XmlElement): OxItem | null {
    const fwd = result.getChild('forwarded', NS.forward);
    const m = fwd?.getChild('message');
    const ox = m?.getChild('openpgp', NS.ox);
    if (!m || !ox || !result.attrs.id) return null;
    const from = bare(m.attrs.from);
    const out = from === ctx.ownJid;
    const peer = out ? bare(m.attrs.to) : from;
    if (!peer || peer === ctx.ownJid || !peer.includes('@')) return null;
    return { peer, direction: out ? 'out' : 'in', base64: ox.getText(), originId: originIdOf(m), stanzaId: result.attrs.id, delay: delayOf(fwd) };
  }

  /** Dedup, then start decrypting right away (the pool queues beyond its in-flight limit). */
  function begin(run: Run, it: OxItem): Pending | null {
    // Read first: getOrCreate always writes (INSERT OR IGNORE), a write transaction per message.
    const conv = store.conversations.byPeer(it.peer) ?? store.conversations.getOrCreate(it.peer, clock.now());
    const dup = inbound.existing(conv.id, it);
    if (dup) {
      if (dup.direction === 'out' && it.stanzaId) store.messages.setStanzaId(dup.id, it.stanzaId);
      return null;
    }
    const k = `${it.direction}:${it.peer}`;
    let key = run.keys.get(k);
    if (!key) {
      key = inbound.senderKey(it); // parsed once per sender per catch-up (PROTOCOL.md "Speed")
      run.keys.set(k, key);
    }
    const outcome = key.then(async (senderKey): Promise<DecryptOutcome | null> => {
      if (!senderKey) return null;
      try {
        const value = await run.pool.open({
          senderKey,
          base64: it.base64,
          ourJid: it.direction === 'in' ? ctx.ownJid : it.peer,
          delayStamp: it.delay,
          now: new Date(clock.now()),
        });
        return { ok: true, value };
      } catch (err) {
        return { ok: false, reason: err instanceof SigncryptRejectedError ? err.reason : 'internal' };
      }
    });
    return { it, conversationId: conv.id, outcome };
  }

  async function fetchPage(run: Run, after: string | null) {
    const conn = ctx.conn();
    if (!conn?.isReady()) throw new Error('not connected');
    const queryId = randomUUID();
    const pending: Pending[] = [];
    let count = 0;
    collectors.set(queryId, (result) => {
      count++;
      const it = toItem(result);
      const p = it && begin(run, it);
      if (p) pending.push(p);
    });
    try {
      const res = await conn.iq(mamQuery(queryId, after, PAGE), 120_000);
      const fin = res.getChild('fin', NS.mam);
      return {
        pending,
        count,
        last: fin?.getChild('set', NS.rsm)?.getChildText('last') ?? null,
        complete: fin?.attrs.complete === 'true' || count === 0,
      };
    } finally {
      collectors.delete(queryId);
    }
  }

  async function commit(pending: Pending[]): Promise<number> {
    const outcomes = await Promise.all(pending.map((p) => p.outcome));
    const rows: { row: NewMessage; reason: string | null; peer: string; b64: string }[] = [];
    const pageDigests = new Set<string>();
    pending.forEach(({ it, conversationId }, i) => {
      const o = outcomes[i];
      if (o && !o.ok && o.reason === 'internal') return; // pool trouble, not the message's fault: the next catch-up retries
      const base: NewMessage = { conversationId, direction: it.direction, state: 'unverified', body: null, originId: it.originId, stanzaId: it.stanzaId, sentAt: it.delay?.getTime() ?? clock.now(), receivedAt: clock.now() };
      const replay = inbound.seenDigest(it.base64) || pageDigests.has(it.base64);
      pageDigests.add(it.base64);
      if (o?.ok && !replay) {
        rows.push({ row: { ...base, state: it.direction === 'in' ? 'delivered' : 'sent', body: o.value.body, sentAt: o.value.timestamp.getTime() }, reason: null, peer: it.peer, b64: it.base64 });
      } else {
        const reason = replay ? 'replayed' : !o ? 'no-sender-key' : o.ok ? 'replayed' : o.reason;
        rows.push({ row: base, reason, peer: it.peer, b64: it.base64 });
      }
    });
    if (rows.length === 0) return 0;
    const res = await store.background.insertMany(rows.map((r) => r.row));
    const touched = new Set<string>();
    // One transaction for the page's audit rows: one commit instead of one per message.
    store.transaction(() =>
      res.results.forEach((r, i) => {
        if (!r.inserted) return;
        const x = rows[i]!;
        inbound.remember(x.b64);
        inbound.audited(x.row, r.id, x.peer, x.reason);
        touched.add(x.row.conversationId);
      }),
    );
    for (const c of touched) ctx.emitConversation(c);
    return res.inserted;
  }

  /** Runs the whole catch-up; returns how many messages were stored. */
  async function run(): Promise<number> {
    const r: Run = { pool: await pool(), keys: new Map() };
    let after = store.getSetting<string>(MAM_LAST_SETTING) ?? null;
    let done = 0;
    let stored = 0;
    events.emit('sync:progress', { done: 0, total: null, finished: false });
    let page = await fetchPage(r, after);
    for (;;) {
      // Ask for the next page at once: it streams into the pool while this page is finished.
      const next = !page.complete && page.last ? fetchPage(r, page.last) : null;
      next?.catch(() => undefined);
      stored += await commit(page.pending);
      done += page.count;
      if (page.last) {
        after = page.last;
        store.setSetting(MAM_LAST_SETTING, after);
      }
      events.emit('sync:progress', { done, total: null, finished: !next });
      if (!next) break;
      page = await next;
    }
    logger.info('xmpp: catch-up finished', { fetched: done, stored });
    return stored;
  }

  return { accept, run };
}
