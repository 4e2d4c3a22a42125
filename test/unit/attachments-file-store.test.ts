/**
 * Attachments at rest (main/attachments/file-store.ts): encrypted under the profile's files
 * subkey in <profile>/attachments/, published only on commit, never plaintext on disk.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decryptToSink, EncryptStream, FileDamagedError, newFileSecrets } from '../../main/attachments/file-crypto';
import { createFileStore, type FileStore } from '../../main/attachments/file-store';

const MARKER = Buffer.from('INSURANCE-CARD-PLAINTEXT-MARKER');
let dir: string;
let filesKey: Buffer;
let store: FileStore;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'file-store-'));
  filesKey = randomBytes(32);
  store = createFileStore({ profileDir: dir, filesKey });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function readAll(s: Readable): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(
    s,
    new Writable({
      write(c: Buffer, _e, cb) {
        out.push(c);
        cb();
      },
    }),
  );
  return Buffer.concat(out);
}
const outcome = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (e: unknown) => e,
  );
/** Every file under `root` that contains `needle`. */
function filesContaining(root: string, needle: Buffer): string[] {
  const hits: string[] = [];
  for (const e of readdirSync(root, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const p = join(e.parentPath, e.name);
    if (readFileSync(p).includes(needle)) hits.push(p);
  }
  return hits;
}

describe('attachments at rest', () => {
  it('stores encrypted under the profile folder and reads the same bytes back', async () => {
    const plain = Buffer.concat([MARKER, randomBytes(200_000), MARKER]);
    const facts = await store.write('m1-a1', Readable.from([plain]));
    expect(facts.size).toBe(plain.length);
    expect(readdirSync(join(dir, 'attachments'))).toEqual(['m1-a1.blob']);
    expect(filesContaining(dir, MARKER)).toEqual([]);
    expect(filesContaining(dir, plain.subarray(1000, 1032))).toEqual([]);
    expect((await readAll(await store.read('m1-a1', facts))).equals(plain)).toBe(true);
  });

  it('a download goes to disk re-encrypted and is published only when it checks out', async () => {
    const plain = Buffer.concat([MARKER, randomBytes(50_000)]);
    const secrets = newFileSecrets();
    const enc = new EncryptStream(secrets);
    const cipher = await readAll(Readable.from([plain]).pipe(enc));
    const good = store.sink('m2-a1');
    await decryptToSink(Readable.from([cipher]), secrets, enc.facts, good);
    expect((await readAll(await store.read('m2-a1', enc.facts))).equals(plain)).toBe(true);

    const bad = Buffer.from(cipher);
    bad[10] = bad[10]! ^ 1;
    const damaged = store.sink('m3-a1');
    expect(await outcome(decryptToSink(Readable.from([bad]), secrets, enc.facts, damaged))).toBeInstanceOf(
      FileDamagedError,
    );
    expect(readdirSync(join(dir, 'attachments')).sort()).toEqual(['m2-a1.blob']); // no partial, no m3
    expect(filesContaining(dir, MARKER)).toEqual([]);
  });

  it('refuses a blob that was altered, renamed to another id, or read under another profile key', async () => {
    const plain = randomBytes(10_000);
    const facts = await store.write('a', Readable.from([plain]));
    const file = join(dir, 'attachments', 'a.blob');
    const original = readFileSync(file);
    const flipped = Buffer.from(original);
    flipped[100] = flipped[100]! ^ 1;
    writeFileSync(file, flipped);
    expect(await outcome(readAll(await store.read('a', facts)))).toBeInstanceOf(FileDamagedError);
    writeFileSync(file, original);
    renameSync(file, join(dir, 'attachments', 'b.blob'));
    expect(await outcome(readAll(await store.read('b', facts)))).toBeInstanceOf(FileDamagedError);
    const other = createFileStore({ profileDir: dir, filesKey: randomBytes(32) });
    renameSync(join(dir, 'attachments', 'b.blob'), file);
    expect(await outcome(readAll(await other.read('a', facts)))).toBeInstanceOf(FileDamagedError);
    expect((await readAll(await store.read('a', facts))).equals(plain)).toBe(true);
  });

  it('removes a blob, and refuses ids that could leave the folder', async () => {
    await store.write('x', Readable.from([Buffer.from('hello')]));
    await store.remove('x');
    expect(readdirSync(join(dir, 'attachments'))).toEqual([]);
    for (const id of ['../x', 'a/b', '', '.', 'a'.repeat(65)]) expect(() => store.sink(id)).toThrow(RangeError);
  });
});
