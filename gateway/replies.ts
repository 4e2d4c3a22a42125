/**
 * Patient replies (issue 17 item 3), the OpenPGP side: the public keys a send hands the gateway
 * (the sending staff member's and the clinic's archive key) are checked once, and every reply the
 * patient's browser posts must be an OpenPGP message encrypted to exactly those keys and nothing
 * else (common/patient-reply.ts checks the packet shape; here the recipients). So the gateway never
 * stores or relays a readable reply, even from a page someone altered.
 */
import * as openpgp from 'openpgp';
import { checkEncryptedMessage } from '../common/patient-reply';

/** At most this many reply keys per message, each at most MAX_KEY_BYTES. */
export const MAX_REPLY_KEYS = 4;
export const MAX_KEY_BYTES = 16 * 1024;

/**
 * Checks the keys of a <send/>'s <reply-keys/>: public keys (never a secret key), each able to
 * encrypt at `now`, no two alike. Returns them written one after another (what the page gets).
 */
export async function readReplyKeys(list: Buffer[], now: Date): Promise<{ keys: Buffer } | { problem: string }> {
  if (list.length === 0 || list.length > MAX_REPLY_KEYS) return { problem: `reply-keys: 1 to ${MAX_REPLY_KEYS} keys` };
  const written: Uint8Array[] = [];
  const seen = new Set<string>();
  for (const [i, bytes] of list.entries()) {
    if (bytes.length === 0 || bytes.length > MAX_KEY_BYTES)
      return { problem: `reply-keys: key ${i + 1} is empty or larger than ${MAX_KEY_BYTES / 1024} KiB` };
    let key: openpgp.Key;
    try {
      key = await openpgp.readKey({ binaryKey: bytes });
    } catch {
      return { problem: `reply-keys: key ${i + 1} is not an OpenPGP public key` };
    }
    if (key.isPrivate()) return { problem: `reply-keys: key ${i + 1} is a secret key; send its public key only` };
    try {
      await key.getEncryptionKey(undefined, now);
    } catch {
      return { problem: `reply-keys: key ${i + 1} cannot encrypt (expired, revoked or no encryption subkey)` };
    }
    const fpr = key.getFingerprint();
    if (seen.has(fpr)) return { problem: `reply-keys: key ${i + 1} is given twice` };
    seen.add(fpr);
    written.push(key.write());
  }
  return { keys: Buffer.concat(written) };
}

/**
 * null when `ciphertext` is an OpenPGP message with one public-key recipient for each of the
 * stored reply keys and no other recipient, else why not (a reason code safe to log).
 */
export async function checkReplyCiphertext(ciphertext: Uint8Array, keys: Buffer, now: Date): Promise<string | null> {
  const shape = checkEncryptedMessage(ciphertext);
  if (shape) return 'not-encrypted';
  let message: openpgp.Message<Uint8Array>;
  try {
    message = await openpgp.readMessage({ binaryMessage: ciphertext });
  } catch {
    return 'not-openpgp';
  }
  const wanted = new Set<string>();
  for (const key of await openpgp.readKeys({ binaryKeys: keys })) {
    // A key that no longer encrypts (expired since the send): no reply can be checked against it.
    const sub = await key.getEncryptionKey(undefined, now).catch(() => null);
    if (!sub) return 'key-unusable';
    wanted.add(sub.getKeyID().toHex());
  }
  const got = message.getEncryptionKeyIDs().map((id) => id.toHex());
  if (got.length !== wanted.size || new Set(got).size !== got.length) return 'wrong-recipients';
  for (const id of got) if (!wanted.has(id)) return 'wrong-recipients';
  return null;
}
