/**
 * Attachment file crypto (main/attachments/file-crypto.ts): XEP-0448 AES-256-GCM layout,
 * streaming, and refusal of every altered, truncated or extended file without publishing any of
 * its plaintext.
 */
import { createHash, randomBytes } from 'node:crypto';
import { PassThrough, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decryptToSink,
  DecryptStream,
  EncryptStream,
  FileDamagedError,
  IV_BYTES,
  KEY_BYTES,
  newFileSecrets,
  TAG_BYTES,
  type DamageReason,
  type FileSecrets,
  type PlainFacts,
} from '../../main/attachments/file-crypto';
import { memorySink } from '../support/attachment-support';

/** Splits `buf` at the given cut points, so the streams see arbitrary chunk boundaries. */
function chunked(buf: Buffer, cuts: number[] = []): Readable {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let at = 0;
  for (const p of points) {
    parts.push(buf.subarray(at, p));
    at = p;
  }
  parts.push(buf.subarray(at));
  return Readable.from(parts.filter((p) => p.length > 0));
}

async function encrypt(plain: Buffer, secrets: FileSecrets, cuts: number[] = []) {
  const enc = new EncryptStream(secrets);
  const out: Buffer[] = [];
  await pipeline(
    chunked(plain, cuts),
    enc,
    new Writable({
      write(c: Buffer, _e, cb) {
        out.push(c);
        cb();
      },
    }),
  );
  return { cipher: Buffer.concat(out), facts: enc.facts };
}

async function decryptOutcome(cipher: Buffer, secrets: FileSecrets, facts: PlainFacts, cuts: number[] = []) {
  const sink = memorySink();
  const err = await decryptToSink(chunked(cipher, cuts), secrets, facts, sink).then(
    () => null,
    (e: unknown) => e,
  );
  return { sink, err };
}

