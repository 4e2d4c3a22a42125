/**
 * Presence a person sets, on the wire (RFC 6121 §4.7: <show/> and <status/>; issue 12 §7). The
 * mapping, also in docs/protocol.md:
 *   Available        → no <show/>            (+ their status text, if any)
 *   With a patient   → <show>dnd</show>      + <status>With a patient</status> (fixed text: any client reads it)
 *   Busy / DND       → <show>dnd</show>      (+ their status text)
 *   Away             → <show>away</show>     (+ their status text)
 * A locked session is not connected (the session stops messaging at lock), so colleagues see it
 * as unavailable ("Offline") — the truth: nobody can read at a locked workstation. Status text
 * is not PHI by clinic policy, but it is capped (STATUS_TEXT_MAX) and never logged.
 */
import { xml, type XmlElement } from '@xmpp/client';
import { STATUS_TEXT_MAX, type OwnPresence, type OwnPresenceShow, type Presence } from '../../common/contract/domain';
import { capsElement } from './caps';
import type { XmppConnection } from './transport/connection';

export const WITH_A_PATIENT = 'With a patient';

const SHOW: Readonly<Record<OwnPresenceShow, 'dnd' | 'away' | null>> = {
  available: null,
  patient: 'dnd',
  dnd: 'dnd',
  away: 'away',
};

/** Strips control characters (XML cannot carry most of them) and caps the length. */
export function cleanStatus(text: string): string {
  return (
    text
      // eslint-disable-next-line no-control-regex -- removing control characters is the point
      .replace(/[\u0000-\u001f\u007f]/g, ' ')
      .trim()
      .slice(0, STATUS_TEXT_MAX)
  );
}

/** Our presence stanza, with our capabilities (caps.ts) as every presence of ours carries them. */
export function ownPresenceStanza(p: OwnPresence): XmlElement {
  const show = SHOW[p.show];
  const status = p.show === 'patient' ? WITH_A_PATIENT : cleanStatus(p.status);
  return xml(
    'presence',
    {},
    show ? xml('show', {}, show) : null,
    status ? xml('status', {}, status) : null,
    capsElement(),
  );
}

/** A colleague's available presence as we show it: dnd, away (away and xa), else available. */
export function readPresence(p: XmlElement): { presence: Presence; status: string | null } {
  const show = p.getChildText('show');
  const presence: Presence = show === 'dnd' ? 'dnd' : show === 'away' || show === 'xa' ? 'away' : 'available';
  const status = cleanStatus(p.getChildText('status') ?? '');
  return { presence, status: status || null };
}

/** Sends it now when connected. Best effort: offline, the next connect sends the saved presence (session-setup.ts). */
export function sendOwnPresence(c: XmppConnection | null, p: OwnPresence): void {
  // A failed send is not retried: the next connect sends the saved presence anyway.
  if (c?.isReady()) void c.send(ownPresenceStanza(p)).catch(() => undefined);
}
