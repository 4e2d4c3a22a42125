/**
 * Attachments at rest (issue 16 item 3): each file sent or received lives in the profile folder as
 * `<profile>/attachments/<id>.blob`, encrypted under a key derived from the profile's files subkey
 * (main/vault/keys.ts deriveSubkeys) and the blob's id, so a blob copied or renamed to another id
 * does not decrypt. Plaintext never touches the disk, not even in a temp folder: a download is
 * re-encrypted as it is decrypted (`sink`), into `<id>.partial`, and becomes `<id>.blob` only on
 * commit; abort removes it. Removing the profile folder (profile removal, wipe) removes them all.
 *
 * Blob layout: "CMF1" ‖ IV (12 bytes) ‖ AES-256-GCM ciphertext ‖ tag (16 bytes), the same cipher
 * and streams as the upload format (file-crypto.ts).
 */
import { hkdfSync, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DecryptStream, EncryptStream, IV_BYTES, type PlainFacts, type PlainSink } from './file-crypto';

const MAGIC = Buffer.from('CMF1', 'ascii');
const HEADER_BYTES = MAGIC.length + IV_BYTES;
const ID_RE = /^[A-Za-z0-9_-]{1,64}$/;

export interface FileStore {
  readonly dir: string;
  /**
   * Where a download's plaintext goes: encrypted on the way to disk, published on commit. It
   * takes no hashes: the decryption in front of it checks size and SHA-256 before commit.
   */
  sink(id: string): PlainSink;
  /** Stores `source` (a file being sent) and returns its size and SHA-256. */
  write(id: string, source: Readable, signal?: AbortSignal): Promise<PlainFacts>;
  /** The plaintext as a stream; it errors (FileDamagedError) at the end unless tag, size and hash hold. */
  read(id: string, expected: PlainFacts): Promise<Readable>;
  remove(id: string): Promise<void>;
  /** The ids of every published blob (not the partial files of writes under way, nor held ids). */
  list(): Promise<string[]>;
  /**
   * Keeps `id` out of list() until the returned release is called: a file written before the row
   * that names it (a file being sent) is never taken by a sweep in between.
   */
  hold(id: string): () => void;
}

function checkId(id: string): void {
  if (!ID_RE.test(id)) throw new RangeError('bad attachment id');
}

export function createFileStore(opts: { profileDir: string; filesKey: Buffer }): FileStore {
  const dir = join(opts.profileDir, 'attachments');
  const keyFor = (id: string) =>
    Buffer.from(hkdfSync('sha256', opts.filesKey, Buffer.alloc(0), `clinic-messenger/v1/attachment/${id}`, 32));
  const blob = (id: string) => join(dir, `${id}.blob`);
  // A random suffix: two writers of one id never share a partial file.
  const partial = (id: string) => join(dir, `${id}.${randomBytes(6).toString('hex')}.partial`);
  const held = new Map<string, number>();

  /** `measure`: take the plaintext's size and SHA-256 on the way (write() returns them). */
  function openSink(id: string, measure: boolean): PlainSink & { facts(): PlainFacts } {
    checkId(id);
    const iv = randomBytes(IV_BYTES);
    const enc = new EncryptStream({ key: keyFor(id), iv }, { measure });
    const tmp = partial(id);
    const input = new PassThrough();
    const written = (async () => {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const out = createWriteStream(tmp, { flags: 'wx', mode: 0o600 });
      out.write(Buffer.concat([MAGIC, iv]));
      await pipeline(input, enc, out);
    })();
    written.catch(() => {}); // awaited by commit / abort; an early failure must not go unhandled meanwhile
    return {
      writable: input,
      facts: () => enc.facts,
      async commit() {
        await written;
        const fh = await open(tmp, 'r+');
        await fh.sync().finally(() => fh.close()); // on disk before it is published
        await rename(tmp, blob(id));
      },
      async abort() {
        input.destroy();
        await written.catch(() => {}); // the failure is the caller's to report
        await rm(tmp, { force: true });
      },
    };
  }

  return {
    dir,
    sink: (id) => openSink(id, false),
    async write(id, source, signal) {
      const s = openSink(id, true);
      try {
        await pipeline(source, s.writable, signal ? { signal } : {});
      } catch (err) {
        await s.abort();
        throw err;
      }
      await s.commit();
      return s.facts();
    },
    async read(id, expected) {
      checkId(id);
      const fh = await open(blob(id), 'r');
      let header: Buffer;
      try {
        header = Buffer.alloc(HEADER_BYTES);
        const { bytesRead } = await fh.read(header, 0, HEADER_BYTES, 0);
        if (bytesRead !== HEADER_BYTES || !header.subarray(0, MAGIC.length).equals(MAGIC))
          throw new RangeError('not an attachment blob');
      } finally {
        await fh.close();
      }
      const facts = { size: expected.size, sha256: expected.sha256 };
      const dec = new DecryptStream({ key: keyFor(id), iv: header.subarray(MAGIC.length) }, facts);
      const body = createReadStream(blob(id), { start: HEADER_BYTES });
      body.once('error', (err) => dec.destroy(err));
      return body.pipe(dec);
    },
    async remove(id) {
      checkId(id);
      await rm(blob(id), { force: true });
    },
    async list() {
      const names = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return [] as string[];
        throw err;
      });
      return names
        .filter((n) => n.endsWith('.blob'))
        .map((n) => n.slice(0, -'.blob'.length))
        .filter((id) => ID_RE.test(id) && !held.has(id));
    },
    hold(id) {
      checkId(id);
      held.set(id, (held.get(id) ?? 0) + 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        const n = (held.get(id) ?? 1) - 1;
        if (n > 0) held.set(id, n);
        else held.delete(id);
      };
    },
  };
}
