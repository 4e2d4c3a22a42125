/**
 * Making and managing a care-team room (issue 18 §1; XEP-0045 §10, §9): the one place that says
 * what a room's safe configuration is, and the stanzas that create a room, set it and change its
 * member list. `clinic-admin rooms` (admin/rooms/) uses them as the server's admin account; the
 * app uses them when staff create a room within policy, and the workstation's own reading of a
 * room's features (room-config.ts) uses the same rule. admin/ may import this file
 * (eslint.config.js, local/layering): it imports only pure stanza modules of main/xmpp.
 *
 * The server keeps rooms this way whatever a client submits (deploy/prosody's
 * mod_muc_clinic_policy, ejabberd's default_room_options); the form says it again so a server with
 * other defaults does not make a weaker room, and the room's disco#info is checked afterwards.
 */
import { xml, type XmlElement } from '@xmpp/client';

import { findService, NS_DISCO_INFO, type IqCall } from './disco';
import { MUC_NS } from './room-stanzas';

export const NS_MUC_OWNER = 'http://jabber.org/protocol/muc#owner';
const NS_DATA = 'jabber:x:data';
const ROOMCONFIG = 'http://jabber.org/protocol/muc#roomconfig';

/**
 * The room configuration every care-team room has (XEP-0045 §16.5 fields; Prosody's own name for
 * member invitations): members-only, real JIDs visible to every member, persistent, unlisted, no
 * member invitations, archived, no private messages through the room.
 */
export const SAFE_ROOM_CONFIG: Readonly<Record<string, string>> = {
  'muc#roomconfig_membersonly': '1',
  'muc#roomconfig_whois': 'anyone',
  'muc#roomconfig_persistentroom': '1',
  'muc#roomconfig_publicroom': '0',
  'muc#roomconfig_allowinvites': '0',
  '{http://prosody.im/protocol/muc}roomconfig_allowmemberinvites': '0',
  'muc#roomconfig_enablearchiving': '1',
  'muc#roomconfig_allowpm': 'none',
};

/**
 * What a room that keeps the policy says in its disco#info besides members-only and non-anonymous
 * (policyProblems): XEP-0045 §15.2 features and XEP-0313 for its archive, with the words shown
 * when one is missing.
 */
const KEPT_ROOM_FEATURES: Readonly<Record<string, string>> = {
  muc_persistent: 'persistent',
  muc_hidden: 'unlisted',
  'urn:xmpp:mam:2': 'archived',
};

/** What a room no longer keeps: `open` (not members-only), `anonymous` (real JIDs hidden from members). */
export type RoomPolicyProblem = 'open' | 'anonymous';
const PROBLEM_WORDS: Readonly<Record<RoomPolicyProblem, string>> = { open: 'members-only', anonymous: 'non-anonymous' };

/** The feature vars of a disco#info result. */
export const infoFeatures = (result: XmlElement): Set<string> =>
  new Set((result.getChild('query', NS_DISCO_INFO)?.getChildren('feature') ?? []).map((f) => String(f.attrs.var)));

/**
 * The rule every reader of a room's features keeps (the workstation's receive check, staff
 * creation, clinic-admin): a room must say `muc_membersonly` and `muc_nonanonymous`; one that also
 * says the opposite (`muc_open`, `muc_semianonymous`, `muc_anonymous`) is taken at its weaker word.
 */
export function policyProblems(features: ReadonlySet<string>): RoomPolicyProblem[] {
  const problems: RoomPolicyProblem[] = [];
  if (!features.has('muc_membersonly') || features.has('muc_open')) problems.push('open');
  if (!features.has('muc_nonanonymous') || features.has('muc_semianonymous') || features.has('muc_anonymous'))
    problems.push('anonymous');
  return problems;
}

