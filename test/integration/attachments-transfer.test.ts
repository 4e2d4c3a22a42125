/**
 * Encrypted attachments over the real server (issue 16): Prosody's mod_http_file_share from
 * deploy/prosody (test/support/prosody.ts), HTTPS on loopback under the test CA, found by
 * service discovery over a real XMPP connection. Upload then download round-trips; what the
 * server stores is ciphertext; a file altered, cut or extended in Prosody's upload store is
 * refused as damaged with nothing published; the server's size limit is a clear error.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileDamagedError, TAG_BYTES } from '../../main/attachments/file-crypto';
import { downloadDecrypted, type DownloadRequest } from '../../main/attachments/download';
import { createFileStore } from '../../main/attachments/file-store';
import { TransferError } from '../../main/attachments/transfer-error';
import { uploadEncrypted, type Uploaded } from '../../main/attachments/upload';
import type { XmppConnection } from '../../main/xmpp/transport/connection';
import { findUploadService, requestUploadSlot, type UploadService } from '../../main/xmpp/upload-slot';
import { memorySink } from '../support/attachment-support';
import { startProsody, type ProsodyServer } from '../support/prosody';
import { rawConnection } from '../support/xmpp-support';

const ALICE = { jid: 'alice@clinic.test', password: 'alice-pw', name: 'Alice' };
let server: ProsodyServer;
let conn: XmppConnection;
let service: UploadService;

beforeAll(async () => {
  server = await startProsody({ users: [ALICE] });
  conn = rawConnection(server, ALICE.jid, ALICE.password, 'files');
  await conn.start();
  const found = await findUploadService((el) => conn.iq(el), server.domain);
  if (!found) throw new Error('no upload service found');
  service = found;
}, 60_000);

afterAll(async () => {
  await conn?.stop();
  await server?.stop();
});

/** The dial host stands in for DNS: upload.clinic.test is the server on loopback. */
const trust = () => ({ caPem: server.caPem, dialHost: server.host });
const allowedHosts = () => [`upload.${server.domain}`];

async function upload(plain: Buffer, onProgress?: (done: number, total: number) => void): Promise<Uploaded> {
  return uploadEncrypted({
    source: Readable.from([plain.subarray(0, plain.length >> 1), plain.subarray(plain.length >> 1)]),
    plainSize: plain.length,
    requestSlot: (size) => requestUploadSlot((el) => conn.iq(el), service, size),
    trust: trust(),
    ...(onProgress ? { onProgress } : {}),
  });
}

async function download(up: Uploaded, extra: Partial<DownloadRequest> = {}) {
  const sink = memorySink();
  const err = await downloadDecrypted({
    url: up.getUrl,
    secrets: up.secrets,
    expected: up.facts,
    sink,
    trust: trust(),
    allowedHosts: allowedHosts(),
    ...extra,
  }).then(
    () => null,
    (e: unknown) => e,
  );
  return { sink, err };
}

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

/** The one stored file of an upload: Prosody keeps it as <slot>.bin under its data path. */
function storedFiles(): string[] {
  const store = join(server.dataDir, `upload%2e${server.domain.replace(/\./g, '%2e')}`, 'http_file_share');
  if (!existsSync(store)) return []; // made at the first upload
  return readdirSync(store)
    .filter((f) => f.endsWith('.bin'))
    .map((f) => join(store, f));
}

function storedFileOf(before: string[]): string {
  const added = storedFiles().filter((f) => !before.includes(f));
  expect(added).toHaveLength(1);
  return added[0]!;
}

