/**
 * Attachment encryption (issue 16) in XEP-0448's `urn:xmpp:ciphers:aes-256-gcm-nopadding:0`
 * layout: AES-256-GCM under a fresh 32-byte key and 12-byte IV per file, the ciphertext
 * followed by the 16-byte tag, no padding. Everything streams, so a 500 MB file never sits in
 * memory; the plaintext's size and SHA-256 are computed on the way through.
 *
 * GCM only authenticates at the end, so decrypted bytes are untrusted until the tag, the size
 * and the hash have all been checked. `decryptToSink` therefore writes into a sink that
 * publishes nothing until `commit()` and leaves nothing behind on `abort()`; every mismatch is
 * one typed FileDamagedError ("file damaged or altered"). Pure: no logging, no network.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes, type Hash } from 'node:crypto';
import { Transform, type Readable, type TransformCallback, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export const FILE_CIPHER = 'urn:xmpp:ciphers:aes-256-gcm-nopadding:0';
export const KEY_BYTES = 32;
/** XEP-0448 §4 (and XEP-0384 0.4): a 12-byte GCM IV. */
export const IV_BYTES = 12;
export const TAG_BYTES = 16;

export interface FileSecrets {
  key: Buffer;
  iv: Buffer;
}

/** What the receiver checks the decrypted plaintext against (from the signed payload). */
export interface PlainFacts {
  size: number;
  sha256: Buffer;
  /** SHA-256 of the ciphertext ‖ tag, when the sender gave one (XEP-0448's inner <hash/>). */
  cipherSha256?: Buffer;
}

export const damageReasons = [
  'too-long', // more ciphertext than the declared size + tag (an extended file)
  'too-short', // less ciphertext than the declared size + tag (a truncated file)
  'tag-mismatch', // GCM authentication failed: altered bytes, or the wrong key / IV
  'hash-mismatch', // authenticated, but not the plaintext (or ciphertext) whose SHA-256 was signed
] as const;
export type DamageReason = (typeof damageReasons)[number];

export class FileDamagedError extends Error {
  override readonly name = 'FileDamagedError';
  constructor(readonly reason: DamageReason) {
    super(`file damaged or altered (${reason})`);
  }
}

/** A place decrypted bytes go that shows nothing until commit() and keeps nothing after abort(). */
export interface PlainSink {
  writable: Writable;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

export function newFileSecrets(): FileSecrets {
  return { key: randomBytes(KEY_BYTES), iv: randomBytes(IV_BYTES) };
}

function checkSecrets(s: FileSecrets): void {
  if (s.key.length !== KEY_BYTES) throw new RangeError(`file key must be ${KEY_BYTES} bytes`);
  if (s.iv.length !== IV_BYTES) throw new RangeError(`file IV must be ${IV_BYTES} bytes`);
}

/**
 * Plaintext in, ciphertext ‖ tag out; `facts` (size, SHA-256 of the plaintext and of the
 * ciphertext) once it has ended. `measure: false` takes neither hash, for a caller that has its
 * plaintext checked already (a download into the file store: the decryption hashed it); they are
 * two of a download's four SHA-256 passes over the file.
 */
export class EncryptStream extends Transform {
  private readonly cipher;
  private readonly hash: Hash | null;
  /** XEP-0448's inner <hash/>: of the ciphertext ‖ tag as uploaded. */
  private readonly cipherHash: Hash | null;
  private size = 0;
  private done: (PlainFacts & { cipherSha256: Buffer }) | null = null;

  constructor(secrets: FileSecrets, opts: { measure?: boolean } = {}) {
    super();
    checkSecrets(secrets);
    this.cipher = createCipheriv('aes-256-gcm', secrets.key, secrets.iv, { authTagLength: TAG_BYTES });
    const measure = opts.measure ?? true;
    this.hash = measure ? createHash('sha256') : null;
    this.cipherHash = measure ? createHash('sha256') : null;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.size += chunk.length;
    this.hash?.update(chunk);
    const out = this.cipher.update(chunk);
    this.cipherHash?.update(out);
    cb(null, out);
  }