/** The domain's care-team room service: the disco item whose identity is a conference (XEP-0045 §6.1), lower case. */
export const findRoomService = (iq: IqCall, domain: string): Promise<string | null> =>
  findService(iq, domain, (jid, info) =>
    !jid.includes('@') && info.getChildren('identity').some((i) => i.attrs.category === 'conference')
      ? jid.toLowerCase()
      : null,
  );

/** A room's bare JID: a local part of letters, digits, `.` `_` `-` (at most 64), at the service. */
export const ROOM_LOCALPART_RE = /^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$/;

export type RoomAffiliation = 'owner' | 'admin' | 'member' | 'outcast' | 'none';

/** The first presence to a room that does not exist yet creates it (XEP-0045 §10.1.1). */
export const createRoomPresence = (room: string, nick: string): XmlElement =>
  xml('presence', { to: `${room}/${nick}` }, xml('x', { xmlns: MUC_NS.muc }, xml('history', { maxstanzas: '0' })));

export const leaveRoomPresence = (room: string, nick: string): XmlElement =>
  xml('presence', { to: `${room}/${nick}`, type: 'unavailable' });

/** The room's answer to our presence: joined (110, with 201 when we created it) or refused. */
export type PresenceAnswer = { ok: true; created: boolean } | { ok: false; condition: string };

/** Reads the room's answer to our presence to `room/nick`; null when `el` is not that answer. */
export function readJoinAnswer(el: XmlElement, room: string, nick: string): PresenceAnswer | null {
  if (!el.is('presence') || String(el.attrs.from ?? '').toLowerCase() !== `${room}/${nick}`.toLowerCase()) return null;
  if (el.attrs.type === 'error') return { ok: false, condition: errorCondition(el) };
  const codes = (el.getChild('x', MUC_NS.user)?.getChildren('status') ?? []).map((s) => String(s.attrs.code));
  if (!codes.includes('110')) return null;
  return { ok: true, created: codes.includes('201') };
}

/** The defined condition of an error stanza (`not-allowed`, `item-not-found` …). */
export function errorCondition(el: XmlElement): string {
  const error = el.getChild('error');
  const condition = error?.children.find((c): c is XmlElement => typeof c !== 'string' && c.name !== 'text');
  return condition?.name ?? 'undefined-condition';
}

/** The room's configuration form, asked by an owner (XEP-0045 §10.2). */
export const roomConfigQuery = (room: string): XmlElement =>
  xml('iq', { type: 'get', to: room }, xml('query', { xmlns: NS_MUC_OWNER }));

/** The field names a configuration form offers. */
export const offeredFields = (result: XmlElement): Set<string> =>
  new Set(
    (result.getChild('query', NS_MUC_OWNER)?.getChild('x', NS_DATA)?.getChildren('field') ?? []).map((f) =>
      String(f.attrs.var ?? ''),
    ),
  );

/**
 * mod_muc_clinic_policy's field of the room configuration form (deploy/prosody/README.md): an
 * announcement room, which the room's disco#info then says with room-config.ts's
 * ANNOUNCEMENT_FEATURE. Only Prosody with that module offers it.
 */
export const ANNOUNCEMENT_FIELD = '{urn:clinic-messenger:rooms}roomconfig_announcement';

/**
 * The safe configuration with the room's name and description, as a submitted form. Only fields
 * the server's form offers are sent (a server refuses fields it does not know); the name and the
 * description always, and the announcement field when asked for (the caller has checked that the
 * form offers it).
 */
export function safeRoomConfig(
  room: string,
  offered: ReadonlySet<string>,
  o: { name: string; description: string; announcement?: boolean },
): XmlElement {
  const field = (name: string, value: string) => xml('field', { var: name }, xml('value', {}, value));
  const fields = Object.entries(SAFE_ROOM_CONFIG)
    .filter(([name]) => offered.has(name))
    .map(([name, value]) => field(name, value));
  if (o.announcement === true) fields.push(field(ANNOUNCEMENT_FIELD, '1'));
  return xml(
    'iq',
    { type: 'set', to: room },
    xml(
      'query',
      { xmlns: NS_MUC_OWNER },
      xml(
        'x',
        { xmlns: NS_DATA, type: 'submit' },
        xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', {}, ROOMCONFIG)),
        field('muc#roomconfig_roomname', o.name),
        field('muc#roomconfig_roomdesc', o.description),
        ...fields,
      ),
    ),
  );
}

