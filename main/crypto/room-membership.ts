/**
 * Who was a member of a care-team room at a given time (issue 18). A room's member list is its
 * XEP-0045 affiliation list; the receiver records each change it learns (the room's affiliation
 * list at join, and each later change with the server's time) and asks here whether a message's
 * sender was a member when the server stamped that message. Pure: no I/O, no clock of its own.
 */
import { normalizeBareJid } from './keys';

/** XEP-0045 affiliations; `none` and `outcast` are not members. */
export type RoomAffiliation = 'owner' | 'admin' | 'member' | 'none' | 'outcast';

const MEMBER_AFFILIATIONS: ReadonlySet<RoomAffiliation> = new Set(['owner', 'admin', 'member']);

export const isMemberAffiliation = (a: RoomAffiliation): boolean => MEMBER_AFFILIATIONS.has(a);

/** One change of one person's affiliation, as of `at` (the server's time of the change). */
export interface AffiliationChange {
  jid: string;
  affiliation: RoomAffiliation;
  at: Date;
}

/** Changes as the store records them (`at` in ms since the epoch), for membersAt and its kin. */
export const recordedChanges = (
  records: readonly { jid: string; affiliation: RoomAffiliation; at: number }[],
): AffiliationChange[] => records.map((c) => ({ ...c, at: new Date(c.at) }));

/**
 * The bare JIDs that were members at `at`: for each person, their last change at or before `at`
 * decides (changes at the same instant: the later one in the list wins). A person with no change
 * at or before `at` was not a member then.
 */
export function membersAt(changes: readonly AffiliationChange[], at: Date): Set<string> {
  const members = new Set<string>();
  for (const [jid, affiliation] of affiliationsAt(changes, at)) if (isMemberAffiliation(affiliation)) members.add(jid);
  return members;
}

/**
 * Each person's affiliation at `at`, by the same rule as membersAt; a person with no change at or
 * before `at` is absent (affiliation `none`).
 */
export function affiliationsAt(changes: readonly AffiliationChange[], at: Date): Map<string, RoomAffiliation> {
  const last = new Map<string, { affiliation: RoomAffiliation; t: number; i: number }>();
  changes.forEach((c, i) => {
    const t = c.at.getTime();
    if (!Number.isFinite(t) || t > at.getTime()) return;
    const jid = normalizeBareJid(c.jid);
    const prev = last.get(jid);
    if (!prev || t > prev.t || (t === prev.t && i > prev.i)) last.set(jid, { affiliation: c.affiliation, t, i });
  });
  return new Map([...last].map(([jid, v]) => [jid, v.affiliation]));
}

/**
 * Whether `jid` may post in the room at `at` (issue 18 §4): in an announcement room only an owner
 * does; in any other room every member does. Owner means the room's own list, never a server
 * admin's implicit ownership (who is on no list, so not a member either).
 */
export function mayPostAt(
  changes: readonly AffiliationChange[],
  jid: string,
  at: Date,
  announcement: boolean,
): boolean {
  const affiliation = affiliationsAt(changes, at).get(normalizeBareJid(jid)) ?? 'none';
  return announcement ? affiliation === 'owner' : isMemberAffiliation(affiliation);
}
