/**
 * XEP-0045 by hand for the care-team room tests (issue 18): a raw connection of a real account
 * (xmpp-support.ts rawConnection) that records what it receives, and the room operations an
 * admin, an owner, a member or an outsider can attempt. Raw stanzas on purpose: the tests check
 * what the server allows, whatever a client would send.
 */
import { randomUUID } from 'node:crypto';
import { xml, type XmlElement } from '@xmpp/client';
import type { XmppConnection } from '../../main/xmpp/transport/connection';
import type { XmppTestServer } from './xmpp-support';
import { rawConnection, waitFor } from './xmpp-support';

export const MUC_NS = 'http://jabber.org/protocol/muc';
export const MUC_USER_NS = 'http://jabber.org/protocol/muc#user';
export const MUC_ADMIN_NS = 'http://jabber.org/protocol/muc#admin';
export const MUC_OWNER_NS = 'http://jabber.org/protocol/muc#owner';
export const ROOMCONFIG = 'http://jabber.org/protocol/muc#roomconfig';
const DATA_NS = 'jabber:x:data';
const DISCO_INFO = 'http://jabber.org/protocol/disco#info';
const MAM_NS = 'urn:xmpp:mam:2';

export interface MucPerson {
  jid: string;
  conn: XmppConnection;
  /** Everything received since start, in order. */
  seen: XmlElement[];
  stop(): Promise<void>;
}

export async function mucPerson(
  server: XmppTestServer,
  jid: string,
  password: string,
  resource = 'room-test',
  /** Called with each stanza as it arrives, before it is recorded. */
  onStanza: (el: XmlElement) => void = () => {},
): Promise<MucPerson> {
  const seen: XmlElement[] = [];
  const conn = rawConnection(server, jid, password, resource, (el) => {
    onStanza(el);
    seen.push(el);
  });
  await conn.start();
  return { jid, conn, seen, stop: () => conn.stop() };
}

const statusCodes = (p: XmlElement): string[] =>
  (p.getChild('x', MUC_USER_NS)?.getChildren('status') ?? []).map((s) => String(s.attrs.code));

/** The outcome of a join: our own presence back (status 110), or the room's error. */
export type JoinOutcome = { ok: true; codes: string[] } | { ok: false; condition: string };

/** Presence to room/nick; resolves with the room's answer to exactly that presence. */
export async function joinRoom(p: MucPerson, room: string, nick: string): Promise<JoinOutcome> {
  const from = `${room}/${nick}`;
  const start = p.seen.length;
  await p.conn.send(xml('presence', { to: from }, xml('x', { xmlns: MUC_NS }, xml('history', { maxstanzas: '0' }))));
  const answer = await waitFor(`${p.jid}'s answer from ${from}`, () =>
    p.seen
      .slice(start)
      .find(
        (el) =>
          el.is('presence') && el.attrs.from === from && (el.attrs.type === 'error' || statusCodes(el).includes('110')),
      ),
  );
  if (answer.attrs.type === 'error') {
    const error = answer.getChild('error');
    const condition = error?.children.find((c) => typeof c !== 'string' && c.name !== 'text') as XmlElement | undefined;
    return { ok: false, condition: condition?.name ?? 'unknown' };
  }
  return { ok: true, codes: statusCodes(answer) };
}

const field = (name: string, value: string, type?: string) =>
  xml('field', type ? { var: name, type } : { var: name }, xml('value', {}, value));

/** Submits the room configuration form with only `fields` (and FORM_TYPE); {} is an instant room. */
export function configureRoom(p: MucPerson, room: string, fields: Record<string, string>): Promise<XmlElement> {
  const form = Object.keys(fields).length
    ? xml(
        'x',
        { xmlns: DATA_NS, type: 'submit' },
        field('FORM_TYPE', ROOMCONFIG, 'hidden'),
        ...Object.entries(fields).map(([k, v]) => field(k, v)),
      )
    : xml('x', { xmlns: DATA_NS, type: 'submit' });
  return p.conn.iq(xml('iq', { type: 'set', to: room }, xml('query', { xmlns: MUC_OWNER_NS }, form)));
}

/**
 * Sets affiliations (`member`, `owner`, `none` to remove…) through muc#admin, one IQ per person:
 * Prosody 0.12 applies only the first <item/> of a request.
 */
export async function setAffiliations(p: MucPerson, room: string, items: Record<string, string>): Promise<void> {
  for (const [jid, affiliation] of Object.entries(items)) {
    await p.conn.iq(
      xml('iq', { type: 'set', to: room }, xml('query', { xmlns: MUC_ADMIN_NS }, xml('item', { jid, affiliation }))),
    );
  }
}

/** The bare JIDs with `affiliation` in the room (an owner's or admin's view). */
export async function affiliated(p: MucPerson, room: string, affiliation: string): Promise<string[]> {
  const res = await p.conn.iq(
    xml('iq', { type: 'get', to: room }, xml('query', { xmlns: MUC_ADMIN_NS }, xml('item', { affiliation }))),
  );
  return (res.getChild('query', MUC_ADMIN_NS)?.getChildren('item') ?? []).map((i) => String(i.attrs.jid)).sort();
}

/** A room's disco#info features (muc_membersonly, muc_nonanonymous, …). */
export async function roomFeatures(p: MucPerson, room: string): Promise<string[]> {
  const res = await p.conn.iq(xml('iq', { type: 'get', to: room }, xml('query', { xmlns: DISCO_INFO })));
  return (res.getChild('query', DISCO_INFO)?.getChildren('feature') ?? []).map((f) => String(f.attrs.var));
}

/** A room creation: join as the first occupant (status 201), then accept the defaults (instant room). */
export async function createRoom(admin: MucPerson, room: string, nick: string, members: string[]): Promise<void> {
  const joined = await joinRoom(admin, room, nick);
  if (!joined.ok) throw new Error(`could not create ${room}: ${joined.condition}`);
  if (!joined.codes.includes('201')) throw new Error(`${room} already existed`);
  await configureRoom(admin, room, {});
  if (members.length) await setAffiliations(admin, room, Object.fromEntries(members.map((m) => [m, 'member'])));
}

/** The archived groupchat bodies of the room (MUC MAM, XEP-0313), oldest first. */
export async function roomArchiveBodies(p: MucPerson, room: string): Promise<string[]> {
  const queryid = randomUUID();
  const start = p.seen.length;
  await p.conn.iq(xml('iq', { type: 'set', to: room }, xml('query', { xmlns: MAM_NS, queryid })));
  return p.seen
    .slice(start)
    .map((el) => el.getChild('result', MAM_NS))
    .filter((r): r is XmlElement => r?.attrs.queryid === queryid)
    .map((r) => r.getChild('forwarded', 'urn:xmpp:forward:0')?.getChild('message')?.getChildText('body') ?? '');
}

/** The condition of a refused IQ (StanzaError), or 'accepted'. */
export async function refusedWith(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'accepted';
  } catch (err) {
    return (err as { condition?: string }).condition ?? String(err);
  }
}
