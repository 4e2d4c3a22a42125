/** Real keys and hand-crafted OpenPGP messages for the crypto tests (no mocks). */
import * as openpgp from 'openpgp';
import {
  generateIdentity,
  loadIdentity,
  parseContactKey,
  type ContactKey,
  type Identity,
  type OpenedSigncrypt,
} from '../../main/crypto/index';
import { checkSigncryptPlaintext, defaultOxLimits } from '../../main/crypto/signcrypt';

export interface Party {
  jid: string;
  identity: Identity;
  /** The public key as a contact would pin it. */
  contact: ContactKey;
}

/** Keys are dated well before the tests' fixed clocks so back-dated messages stay signable. */
export const KEY_DATE = new Date('2026-01-01T00:00:00Z');

export async function makeParty(jid: string): Promise<Party> {
  const g = await generateIdentity(jid, { date: KEY_DATE });
  const identity = await loadIdentity(g.armoredSecretKey);
  const contact = await parseContactKey(jid, g.publicKeyBinary, g.fingerprint);
  return { jid, identity, contact };
}

/** One party per JID, made in parallel, in the order given. */
export function makeParties<const J extends readonly string[]>(...jids: J): Promise<{ [K in keyof J]: Party }> {
  return Promise.all(jids.map(makeParty)) as Promise<{ [K in keyof J]: Party }>;
}

/** An admin signing key as `clinic-admin keygen` makes one (OpenPGP v4 Ed25519), decrypted, dated KEY_DATE. */
export async function adminKey(name: string): Promise<openpgp.PrivateKey> {
  const { privateKey } = await openpgp.generateKey({
    type: 'ecc',
    curve: 'curve25519Legacy',
    userIDs: [{ name }],
    date: KEY_DATE,
    format: 'object',
  });
  return privateKey;
}

/**
 * Sign (optionally) and encrypt arbitrary plaintext bytes, the way a hostile peer could.
 * `date` is required: it is the signature's creation time and must come from the same clock the
 * receiver verifies against. Left to openpgp it would be the wall clock, and a test with a fixed
 * `now` would pass only on the day it was written.
 */
export async function craft(opts: {
  plaintext: string | Uint8Array;
  encryptTo: Party[];
  signedBy?: Party;
  config?: openpgp.PartialConfig;
  date: Date;
}): Promise<string> {
  const binary = typeof opts.plaintext === 'string' ? new TextEncoder().encode(opts.plaintext) : opts.plaintext;
  const out = await openpgp.encrypt({
    message: await openpgp.createMessage({ binary }),
    encryptionKeys: opts.encryptTo.map((p) => p.identity.publicKey),
    ...(opts.signedBy ? { signingKeys: opts.signedBy.identity.privateKey } : {}),
    format: 'binary',
    ...(opts.config ? { config: opts.config } : {}),
    date: opts.date,
  });
  return Buffer.from(out).toString('base64');
}

export const stamp = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

export function signcryptXml(opts: { to: string[]; time: string; body: string; extra?: string }): string {
  return (
    `<signcrypt xmlns='urn:xmpp:openpgp:0'>${opts.to.map((t) => `<to jid='${t}'/>`).join('')}` +
    `<time stamp='${opts.time}'/><rpad>abc</rpad>` +
    `<payload><body xmlns='jabber:client'>${opts.body}</body>${opts.extra ?? ''}</payload></signcrypt>`
  );
}

/**
 * The receive checks on a plaintext <signcrypt/> whose <payload/> holds `payload`, as Bob
 * (bob@clinic.test) receives it at `now`: for tests of the payload's elements (replies, edits).
 */
export function openPayload(payload: string, now: Date): OpenedSigncrypt {
  const xml =
    `<signcrypt xmlns='urn:xmpp:openpgp:0'><to jid='bob@clinic.test'/><time stamp='${stamp(now)}'/>` +
    `<rpad>x</rpad><payload>${payload}</payload></signcrypt>`;
  return checkSigncryptPlaintext(new TextEncoder().encode(xml), {
    ourJid: 'bob@clinic.test',
    now,
    limits: defaultOxLimits,
    senderFingerprint: 'F'.repeat(40),
  });
}

/** A XEP-0374 <body/> in the jabber:client namespace. */
export const bodyXml = (t: string): string => `<body xmlns='jabber:client'>${t}</body>`;
