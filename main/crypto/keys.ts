/**
 * Account keys for OpenPGP for XMPP (XEP-0373 §4): one v4 Ed25519/Curve25519 key per
 * account, user ID exactly `xmpp:<bare JID>`. Keys are parsed and validated once and then
 * handed around as objects (PROTOCOL.md "Speed": re-checking self-signatures on every
 * message is most of openpgp's cost).
 *
 * The secret key is returned as UNENCRYPTED armor on purpose: the caller stores it inside
 * the SQLCipher cache DB, whose key comes from the vault (passphrase + OS keychain). An
 * OpenPGP passphrase would have to be stored in that same trust domain (there is nobody to
 * type it), so it would add an S2K cost on every unlock and no protection. A copy that ever
 * leaves the workstation (XEP-0373 §5 secret-key backup, not implemented yet) must be
 * encrypted separately with its own backup code.
 */
import * as openpgp from 'openpgp';
import type { PrivateKey, PublicKey, Key } from 'openpgp';
import { KeyRejectedError } from './errors';

export interface Identity {
  readonly bareJid: string;
  /** v4 fingerprint, 40 upper-case hex characters. */
  readonly fingerprint: string;
  readonly privateKey: PrivateKey;
  readonly publicKey: PublicKey;
  readonly publicKeyBinary: Uint8Array;
  /** Kept so a decrypt pool can load the same key inside its worker threads. */
  readonly armoredSecretKey: string;
}

/** A contact's public key, validated once; cache it per (JID, fingerprint). */
export interface ContactKey {
  readonly bareJid: string;
  readonly fingerprint: string;
  readonly publicKey: PublicKey;
  /** Binary transferable public key (what XEP-0373 §4.3 <pubkey><data/> carries). */
  readonly binary: Uint8Array;
}

export interface GeneratedIdentity {
  armoredSecretKey: string;
  publicKeyBinary: Uint8Array;
  fingerprint: string;
}

