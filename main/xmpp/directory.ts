/**
 * The directory: the roster including the server's shared-roster groups (Prosody mod_groups),
 * display names, roles (from role group names, see roles.ts) and live presence (RFC 6121).
 */
import { xml, type XmlElement } from '@xmpp/client';
import type { Presence } from '../../common/contract/domain';
import type { MessagingContext } from './context';
import { readPresence } from './own-presence';
import { roleFromGroups } from './roles';
import { bare, fromOwnAccount, NS } from './stanzas';

const MAX_NAME = 200;

export function createDirectory(ctx: MessagingContext) {
  const { store, events, clock } = ctx.opts;
  const resources = new Map<string, Map<string, Presence>>(); // bare JID → resource → presence
  /** Bare JID → resource → status text (issue 12 §7); never logged. */
  const statuses = new Map<string, Map<string, string>>();

  function presenceOf(jid: string): Presence {
    const r = resources.get(jid);
    if (!r || r.size === 0) return 'offline';
    const all = [...r.values()];
    return all.includes('available')
      ? 'available'
      : all.includes('dnd')
        ? 'dnd'
        : all.includes('away')
          ? 'away'
          : 'offline';
  }

  /** The status text of the resource whose presence counts (presenceOf's order), else of any. */
  function statusOf(jid: string): string | null {
    const r = resources.get(jid);
    const texts = statuses.get(jid);
    if (!r || !texts) return null;
    const shown = presenceOf(jid);
    for (const [res, p] of r) if (p === shown && texts.has(res)) return texts.get(res)!;
    return null;
  }

  function applyItem(item: XmlElement) {
    const jid = bare(item.attrs.jid);
    if (!jid.includes('@') || jid === ctx.ownJid) return;
    if (item.attrs.subscription === 'remove') return;
    const groups = item.getChildren('group').map((g) => g.getText().trim());
    const name = (item.attrs.name ?? '').trim().slice(0, MAX_NAME) || jid.split('@')[0]!;
    const row = store.contacts.upsert({ jid, displayName: name, role: roleFromGroups(groups) }, clock.now());
    events.emit('contact:updated', ctx.trust.toContact(row));
  }

  async function loadRoster(): Promise<number> {
    const conn = ctx.conn();
    if (!conn) return 0;
    const res = await conn.iq(xml('iq', { type: 'get' }, xml('query', { xmlns: NS.roster })));
    const items = res.getChild('query', NS.roster)?.getChildren('item') ?? [];
    store.transaction(() => items.forEach(applyItem));
    return items.length;
  }

  /**
   * Roster pushes (RFC 6121 §2.1.6), answered by the library's IQ callee; only from our own account
   * — no `from`, or exactly our bare JID: another resource of the account is not the server.
   */
  function handleRosterPush(iq: XmlElement): boolean {
    const q = iq.getChild('query', NS.roster);
    if (!q || !fromOwnAccount(iq.attrs.from, ctx.ownJid)) return false;
    store.transaction(() => q.getChildren('item').forEach(applyItem));
    return true;
  }

  function handlePresence(p: XmlElement) {
    const full = p.attrs.from ?? '';
    const jid = bare(full);
    if (!jid.includes('@') || jid === ctx.ownJid) return;
    const resource = full.slice(jid.length + 1) || '';
    const type = p.attrs.type;
    if (type && type !== 'unavailable') return; // subscriptions are managed by the server's shared roster
    const before = presenceOf(jid);
    const statusBefore = statusOf(jid);
    const map = resources.get(jid) ?? new Map<string, Presence>();
    const texts = statuses.get(jid) ?? new Map<string, string>();
    texts.delete(resource);
    if (type === 'unavailable') map.delete(resource);
    else {
      const read = readPresence(p);
      map.set(resource, read.presence);
      if (read.status) texts.set(resource, read.status);
    }
    resources.set(jid, map);
    statuses.set(jid, texts);
    const after = presenceOf(jid);
    const status = statusOf(jid);
    if (after !== before || status !== statusBefore) events.emit('presence:changed', { jid, presence: after, status });
    // Signed in: someone who had no key publishes it before their presence (session-setup.ts), so
    // messages waiting for them can go now (issue 12 §3).
    if (before === 'offline' && after !== 'offline') ctx.trust.recheck(jid);
  }

  return {
    presenceOf,
    statusOf,
    loadRoster,
    handleRosterPush,
    handlePresence,
    /** On disconnect nobody's presence is known any more. */
    clearPresence() {
      const jids = [...resources.keys()];
      resources.clear();
      statuses.clear();
      for (const jid of jids) events.emit('presence:changed', { jid, presence: 'offline' });
    },
  };
}

export type Directory = ReturnType<typeof createDirectory>;