  override _flush(cb: TransformCallback): void {
    const last = Buffer.concat([this.cipher.final(), this.cipher.getAuthTag()]);
    if (this.hash && this.cipherHash) {
      this.cipherHash.update(last);
      this.done = { size: this.size, sha256: this.hash.digest(), cipherSha256: this.cipherHash.digest() };
    }
    cb(null, last);
  }

  /** Size and SHA-256 of the plaintext, and SHA-256 of the ciphertext; only after the stream has finished. */
  get facts(): PlainFacts & { cipherSha256: Buffer } {
    if (!this.hash) throw new Error('this encryption takes no facts (measure: false)');
    if (!this.done) throw new Error('the encryption has not finished');
    return this.done;
  }
}

/**
 * Ciphertext ‖ tag in, plaintext out. Holds back the last TAG_BYTES seen (the tag may be split
 * over chunks), refuses the first byte past size + tag at once, and checks tag, size and hash in
 * flush. Its output is unauthenticated until the stream ends without error.
 */
export class DecryptStream extends Transform {
  private readonly decipher;
  private readonly hash: Hash = createHash('sha256');
  private readonly cipherHash: Hash = createHash('sha256');
  private tail: Buffer = Buffer.alloc(0);
  private received = 0;

  constructor(
    secrets: FileSecrets,
    private readonly expected: PlainFacts,
  ) {
    super();
    checkSecrets(secrets);
    if (!Number.isSafeInteger(expected.size) || expected.size < 0) throw new RangeError('bad declared file size');
    if (expected.sha256.length !== 32 || (expected.cipherSha256 && expected.cipherSha256.length !== 32))
      throw new RangeError('a SHA-256 is 32 bytes');
    this.decipher = createDecipheriv('aes-256-gcm', secrets.key, secrets.iv, { authTagLength: TAG_BYTES });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.received += chunk.length;
    if (this.received > this.expected.size + TAG_BYTES) return cb(new FileDamagedError('too-long'));
    this.cipherHash.update(chunk);
    // Everything but the newest TAG_BYTES is ciphertext body; those may be the tag.
    const joined = this.tail.length ? Buffer.concat([this.tail, chunk]) : chunk;
    const cut = Math.max(0, joined.length - TAG_BYTES);
    this.tail = Buffer.from(joined.subarray(cut));
    if (cut === 0) return cb();
    const plain = this.decipher.update(joined.subarray(0, cut));
    this.hash.update(plain);
    cb(null, plain);
  }

  override _flush(cb: TransformCallback): void {
    if (this.received < this.expected.size + TAG_BYTES) return cb(new FileDamagedError('too-short'));
    this.decipher.setAuthTag(this.tail);
    let last: Buffer;
    try {
      last = this.decipher.final();
    } catch {
      return cb(new FileDamagedError('tag-mismatch'));
    }
    this.hash.update(last);
    if (!this.hash.digest().equals(this.expected.sha256)) return cb(new FileDamagedError('hash-mismatch'));
    const cipherSha = this.expected.cipherSha256;
    if (cipherSha && !this.cipherHash.digest().equals(cipherSha)) return cb(new FileDamagedError('hash-mismatch'));
    cb(null, last);
  }
}

/**
 * Decrypts `source` into `sink` and publishes it only when tag, size and hash all hold. Any
 * failure (damage, a broken source, a cancel through `signal`) aborts the sink and rethrows.
 */
export async function decryptToSink(
  source: Readable,
  secrets: FileSecrets,
  expected: PlainFacts,
  sink: PlainSink,
  signal?: AbortSignal,
): Promise<void> {
  try {
    await pipeline(source, new DecryptStream(secrets, expected), sink.writable, signal ? { signal } : {});
  } catch (err) {
    await sink.abort();
    throw err;
  }
  await sink.commit();
}
