/**
 * @mentions in care-team rooms (issue 18 §4; docs/protocol.md "Mentions"): which mentions a
 * message may carry when sent, and what a received one's mentions become in its row. A mention is
 * of a member of the room; one of anybody else is dropped, never sent and never kept. The ranges
 * themselves are checked by common/mentions.ts (cleanMentions).
 */
import { cleanMentions, type MentionRange } from '../../common/mentions';
import { membersAt, type AffiliationChange } from '../crypto/room-membership';
import type { Store } from '../store';

/**
 * The mentions a new message to `peer` keeps: in a room only, of its members now other than us,
 * with ranges that fit the text. The outbox signs what is stored; encrypting drops anyone removed
 * from the room since (room-message.ts).
 */
export function mentionsToSend(
  store: Store,
  ownJid: string,
  peer: string,
  body: string,
  mentions: readonly MentionRange[] | undefined,
): MentionRange[] {
  if (!mentions?.length || !store.rooms.get(peer)) return [];
  const members = new Set(store.rooms.members(peer).map((m) => m.jid));
  return cleanMentions(body, mentions, (jid) => jid !== ownJid && members.has(jid));
}

/**
 * A verified room message's mentions as its row keeps them: those of people who were members when
 * the server stamped it (`at`, with the archive's whole-second tolerance), and whether one is us
 * (only on a message from someone else: we do not notify ourselves). `changes` is the room's
 * recorded member changes, read only when there are mentions (the caller reads them once per batch).
 */
export function receivedMentions(
  changes: () => readonly AffiliationChange[],
  ownJid: string,
  at: number,
  direction: 'in' | 'out',
  mentions: readonly MentionRange[],
): { mentions?: MentionRange[]; mentionsMe?: true } {
  if (mentions.length === 0) return {};
  const members = membersAt(changes(), new Date(at + 999));
  const kept = mentions.filter((m) => members.has(m.jid));
  if (kept.length === 0) return {};
  return { mentions: kept, ...(direction === 'in' && kept.some((m) => m.jid === ownJid) ? { mentionsMe: true } : {}) };
}
