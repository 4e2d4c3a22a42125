/**
 * The signed, encrypted payload of a read-state item (XEP-0490 Message Displayed Synchronization,
 * issue 12 §6; docs/protocol.md "Read state across workstations"). XEP-0490 puts a plain
 * <displayed/> on a PEP node; we put it inside a <signcrypt/> encrypted and signed to our own key
 * only, so the server cannot read which conversations we read nor move our read state, and a
 * workstation applies only what a workstation of ours signed. Pure functions, no I/O, no logging.
 *
 * The checks mirror signcrypt.ts (decrypt with our key, every signature valid and by the expected
 * key, <to/> names us, sane <time/>); the payload differs, so it is opened here.
 */
import * as openpgp from 'openpgp';
import { randomInt } from 'node:crypto';
import { SigncryptRejectedError, type RejectReason } from './errors';
import { normalizeBareJid, type Identity } from './keys';
import { CLINIC_NS, decodeBase64Strict, decryptAndVerify, defaultOxLimits, OX_NS, type OxLimits } from './signcrypt';
import { formatXmppDateTime, parseXmppDateTime } from './time';
import { childElements, escapeAttr, parseXml, XmlError, type XmlElement } from './xml';

/** XEP-0490 §4: the node and the payload's namespace. */
export const MDS_NS = 'urn:xmpp:mds:displayed:0';
const SID_NS = 'urn:xmpp:sid:0';
/** Archive ids are ~16–40 chars (Prosody: a UUID); a longer one is not ours. */
const MAX_ID = 128;
/** A read marker is a few hundred bytes; anything near these limits is not one of ours. */
const LIMITS: OxLimits = { ...defaultOxLimits, maxBase64Chars: 16 * 1024, maxPlaintextBytes: 4 * 1024, maxXmlDepth: 8 };

export interface ReadMark {
  /** The colleague's bare JID: the conversation (also the PEP item id, which is not signed). */
  peer: string;
  /** XEP-0359 stanza-id our own archive gave the newest message read (`by` = our bare JID). */
  stanzaId: string;
}

export interface OpenedReadMark extends ReadMark {
  /** When the workstation that read it signed the item. */
  timestamp: Date;
}

const reject = (reason: RejectReason, msg: string) => new SigncryptRejectedError(reason, msg);

function randomPad(): string {
  const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let s = '';
  for (let i = randomInt(16, 65); i > 0; i--) s += abc[randomInt(abc.length)];
  return s;
}

/** The plaintext: <to/> our own bare JID, the XEP-0490 element, and which conversation it is for. */
export function buildReadMarkXml(identity: Identity, mark: ReadMark, now: Date): string {
  const own = identity.bareJid;
  const peer = normalizeBareJid(mark.peer);
  if (!mark.stanzaId || mark.stanzaId.length > MAX_ID) throw new RangeError('read mark needs a stanza-id');
  return (
    `<signcrypt xmlns='${OX_NS}'><to jid='${escapeAttr(own)}'/><time stamp='${formatXmppDateTime(now)}'/>` +
    `<rpad>${randomPad()}</rpad><payload>` +
    `<displayed xmlns='${MDS_NS}'><stanza-id xmlns='${SID_NS}' id='${escapeAttr(mark.stanzaId)}' by='${escapeAttr(own)}'/></displayed>` +
    `<conversation xmlns='${CLINIC_NS}' jid='${escapeAttr(peer)}'/></payload></signcrypt>`
  );
}

/** Signed by and encrypted to our own key only: no colleague can read it. Base64 of the binary message. */
export async function sealReadMark(identity: Identity, mark: ReadMark, now: Date): Promise<string> {
  const message = await openpgp.createMessage({
    binary: new TextEncoder().encode(buildReadMarkXml(identity, mark, now)),
  });
  const encrypted = await openpgp.encrypt({
    message,
    encryptionKeys: identity.publicKey,
    signingKeys: identity.privateKey,
    format: 'binary',
    date: now,
  });
  return Buffer.from(encrypted).toString('base64');
}

const only = (parent: XmlElement, name: string, ns: string): XmlElement => {
  const found = childElements(parent, name, ns);
  if (found.length !== 1) throw reject('malformed', `need exactly one <${name}/>`);
  return found[0]!;
};

/** The checks on the verified plaintext: ours, timely, exactly one well-formed mark. */
function readMarkXml(identity: Identity, data: Uint8Array, now: Date): OpenedReadMark {
  let root: XmlElement;
  try {
    root = parseXml(new TextDecoder('utf-8', { fatal: true }).decode(data), {
      maxDepth: LIMITS.maxXmlDepth,
      maxNodes: 64,
    });
  } catch (err) {
    if (err instanceof XmlError || err instanceof TypeError) throw reject('malformed', 'bad UTF-8 or XML');
    throw err;
  }
  if (root.name !== 'signcrypt' || root.ns !== OX_NS) throw reject('malformed', 'not a <signcrypt/> element');
  const own = identity.bareJid;
  const to = childElements(root, 'to', OX_NS).map((t) => (t.attrs.jid ?? '').toLowerCase());
  // Only to ourselves: a message to a colleague (also encrypted to our key) is never a read mark.
  if (to.length !== 1 || to[0] !== own) throw reject('bad-recipient', 'inner <to/> is not our own JID alone');
  const timestamp = parseXmppDateTime(only(root, 'time', OX_NS).attrs.stamp ?? '');
  // No lower bound: a workstation may catch up weeks later. Older marks never undo newer reads (the caller).
  if (!timestamp || timestamp.getTime() - now.getTime() > LIMITS.maxFutureMs)
    throw reject('bad-time', '<time/> missing or in the future');
  const payload = only(root, 'payload', OX_NS);
  const sid = only(only(payload, 'displayed', MDS_NS), 'stanza-id', SID_NS);
  const stanzaId = sid.attrs.id ?? '';
  if (!stanzaId || stanzaId.length > MAX_ID) throw reject('malformed', 'bad stanza-id');
  if ((sid.attrs.by ?? '').toLowerCase() !== own) throw reject('malformed', 'stanza-id is not of our archive');
  let peer: string;
  try {
    peer = normalizeBareJid(only(payload, 'conversation', CLINIC_NS).attrs.jid ?? '');
  } catch (err) {
    if (err instanceof SigncryptRejectedError) throw err;
    throw reject('malformed', 'bad conversation JID');
  }
  if (peer === own) throw reject('malformed', 'a conversation with ourselves');
  return { peer, stanzaId, timestamp };
}

/** Opens an item's <openpgp/> text; throws SigncryptRejectedError (never with content) when it is not ours. */
export async function openReadMark(identity: Identity, base64: string, now: Date): Promise<OpenedReadMark> {
  const bytes = decodeBase64Strict(base64, LIMITS.maxBase64Chars);
  // Every signature valid and by our own key: only our workstations write these marks.
  const data = await decryptAndVerify(identity.privateKey, identity.publicKey, bytes, now, LIMITS);
  return readMarkXml(identity, data, now);
}
