/**
 * Catch-up on connect (issue 5 §6): paged MAM query (XEP-0313 §4, RSM XEP-0059) from the last
 * archive id we finished; each page is decrypted + verified on the crypto decrypt pool (every
 * core) while the next page is being fetched, then inserted in one transaction. Progress goes
 * to the UI as 'sync:progress'. The last id is saved only after a page is stored.
 */
import { randomUUID } from 'node:crypto';
import type { XmlElement } from '@xmpp/client';
import type { ContactKey, DecryptPool } from '../crypto';
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

export function createCatchUp({ ctx, inbound, pool }: CatchUpDeps) {
  const { store, events, logger, clock } = ctx.opts;
  const collectors = new Map<string, XmlElement[]>();

  /** Called for every inbound <message/>; true when it was an archive result of ours. */
  function accept(el: XmlElement): boolean {
    const result = el.getChild('result', NS.mam);
    if (!result) return false;
    const from = bare(el.attrs.from);
    const list = collectors.get(result.attrs.queryid ?? '');
    // Only our own server may answer our queries (XEP-0313 §5: from our bare JID or absent).
    if (list && (!from || from === ctx.ownJid)) list.push(result);
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
    if (!peer || peer === ctx.ownJid) return null;
    return { peer, direction: out ? 'out' : 'in', base64: ox.getText(), originId: originIdOf(m), stanzaId: result.attrs.id, delay: delayOf(fwd) };
  }

  async function fetchPage(after: string | null): Promise<{ results: XmlElement[]; last: string | null; complete: boolean }> {
    const conn = ctx.conn();
    if (!conn?.isReady()) throw new Error('not connected');
    const queryId = randomUUID();
    const results: XmlElement[] = [];
    collectors.set(queryId, results);
    try {
      const res = await conn.iq(mamQuery(queryId, after, PAGE), 60_000);
      const fin = res.getChild('fin', NS.mam);
      return {
        results,
        last: fin?.getChild('set', NS.rsm)?.getChildText('last') ?? null,
        complete: fin?.attrs.complete === 'true' || results.length === 0,
      };
    } finally {
      collectors.delete(queryId);
    }
  }

  const prof = process.env.XMPP_PROFILE ? (label: string, t: number) => console.error(`[catch-up] ${label} ${(performance.now() - t).toFixed(1)}ms`) : () => {};
  async function processPage(results: XmlElement[]): Promise<number> {
    let t = performance.now();
    const items = results.map(toItem).filter((x): x is OxItem => x !== null);
    const fresh: { it: OxItem; conversationId: string }[] = [];
    for (const it of items) {
      const conv = store.conversations.getOrCreate(it.peer, clock.now());
      const dup = inbound.existing(conv.id, it);
      if (dup) {
        if (dup.direction === 'out' && it.stanzaId) store.messages.setStanzaId(dup.id, it.stanzaId);
        continue;
      }
      fresh.push({ it, conversationId: conv.id });
    }
    if (fresh.length === 0) return 0;
    // Parse each sender's key once per page (PROTOCOL.md "Speed").
    const keys = new Map<string, ContactKey | null>();
    for (const f of fresh) {
      const k = `${f.it.direction}:${f.it.peer}`;
      if (!keys.has(k)) keys.set(k, await inbound.senderKey(f.it));
    }
    prof('dedup+keys', t);
    t = performance.now();
    const identity = ctx.identity();
    const p = await pool();
    const jobs = fresh.map((f) => ({ f, key: keys.get(`${f.it.direction}:${f.it.peer}`) ?? null }));
    const runnable = jobs.filter((j) => j.key && identity && !inbound.seenDigest(j.f.it.base64));
    const outcomes = await p.openMany(
      runnable.map((j) => ({
        senderKey: j.key!,
        base64: j.f.it.base64,
        ourJid: j.f.it.direction === 'in' ? ctx.ownJid : j.f.it.peer,
        delayStamp: j.f.it.delay,
        now: new Date(clock.now()),
      })),
    );
    prof(`decrypt ${runnable.length}`, t);
    t = performance.now();
    const byJob = new Map(runnable.map((j, i) => [j, outcomes[i]!]));
    const rows: { row: NewMessage; reason: string | null; peer: string; b64: string }[] = [];
    for (const j of jobs) {
      const { it, conversationId } = j.f;
      const o = byJob.get(j);
      const base: NewMessage = { conversationId, direction: it.direction, state: 'unverified', body: null, originId: it.originId, stanzaId: it.stanzaId, sentAt: it.delay?.getTime() ?? clock.now(), receivedAt: clock.now() };
      if (o?.ok) {
        rows.push({ row: { ...base, state: it.direction === 'in' ? 'delivered' : 'sent', body: o.value.body, sentAt: o.value.timestamp.getTime() }, reason: null, peer: it.peer, b64: it.base64 });
      } else {
        const reason = !o ? (j.key ? 'replayed' : 'no-sender-key') : o.reason;
        if (reason === 'internal') continue; // pool trouble, not the message's fault: the next catch-up retries it
        rows.push({ row: base, reason, peer: it.peer, b64: it.base64 });
      }
    }
    const res = await store.background.insertMany(rows.map((r) => r.row));
    prof('insert', t);
    t = performance.now();
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
    prof('audit+emit', t);
    return res.inserted;
  }

  /** Runs the whole catch-up; returns how many messages were stored. */
  async function run(): Promise<number> {
    let after = store.getSetting<string>(MAM_LAST_SETTING) ?? null;
    let done = 0;
    let stored = 0;
    events.emit('sync:progress', { done: 0, total: null, finished: false });
    let tf = performance.now();
    let page = await fetchPage(after);
    for (;;) {
      // Fetch the next page while this one is decrypted (the server and the cores work in parallel).
      const nextAfter = page.last;
      const next = !page.complete && nextAfter ? fetchPage(nextAfter) : null;
      next?.catch(() => undefined);
      prof('fetch wait', tf);
      stored += await processPage(page.results);
      done += page.results.length;
      if (page.last) {
        after = page.last;
        store.setSetting(MAM_LAST_SETTING, after);
      }
      events.emit('sync:progress', { done, total: null, finished: !next });
      if (!next) break;
      tf = performance.now();
      page = await next;
    }
    logger.info('xmpp: catch-up finished', { fetched: done, stored });
    return stored;
  }

  return { accept, run };
}
