/**
 * Typed failures of the OX layer. `reason` is a closed list so the XMPP layer can store a
 * message as "could not be verified" and audit the reason without ever seeing plaintext.
 * Messages here never contain message text or key material.
 */

/** Why an incoming signcrypt was refused (PROTOCOL.md "Receiving: reject unless all hold"). */
export const rejectReasons = [
  'not-signed', // decrypted, but carries no signature (XEP-0373 §3.1 requires <signcrypt/> to be signed)
  'wrong-signer', // signed, but not (validly) by the sender's pinned key
  'bad-recipient', // inner <to/> does not name us: re-addressed / forwarded
  'bad-time', // inner <time/> missing, unparsable or too far from the delay stamp / now
  'malformed', // bad base64, bad OpenPGP packets, bad UTF-8 or XML, missing elements
  'too-large', // over the size limits, checked before any parsing
  'decrypt-failed', // not encrypted to our key, or the ciphertext does not decrypt
] as const;
export type RejectReason = (typeof rejectReasons)[number];

export class SigncryptRejectedError extends Error {
  readonly reason: RejectReason;
  constructor(reason: RejectReason, message?: string) {
    super(message ?? `signcrypt rejected: ${reason}`);
    this.name = 'SigncryptRejectedError';
    this.reason = reason;
  }
}

export const isRejectReason = (v: unknown): v is RejectReason =>
  typeof v === 'string' && (rejectReasons as readonly string[]).includes(v);

/** Why a contact's public key (or our own secret key) was refused. */
export const keyRejectReasons = [
  'malformed', // not an OpenPGP key, or a secret key where a public one was expected
  'fingerprint-mismatch', // not the key the public-keys-list announced (XEP-0373 §4.3)
  'bad-user-id', // no valid self-certified user ID exactly `xmpp:<bare JID>` (XEP-0373 §4.1)
  'expired',
  'revoked',
  'unsupported-algorithm', // not a v4 ECC key (GnuPG 2.2 peers cannot read v6 keys)
  'locked', // a secret key that is passphrase-protected
] as const;
export type KeyRejectReason = (typeof keyRejectReasons)[number];

export class KeyRejectedError extends Error {
  readonly reason: KeyRejectReason;
  constructor(reason: KeyRejectReason, message?: string) {
    super(message ?? `OpenPGP key rejected: ${reason}`);
    this.name = 'KeyRejectedError';
    this.reason = reason;
  }
}