/** Destroys a room (XEP-0045 §10.9): its owner's request. */
export const destroyRoomIq = (room: string): XmlElement =>
  xml('iq', { type: 'set', to: room }, xml('query', { xmlns: NS_MUC_OWNER }, xml('destroy')));

/** The defined condition of an IQ's error answer (@xmpp's StanzaError); null for anything else (a timeout, a lost stream). */
export const stanzaErrorCondition = (err: unknown): string | null =>
  (err as { name?: string } | null)?.name === 'StanzaError'
    ? ((err as { condition?: string }).condition ?? null)
    : null;

/** One affiliation change (XEP-0045 §9.3–9.5, §10.3–10.7); Prosody 0.12 applies one item per request. */
export const setAffiliationIq = (room: string, jid: string, affiliation: RoomAffiliation): XmlElement =>
  xml('iq', { type: 'set', to: room }, xml('query', { xmlns: MUC_NS.admin }, xml('item', { jid, affiliation })));

/** The list of one affiliation (XEP-0045 §9.5). */
export const affiliationQuery = (room: string, affiliation: Exclude<RoomAffiliation, 'none'>): XmlElement =>
  xml('iq', { type: 'get', to: room }, xml('query', { xmlns: MUC_NS.admin }, xml('item', { affiliation })));

/** The bare JIDs of an affiliation-list result, lower case. */
export const readAffiliations = (result: XmlElement): { jid: string; affiliation: string }[] =>
  (result.getChild('query', MUC_NS.admin)?.getChildren('item') ?? [])
    .filter((i) => typeof i.attrs.jid === 'string' && !String(i.attrs.jid).includes('/'))
    .map((i) => ({ jid: String(i.attrs.jid).toLowerCase(), affiliation: String(i.attrs.affiliation ?? '') }));

export const roomInfoQuery = (room: string): XmlElement =>
  xml('iq', { type: 'get', to: room }, xml('query', { xmlns: NS_DISCO_INFO }));

/** What a room's disco#info says: its name, its description, and the safe features it lacks. */
export interface RoomInfo {
  name: string | null;
  description: string | null;
  /** What of the clinic's room policy the room does not keep, in words ("members-only" …); empty when safe. */
  missing: string[];
}

export function readRoomInfo(result: XmlElement): RoomInfo {
  const query = result.getChild('query', NS_DISCO_INFO);
  const features = infoFeatures(result);
  const identity = query?.getChildren('identity').find((i) => i.attrs.category === 'conference');
  const form = query
    ?.getChildren('x', NS_DATA)
    .find((x) =>
      x.getChildren('field').some((f) => f.attrs.var === 'FORM_TYPE' && f.getChildText('value')?.endsWith('#roominfo')),
    );
  const description =
    form
      ?.getChildren('field')
      .find((f) => f.attrs.var === 'muc#roominfo_description')
      ?.getChildText('value') ?? null;
  return {
    name: typeof identity?.attrs.name === 'string' && identity.attrs.name !== '' ? identity.attrs.name : null,
    description: description === '' ? null : description,
    missing: [
      ...policyProblems(features).map((p) => PROBLEM_WORDS[p]),
      ...Object.entries(KEPT_ROOM_FEATURES)
        .filter(([f]) => !features.has(f))
        .map(([, words]) => words),
    ],
  };
}

/**
 * deploy/prosody's mod_muc_clinic_policy: every room of the service with its name, for the
 * server's admins only (the rooms are unlisted). Workstations ask MY_ROOMS_NODE (rooms.ts) instead.
 */
export const ALL_ROOMS_NODE = 'urn:clinic-messenger:rooms:all';