function expectDamaged(
  o: { sink: { published: Buffer | null; aborted: boolean }; err: unknown },
  reason?: DamageReason,
): void {
  expect(o.err).toBeInstanceOf(FileDamagedError);
  expect((o.err as FileDamagedError).message).toMatch(/^file damaged or altered/);
  if (reason) expect((o.err as FileDamagedError).reason).toBe(reason);
  expect(o.sink.published).toBeNull();
  expect(o.sink.aborted).toBe(true);
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest();
const plainArb = fc.uint8Array({ minLength: 0, maxLength: 4096 }).map((u) => Buffer.from(u));
const cutsArb = fc.array(fc.nat(), { maxLength: 6 });

describe('attachment file crypto', () => {
  it('round-trips any file over any chunking, with size and SHA-256 of the plaintext', async () => {
    await fc.assert(
      fc.asyncProperty(plainArb, cutsArb, cutsArb, async (plain, encCuts, decCuts) => {
        const secrets = newFileSecrets();
        const { cipher, facts } = await encrypt(plain, secrets, encCuts);
        expect(cipher.length).toBe(plain.length + TAG_BYTES);
        expect(facts.size).toBe(plain.length);
        expect(facts.sha256.equals(sha(plain))).toBe(true);
        const o = await decryptOutcome(cipher, secrets, facts, decCuts);
        expect(o.err).toBeNull();
        expect(o.sink.published?.equals(plain)).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it('refuses a file with any one byte flipped (body or tag) and publishes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(plainArb, fc.nat(), fc.integer({ min: 1, max: 255 }), cutsArb, async (plain, at, x, cuts) => {
        const secrets = newFileSecrets();
        const { cipher, facts } = await encrypt(plain, secrets);
        const bad = Buffer.from(cipher);
        const i = at % bad.length;
        bad[i] = bad[i]! ^ x;
        expectDamaged(await decryptOutcome(bad, secrets, facts, cuts), 'tag-mismatch');
      }),
      { numRuns: 150 },
    );
  });

  it('refuses a truncated file and an extended one', async () => {
    await fc.assert(
      fc.asyncProperty(
        plainArb,
        fc.integer({ min: 1, max: 64 }),
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        async (plain, cut, extra) => {
          const secrets = newFileSecrets();
          const { cipher, facts } = await encrypt(plain, secrets);
          const short = cipher.subarray(0, Math.max(0, cipher.length - cut));
          expectDamaged(await decryptOutcome(short, secrets, facts), 'too-short');
          const long = Buffer.concat([cipher, Buffer.from(extra)]);
          expectDamaged(await decryptOutcome(long, secrets, facts), 'too-long');
        },
      ),
      { numRuns: 100 },
    );
  });

  it('refuses an intact ciphertext whose signed hash or size is not its own', async () => {
    const plain = Buffer.from('referral letter, page 1');
    const secrets = newFileSecrets();
    const { cipher, facts } = await encrypt(plain, secrets);
    const otherHash = { ...facts, sha256: sha(Buffer.from('another file')) };
    expectDamaged(await decryptOutcome(cipher, secrets, otherHash), 'hash-mismatch');
    const otherCipherHash = { ...facts, cipherSha256: sha(Buffer.from('another upload')) };
    expectDamaged(await decryptOutcome(cipher, secrets, otherCipherHash), 'hash-mismatch');
    expect(facts.cipherSha256.equals(sha(cipher))).toBe(true);
    expectDamaged(await decryptOutcome(cipher, secrets, { ...facts, size: facts.size - 1 }), 'too-long');
    expectDamaged(await decryptOutcome(cipher, secrets, { ...facts, size: facts.size + 1 }), 'too-short');
  });

  it('refuses the right file under the wrong key or IV', async () => {
    const plain = Buffer.alloc(1000, 7);
    const secrets = newFileSecrets();
    const { cipher, facts } = await encrypt(plain, secrets);
    expectDamaged(await decryptOutcome(cipher, { ...secrets, key: newFileSecrets().key }, facts), 'tag-mismatch');
    expectDamaged(await decryptOutcome(cipher, { ...secrets, iv: newFileSecrets().iv }, facts), 'tag-mismatch');
  });

  it('uses a fresh key and IV per file', async () => {
    const a = newFileSecrets();
    const b = newFileSecrets();
    expect(a.key.length).toBe(KEY_BYTES);
    expect(a.iv.length).toBe(IV_BYTES);
    expect(a.key.equals(b.key)).toBe(false);
    expect(a.iv.equals(b.iv)).toBe(false);
    const plain = Buffer.alloc(64, 1);
    expect((await encrypt(plain, a)).cipher.equals((await encrypt(plain, b)).cipher)).toBe(false);
    expect(() => new EncryptStream({ key: Buffer.alloc(16), iv: a.iv })).toThrow(RangeError);
    expect(() => new EncryptStream({ key: a.key, iv: Buffer.alloc(16) })).toThrow(RangeError);
  });

  it('streams: plaintext leaves the decryptor before the last ciphertext byte has arrived', async () => {
    const plain = Buffer.alloc(1024 * 1024, 3);
    const secrets = newFileSecrets();
    const { cipher, facts } = await encrypt(plain, secrets);
    const dec = new DecryptStream(secrets, facts);
    let outBytes = 0;
    dec.on('data', (c: Buffer) => (outBytes += c.length));
    const ended = new Promise<void>((resolve, reject) => dec.on('end', resolve).on('error', reject));
    dec.write(cipher.subarray(0, 256 * 1024));
    await new Promise((r) => setImmediate(r));
    expect(outBytes).toBeGreaterThan(0); // not buffered up to the end
    dec.end(cipher.subarray(256 * 1024));
    await ended;
    expect(outBytes).toBe(plain.length);
  });

  it('a broken source aborts the sink and is not reported as damage', async () => {
    const secrets = newFileSecrets();
    const { cipher, facts } = await encrypt(Buffer.alloc(5000, 9), secrets);
    const source = new PassThrough();
    const sink = memorySink();
    const done = decryptToSink(source, secrets, facts, sink).then(
      () => null,
      (e: unknown) => e,
    );
    source.write(cipher.subarray(0, 1000));
    source.destroy(new Error('connection reset'));
    const err = await done;
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(FileDamagedError);
    expect(sink.published).toBeNull();
    expect(sink.aborted).toBe(true);
  });

  it('a cancel through the signal aborts the sink', async () => {
    const secrets = newFileSecrets();
    const { cipher, facts } = await encrypt(Buffer.alloc(5000, 9), secrets);
    const source = new PassThrough();
    const sink = memorySink();
    const ctl = new AbortController();
    const done = decryptToSink(source, secrets, facts, sink, ctl.signal).then(
      () => null,
      (e: unknown) => e,
    );
    source.write(cipher.subarray(0, 1000));
    ctl.abort();
    expect((await done) as Error).toMatchObject({ name: 'AbortError' });
    expect(sink.published).toBeNull();
    expect(sink.aborted).toBe(true);
  });

  it('says nothing about size and hash before the encryption has finished', () => {
    expect(() => new EncryptStream(newFileSecrets()).facts).toThrow(/not finished/);
    expect(() => new DecryptStream(newFileSecrets(), { size: -1, sha256: Buffer.alloc(32) })).toThrow(RangeError);
  });

  it('without measuring (the file store behind a decryption) gives the same ciphertext and no facts', async () => {
    const plain = randomBytes(70_000);
    const secrets = newFileSecrets();
    const { cipher } = await encrypt(plain, secrets, [1000, 30_000]);
    const unmeasured = new EncryptStream(secrets, { measure: false });
    const out: Buffer[] = [];
    for await (const c of chunked(plain, [5, 65_536]).pipe(unmeasured)) out.push(c as Buffer);
    expect(Buffer.concat(out).equals(cipher)).toBe(true);
    expect(() => unmeasured.facts).toThrow(/takes no facts/);
  });
});