describe('attachments over the real server', () => {
  it('finds the upload service by service discovery, with its size limit', () => {
    expect(service.jid).toBe(`upload.${server.domain}`);
    expect(service.maxFileSize).toBe(50 * 1024 * 1024);
  });

  it('uploads ciphertext only, and downloads and decrypts it back', async () => {
    const marker = Buffer.from('WOUND-PHOTO-PLAINTEXT-MARKER');
    const plain = Buffer.concat([marker, randomBytes(300 * 1024), marker]);
    const before = storedFiles();
    const progress: number[] = [];
    const up = await upload(plain, (done) => progress.push(done));
    expect(progress.at(-1)).toBe(plain.length + TAG_BYTES);
    expect(new URL(up.getUrl).protocol).toBe('https:');
    expect(up.getUrl).not.toContain('WOUND');
    const stored = readFileSync(storedFileOf(before));
    expect(stored.length).toBe(plain.length + TAG_BYTES);
    expect(stored.includes(marker)).toBe(false);

    const { sink, err } = await download(up);
    expect(err).toBeNull();
    expect(sink.published?.equals(plain)).toBe(true);
  });

  it('refuses a file the server altered, and publishes none of it', async () => {
    const plain = randomBytes(64 * 1024);
    const before = storedFiles();
    const up = await upload(plain);
    const file = storedFileOf(before);
    const b = readFileSync(file);
    b[1000] = b[1000]! ^ 0x01;
    writeFileSync(file, b);
    const { sink, err } = await download(up);
    expect(err, String(err)).toBeInstanceOf(FileDamagedError);
    expect((err as FileDamagedError).message).toMatch(/^file damaged or altered/);
    expect((err as FileDamagedError).reason).toBe('tag-mismatch');
    expect(sink.published).toBeNull();
    expect(sink.aborted).toBe(true);
  });

  it('a file the server cut short ends as an interrupted download, with nothing published', async () => {
    // Prosody announces the size recorded with the slot, so a shortened stored file arrives as a
    // body that stops before its Content-Length; a server announcing the short length itself is
    // refused as damaged before reading (the unit test of download.ts).
    const plain = randomBytes(64 * 1024);
    const before = storedFiles();
    const up = await upload(plain);
    truncateSync(storedFileOf(before), plain.length);
    const { sink, err } = await download(up);
    expect(err, String(err)).toBeInstanceOf(TransferError);
    expect((err as TransferError).reason).toBe('interrupted');
    expect(sink.published).toBeNull();
    expect(sink.aborted).toBe(true);
  });

  it('a file that grew or shrank while being sent fails as changed, and no file is published on the server', async () => {
    for (const delta of [1, -1]) {
      const before = storedFiles();
      const err = await uploadEncrypted({
        source: Readable.from([randomBytes(10_000 + delta)]),
        plainSize: 10_000,
        requestSlot: (size) => requestUploadSlot((el) => conn.iq(el), service, size),
        trust: trust(),
      }).then(
        () => null,
        (e: unknown) => e,
      );
      expect((err as TransferError).reason, String(err)).toBe('size-changed');
      expect(storedFiles().filter((f) => !before.includes(f))).toEqual([]);
    }
  });

  it('a file over the server limit is a clear error, from our check and from the server itself', async () => {
    const tooBig = 50 * 1024 * 1024; // + the tag is over the limit
    const never = new Readable({
      read() {
        throw new Error('the file must not be read when there is no slot');
      },
    });
    const refusedBy = async (svc: UploadService) =>
      uploadEncrypted({
        source: never,
        plainSize: tooBig,
        requestSlot: (size) => requestUploadSlot((el) => conn.iq(el), svc, size),
        trust: trust(),
      }).then(
        () => null,
        (e: unknown) => e,
      );
    const ours = await refusedBy(service);
    expect(ours).toBeInstanceOf(TransferError);
    expect((ours as TransferError).reason).toBe('too-large');
    // A client that did not know the limit: the server's own refusal says the same.
    const theirs = await refusedBy({ ...service, maxFileSize: null });
    expect(theirs).toBeInstanceOf(TransferError);
    expect((theirs as TransferError).reason).toBe('too-large');
    expect((theirs as TransferError).message).toBe('the file is larger than the server allows');
  });

  it('trusts the file server only as the XMPP server is trusted, and fetches only from the clinic', async () => {
    const up = await upload(randomBytes(1024));
    const untrusted = await download(up, { trust: { caPem: null, dialHost: server.host } });
    expect((untrusted.err as TransferError).reason).toBe('untrusted-certificate');
    expect(untrusted.sink.aborted).toBe(true);
    const elsewhere = await download(up, { allowedHosts: ['files.elsewhere.test'] });
    expect((elsewhere.err as TransferError).reason).toBe('host-not-allowed');
    const plainHttp = await download({ ...up, getUrl: up.getUrl.replace(/^https:/, 'http:') });
    expect((plainHttp.err as TransferError).reason).toBe('not-https');
  });

  it('reads no more than the declared size + tag from a file server that sends more or less', async () => {
    // Prosody serves exactly the size it recorded; a hostile or broken server might not. This one
    // has the upload host's certificate from the test CA and serves the real ciphertext, changed.
    const plain = randomBytes(32 * 1024);
    const before = storedFiles();
    const up = await upload(plain);
    const cipher = readFileSync(storedFileOf(before));
    const bodies: [string, Buffer, boolean, string][] = [
      ['longer, announced', Buffer.concat([cipher, randomBytes(64 * 1024)]), true, 'too-long'],
      ['longer, chunked', Buffer.concat([cipher, randomBytes(64 * 1024)]), false, 'too-long'],
      ['shorter, announced', cipher.subarray(0, cipher.length - 100), true, 'too-short'],
      ['shorter, chunked', cipher.subarray(0, cipher.length - 100), false, 'too-short'],
    ];
    for (const [what, body, announce, reason] of bodies) {
      const hostile = createHttpsServer(
        {
          key: readFileSync(join(server.dir, 'ca', 'server.key')),
          cert: readFileSync(join(server.dir, 'ca', 'server.crt')),
        },
        (_req, res) => {
          res.writeHead(200, announce ? { 'content-length': body.length } : {});
          res.end(body);
        },
      );
      await new Promise<void>((resolve) => hostile.listen(0, '127.0.0.1', resolve));
      const port = (hostile.address() as AddressInfo).port;
      try {
        const url = new URL(up.getUrl);
        url.port = String(port);
        const { sink, err } = await download({ ...up, getUrl: url.toString() });
        expect(err, `${what}: ${String(err)}`).toBeInstanceOf(FileDamagedError);
        expect((err as FileDamagedError).reason, what).toBe(reason);
        expect(sink.published).toBeNull();
      } finally {
        await new Promise((resolve) => hostile.close(resolve));
      }
    }
  });

  it('a cancel after the last byte left, before the server answered, still stops the upload', async () => {
    // The server reads every byte, then holds its answer until the cancel has been made. Several
    // rounds: whichever step the cancel meets (the body's last write or the wait for the answer),
    // the upload must end aborted, never as uploaded (the outbox would then send its message).
    let bodyRead = () => {};
    let answerNow = () => {};
    const holding = createHttpsServer(
      {
        key: readFileSync(join(server.dir, 'ca', 'server.key')),
        cert: readFileSync(join(server.dir, 'ca', 'server.crt')),
      },
      (req, res) => {
        const answer = new Promise<void>((resolve) => (answerNow = resolve));
        req.on('end', () => {
          bodyRead();
          // Answers only once the test has cancelled; a client gone by then just misses it.
          void answer.then(() => res.writeHead(201).end());
        });
        req.resume();
      },
    );
    await new Promise<void>((resolve) => holding.listen(0, '127.0.0.1', resolve));
    const port = (holding.address() as AddressInfo).port;
    try {
      for (let round = 0; round < 5; round++) {
        const read = new Promise<void>((resolve) => (bodyRead = resolve));
        const ac = new AbortController();
        const plain = randomBytes(2048);
        const outcome = uploadEncrypted({
          source: Readable.from([plain]),
          plainSize: plain.length,
          requestSlot: () =>
            Promise.resolve({
              putUrl: `https://upload.${server.domain}:${port}/slot-${round}`,
              getUrl: `https://upload.${server.domain}:${port}/slot-${round}/file`,
              headers: {},
            }),
          trust: trust(),
          signal: ac.signal,
        }).then(
          () => 'uploaded',
          (e: unknown) => (e as Error).name,
        );
        await read;
        ac.abort();
        answerNow();
        expect(await outcome, `round ${round}`).toBe('AbortError');
      }
    } finally {
      holding.closeAllConnections();
      await new Promise((resolve) => holding.close(resolve));
    }
  });

  it('nothing readable sits on the server or in the profile folder after a send and a receive', async () => {
    const marker = Buffer.from('LAB-RESULT-PDF-PLAINTEXT-MARKER');
    const plain = Buffer.concat([marker, randomBytes(120 * 1024), marker]);
    const sample = plain.subarray(50_000, 50_032);
    const profiles = mkdtempSync(join(tmpdir(), 'attachments-profiles-'));
    try {
      // The sender keeps its copy at rest first and uploads from it; the receiver downloads into its own store.
      const sender = createFileStore({ profileDir: join(profiles, 'sender'), filesKey: randomBytes(32) });
      const sent = await sender.write('out-1', Readable.from([plain]));
      const up = await uploadEncrypted({
        source: await sender.read('out-1', sent),
        plainSize: sent.size,
        requestSlot: (size) => requestUploadSlot((el) => conn.iq(el), service, size),
        trust: trust(),
      });
      const receiver = createFileStore({ profileDir: join(profiles, 'receiver'), filesKey: randomBytes(32) });
      await downloadDecrypted({
        url: up.getUrl,
        secrets: up.secrets,
        expected: up.facts,
        sink: receiver.sink('in-1'),
        trust: trust(),
        allowedHosts: allowedHosts(),
      });
      const back: Buffer[] = [];
      for await (const c of await receiver.read('in-1', up.facts)) back.push(c as Buffer);
      expect(Buffer.concat(back).equals(plain)).toBe(true);
      for (const root of [profiles, server.dataDir]) {
        expect(filesContaining(root, marker), root).toEqual([]);
        expect(filesContaining(root, sample), root).toEqual([]);
      }
    } finally {
      rmSync(profiles, { recursive: true, force: true });
    }
  });
});
