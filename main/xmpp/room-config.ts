/**
 * What a care-team room says about its own configuration (issue 18 §4, §5; docs/protocol.md
 * "Care-team rooms"). Two things the app acts on, read from the room's disco#info features
 * (XEP-0045 §15.6): whether the room still keeps the clinic's policy (members-only and
 * non-anonymous: the receive check needs both), and whether it is an announcement room (only its
 * owners post: deploy/prosody's mod_muc_clinic_policy advertises ANNOUNCEMENT_FEATURE and enforces
 * it). And which stanzas from a room say that its configuration changed (XEP-0045 §10.2.1 status
 * codes), after which the workstation reads the features again. Pure: no I/O.
 */
import type { XmlElement } from '@xmpp/client';
import { infoFeatures, policyProblems, type RoomPolicyProblem } from './room-setup';
import { MUC_NS } from './room-stanzas';

export type { RoomPolicyProblem };

/** An announcement room (mod_muc_clinic_policy.lua): only the room's owners post. */
export const ANNOUNCEMENT_FEATURE = 'urn:clinic-messenger:rooms:announcement';

export interface RoomConfig {
  announcement: boolean;
  /** Empty while the room keeps the clinic's policy. */
  problems: RoomPolicyProblem[];
}

/** Reads a disco#info result of a room, by room-setup.ts's one rule for what a safe room says. */
export function readRoomConfig(info: XmlElement): RoomConfig {
  const features = infoFeatures(info);
  return { announcement: features.has(ANNOUNCEMENT_FEATURE), problems: policyProblems(features) };
}

/**
 * XEP-0045 status codes that tell occupants the room's configuration changed: 104 (a setting,
 * members-only and announcement among them), 170/171 (archiving), 172/173/174 (now non-, semi- or
 * fully anonymous).
 */
const CONFIG_CODES: ReadonlySet<string> = new Set(['104', '170', '171', '172', '173', '174']);
/** In a presence only the anonymity codes count: 170 there says at every join that the room is archived. */
const PRESENCE_CODES: ReadonlySet<string> = new Set(['172', '173', '174']);

/**
 * The room (bare JID, lower case) whose configuration `el` says changed, else null: a groupchat
 * message from the room itself (Prosody's notice), or a presence from one of its occupants,
 * carrying one of those codes. Only a prompt to read the room's disco#info again: nothing in the
 * stanza itself is believed.
 */
export function configChangeNotice(el: XmlElement): string | null {
  const from = String(el.attrs.from ?? '');
  const slash = from.indexOf('/');
  let codes: ReadonlySet<string>;
  if (el.is('message') && el.attrs.type === 'groupchat' && slash < 0) codes = CONFIG_CODES;
  else if (el.is('presence') && slash > 0 && el.attrs.type !== 'error') codes = PRESENCE_CODES;
  else return null;
  const said = (el.getChild('x', MUC_NS.user)?.getChildren('status') ?? []).map((s) => String(s.attrs.code));
  if (!said.some((c) => codes.has(c))) return null;
  const room = (slash < 0 ? from : from.slice(0, slash)).toLowerCase();
  return room.includes('@') ? room : null;
}

/** The problems as stored and audited (`open,anonymous`), and back; unknown words are dropped. */
export const problemsText = (p: readonly RoomPolicyProblem[]): string | null => (p.length ? p.join(',') : null);
export const problemsFrom = (text: string | null): RoomPolicyProblem[] =>
  (text ?? '').split(',').filter((w): w is RoomPolicyProblem => w === 'open' || w === 'anonymous');
