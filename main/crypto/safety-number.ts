/**
 * The safety number two colleagues compare to verify each other's key (issue 12 §8): one 60-digit
 * number, the same on both screens, built as Signal's NumericFingerprintGenerator (version 0)
 * builds it — with the bare JID as the stable identifier and the OpenPGP v4 fingerprint's 20 bytes
 * standing in for the identity key (our keys are pinned by fingerprint; docs/protocol.md
 * "Verifying a key"):
 *
 *   H₀ = 0x0000 ‖ fpr ‖ utf8(bare jid);  Hᵢ = SHA-512(Hᵢ₋₁ ‖ fpr) for i = 1…5200
 *   half = six 5-byte big-endian chunks of H₅₂₀₀, each mod 100000 as 5 digits (30 digits)
 *   number = the two people's halves in ascending order, concatenated (60 digits)
 *
 * Sorting makes it order-independent: both sides compute the same number. The iterations make
 * searching for a key whose half matches someone's 5200 times dearer per try.
 */
import { createHash } from 'node:crypto';
import { KeyRejectedError } from './errors';
import { normalizeBareJid, normalizeFingerprint } from './keys';

const VERSION = Buffer.from([0, 0]);
const ITERATIONS = 5200;

export interface KeyOwner {
  jid: string;
  fingerprint: string;
}

/** 30 digits for one person's key. */
function half(owner: KeyOwner): string {
  const fpr = normalizeFingerprint(owner.fingerprint);
  // Buffer.from(…, 'hex') would silently drop what is not hex: a wrong input must not give a number.
  if (!/^[0-9A-F]{40}$/.test(fpr)) throw new KeyRejectedError('malformed', 'not a v4 fingerprint');
  const key = Buffer.from(fpr, 'hex');
  let hash = Buffer.concat([VERSION, key, Buffer.from(normalizeBareJid(owner.jid), 'utf8')]);
  for (let i = 0; i < ITERATIONS; i++) hash = createHash('sha512').update(hash).update(key).digest();
  let digits = '';
  for (let off = 0; off < 30; off += 5) digits += String(hash.readUIntBE(off, 5) % 100_000).padStart(5, '0');
  return digits;
}

/** The 60-digit safety number of two people's keys; the same whichever of them is `a`. */
export function safetyNumber(a: KeyOwner, b: KeyOwner): string {
  const [x, y] = [half(a), half(b)].sort();
  return `${x}${y}`;
}