const JID_RE = /^[^\s/@<>'"&]+@[^\s/@<>'"&]+$/;

/** Lower-cases a bare JID and drops a resource; throws on anything that isn't `local@domain`. */
export function normalizeBareJid(jid: string): string {
  const bare = jid.trim().split('/')[0]!.toLowerCase();
  if (!JID_RE.test(bare)) throw new KeyRejectedError('bad-user-id', 'not a bare JID');
  return bare;
}

/** Fingerprints arrive upper/lower case, sometimes spaced in groups; compare them normalised. */
export function normalizeFingerprint(fpr: string): string {
  return fpr.replace(/\s+/g, '').toUpperCase();
}

const userIdFor = (bareJid: string): string => `xmpp:${bareJid}`;

export async function generateIdentity(bareJid: string, opts: { date?: Date } = {}): Promise<GeneratedIdentity> {
  const jid = normalizeBareJid(bareJid);
  // PROTOCOL.md "Keys": curve25519Legacy gives a v4 EdDSA + ECDH key GnuPG 2.2 reads;
  // RFC 9580 v6 keys it does not.
  const { privateKey } = await openpgp.generateKey({
    type: 'ecc',
    curve: 'curve25519Legacy',
    userIDs: [{ name: userIdFor(jid) }],
    format: 'object',
    ...(opts.date ? { date: opts.date } : {}),
  });
  return {
    armoredSecretKey: privateKey.armor(),
    publicKeyBinary: privateKey.toPublic().write(),
    fingerprint: normalizeFingerprint(privateKey.getFingerprint()),
  };
}

export async function loadIdentity(armoredSecretKey: string, opts: { now?: Date } = {}): Promise<Identity> {
  let privateKey: PrivateKey;
  try {
    privateKey = await openpgp.readPrivateKey({ armoredKey: armoredSecretKey });
  } catch {
    throw new KeyRejectedError('malformed', 'not an OpenPGP secret key');
  }
  if (!privateKey.isDecrypted()) throw new KeyRejectedError('locked', 'secret key is passphrase-protected');
  const xmppIds = privateKey.getUserIDs().filter((u) => u.startsWith('xmpp:'));
  if (xmppIds.length !== 1) throw new KeyRejectedError('bad-user-id', 'secret key needs exactly one xmpp: user ID');
  const bareJid = normalizeBareJid(xmppIds[0]!.slice('xmpp:'.length));
  await validateKey(privateKey, bareJid, opts.now ?? new Date());
  const publicKey = privateKey.toPublic();
  return {
    bareJid,
    fingerprint: normalizeFingerprint(privateKey.getFingerprint()),
    privateKey,
    publicKey,
    publicKeyBinary: publicKey.write(),
    armoredSecretKey,
  };
}

/** Our own key in contact form: the "sender key" for our sent messages read on another device. */
export function identityAsContact(identity: Identity): ContactKey {
  return {
    bareJid: identity.bareJid,
    fingerprint: identity.fingerprint,
    publicKey: identity.publicKey,
    binary: identity.publicKeyBinary,
  };
}

/**
 * Rebuild a ContactKey from a copy that parseContactKey already validated (decrypt workers get
 * the binary across the thread boundary). Only the fingerprint is re-checked: re-running the
 * pin-time policy here could disagree with the main thread. Key validity at signing time is
 * still enforced by openpgp when the signature is verified.
 */
export async function rehydrateContactKey(
  bareJid: string,
  binary: Uint8Array,
  fingerprint: string,
): Promise<ContactKey> {
  const publicKey = await openpgp.readKey({ binaryKey: binary });
  if (publicKey.isPrivate() || normalizeFingerprint(publicKey.getFingerprint()) !== fingerprint) {
    throw new KeyRejectedError('fingerprint-mismatch', 'rehydrated key differs from the validated one');
  }
  return { bareJid, fingerprint, publicKey, binary };
}

/**
 * XEP-0373 §4.3 / PROTOCOL.md "Fetching": the key must be the one the public-keys-list
 * announced and must carry the user ID `xmpp:<that bare JID>`; otherwise it is refused.
 */
export async function parseContactKey(
  bareJid: string,
  binary: Uint8Array,
  expectedFingerprint: string,
  opts: { now?: Date } = {},
): Promise<ContactKey> {
  const jid = normalizeBareJid(bareJid);
  let key: Key;
  try {
    key = await openpgp.readKey({ binaryKey: binary });
  } catch {
    throw new KeyRejectedError('malformed', 'not an OpenPGP public key');
  }
  // A published "public key" that contains secret material is a publisher bug; never keep it.
  if (key.isPrivate()) throw new KeyRejectedError('malformed', 'expected a public key, got a secret key');
  const fingerprint = normalizeFingerprint(key.getFingerprint());
  if (fingerprint !== normalizeFingerprint(expectedFingerprint)) {
    throw new KeyRejectedError('fingerprint-mismatch', 'key fingerprint differs from the announced one');
  }
  await validateKey(key, jid, opts.now ?? new Date());
  const publicKey = key;
  return { bareJid: jid, fingerprint, publicKey, binary: publicKey.write() };
}

const ECC_SIGNING = new Set<string>(['eddsaLegacy', 'ecdsa']);

async function validateKey(key: Key, jid: string, now: Date): Promise<void> {
  if (key.keyPacket.version !== 4) throw new KeyRejectedError('unsupported-algorithm', 'only v4 keys are accepted');
  if (!ECC_SIGNING.has(key.getAlgorithmInfo().algorithm)) {
    throw new KeyRejectedError('unsupported-algorithm', 'only ECC keys are accepted');
  }
  if (await key.isRevoked(undefined, undefined, now)) throw new KeyRejectedError('revoked', 'key is revoked');
  const expires = await key.getExpirationTime();
  if (expires instanceof Date && expires.getTime() <= now.getTime()) {
    throw new KeyRejectedError('expired', 'key has expired');
  }
  try {
    await key.verifyPrimaryKey(now);
  } catch (err) {
    throw classify(err, 'key self-signature does not verify');
  }
  const wanted = userIdFor(jid);
  let userOk = false;
  for (const user of key.users) {
    if (user.userID?.userID !== wanted) continue;
    try {
      await user.verify(now); // self-certified, not revoked, not expired
      userOk = true;
      break;
    } catch {
      /* try the next user packet with the same text */
    }
  }
  if (!userOk) throw new KeyRejectedError('bad-user-id', 'no valid user ID for this JID');
  for (const find of [() => key.getEncryptionKey(undefined, now), () => key.getSigningKey(undefined, now)]) {
    try {
      const k = await find();
      if (k.keyPacket.version !== 4) throw new KeyRejectedError('unsupported-algorithm', 'subkey is not v4');
    } catch (err) {
      throw classify(err, 'no usable encryption/signing key');
    }
  }
  const enc = await key.getEncryptionKey(undefined, now);
  if (enc.getAlgorithmInfo().algorithm !== 'ecdh') {
    throw new KeyRejectedError('unsupported-algorithm', 'encryption subkey is not ECDH');
  }
}

function classify(err: unknown, fallback: string): KeyRejectedError {
  if (err instanceof KeyRejectedError) return err;
  const text = err instanceof Error ? err.message : '';
  if (/revoked/i.test(text)) return new KeyRejectedError('revoked', 'key or subkey is revoked');
  if (/expired/i.test(text)) return new KeyRejectedError('expired', 'key or subkey has expired');
  return new KeyRejectedError('unsupported-algorithm', fallback);
}
