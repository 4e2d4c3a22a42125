/**
 * @mentions inside the signed <signcrypt/> payload (issue 18 §4; docs/protocol.md "Mentions"):
 * XEP-0372 references of type "mention", each naming a room member by their real bare JID as an
 * XMPP URI (RFC 5122) and a range of the <body/> text in code points (XEP-0426), begin inclusive
 * and end exclusive. Never in the clear stanza: a mention says who a message is about.
 *
 * Reading is lenient: a reference we cannot use (another type, a URI that is not a bare JID, a
 * range outside the text or inside a reply's fallback quote, an overlap, too many) is dropped and
 * the message kept. Whether the JID is a member of the room is the receiver's check
 * (main/xmpp/room-mentions.ts): the crypto layer does not know the room's members.
 */
import { cleanMentions, type MentionRange } from '../../common/mentions';
import { normalizeBareJid } from './keys';
import { childElements, escapeAttr, type XmlElement } from './xml';

export const REFERENCE_NS = 'urn:xmpp:reference:0';
const URI_PREFIX = 'xmpp:';
const POSITION = /^\d{1,7}$/;

export type { MentionRange };

/** The references written after <body/>; `offset` is the code points of a reply's fallback quote before the text. */
export function mentionsXml(mentions: readonly MentionRange[], offset: number): string {
  return mentions
    .map((m) => {
      const jid = normalizeBareJid(m.jid);
      return `<reference xmlns='${REFERENCE_NS}' type='mention' uri='${escapeAttr(URI_PREFIX + encodeURI(jid))}' begin='${m.begin + offset}' end='${m.end + offset}'/>`;
    })
    .join('');
}

function jidOfUri(uri: string): string | null {
  if (!uri.startsWith(URI_PREFIX) || /[?#/]/.test(uri)) return null;
  try {
    return normalizeBareJid(decodeURIComponent(uri.slice(URI_PREFIX.length)));
  } catch {
    return null;
  }
}

/**
 * The payload's mentions over the text shown (`shown`: the body with `cut` code points of a
 * reply's fallback quote removed from its start), ranges moved to that text.
 */
export function readMentions(payload: XmlElement, shown: string, cut: number): MentionRange[] {
  const found: MentionRange[] = [];
  for (const ref of childElements(payload, 'reference', REFERENCE_NS)) {
    if (ref.attrs.type !== 'mention') continue;
    const jid = jidOfUri(ref.attrs.uri ?? '');
    const { begin, end } = ref.attrs;
    if (!jid || !begin || !end || !POSITION.test(begin) || !POSITION.test(end)) continue;
    // A range inside the quote of a reply is not about this message's text.
    if (Number(begin) < cut) continue;
    found.push({ jid, begin: Number(begin) - cut, end: Number(end) - cut });
  }
  return cleanMentions(shown, found);
}
