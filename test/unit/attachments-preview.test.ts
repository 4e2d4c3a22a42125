/**
 * Previews of stored attachments (issue 16, main/xmpp/attachment-download.ts readAttachment) over
 * a real SQLCipher store and the real encrypted file store: the bytes come back only when the
 * stored copy is intact, of an allowed type, matching its type, and within the preview limit.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import sharp from 'sharp';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../common/result';
import { createFileStore, type FileStore } from '../../main/attachments/file-store';
import { openStore, type Store } from '../../main/store';
import { readAttachment } from '../../main/xmpp/attachment-download';
import { bombPng } from '../support/image-fixtures';
import type { MessagingContext } from '../../main/xmpp/context';

let PNG: Buffer;
const PDF = Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(4000)]);
let dir: string;

beforeAll(async () => {
  // A real image: previews of images are decoded and re-encoded (main/attachments/image-preview.ts).
  PNG = await sharp({ create: { width: 40, height: 30, channels: 3, background: { r: 0, g: 90, b: 160 } } })
    .png()
    .toBuffer();
});

let store: Store;
let files: FileStore;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'attachments-preview-'));
  store = openStore({
    file: join(dir, 'cache.db'),
    key: randomBytes(32),
    clock: { now: () => 1_800_000_000_000 },
    worker: false,
  });
  files = createFileStore({ profileDir: dir, filesKey: randomBytes(32) });
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** What readAttachment uses of the service: the store, the file store, the policy check (here: allowed). */
const deps = () => ({
  ctx: { opts: { store } } as unknown as MessagingContext,
  files: () => files,
  checkPolicy: () => undefined,
});

async function stored(
  bytes: Buffer,
  mediaType: string,
  direction: 'in' | 'out' = 'in',
  state: 'stored' | 'failed' = 'stored',
  name = 'x',
) {
  const conv = store.conversations.getOrCreate('ana@clinic.example');
  const messageId = store.messages.insert({
    conversationId: conv.id,
    direction,
    state: direction === 'in' ? 'delivered' : 'sent',
    body: '',
    originId: randomBytes(6).toString('hex'),
    sentAt: 1,
  }).id;
  const fileId = `f${randomBytes(6).toString('hex')}`;
  const facts = await files.write(fileId, Readable.from([bytes]));
  return store.attachments.add({
    messageId,
    direction,
    name,
    mediaType,
    size: facts.size,
    sha256: facts.sha256,
    state,
    localFileId: fileId,
  });
}

async function refused(p: Promise<unknown>): Promise<AppError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

describe('readAttachment', () => {
  it('gives back the identical bytes of an intact stored PDF (pdf.js renders it in the renderer)', async () => {
    const a = await stored(PDF, 'application/pdf');
    const r = await readAttachment(deps(), a.id);
    expect(r.mediaType).toBe('application/pdf');
    expect(Buffer.from(r.data).equals(PDF)).toBe(true);
  });

  it('gives an image back decoded and re-encoded, never the bytes as stored', async () => {
    const a = await stored(PNG, 'image/png');
    const r = await readAttachment(deps(), a.id);
    expect(r.mediaType).toBe('image/png');
    const meta = await sharp(Buffer.from(r.data)).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 40, 30]);
  });

  it('refuses a stored image whose content is not its type, or whose name says another type', async () => {
    const fake = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), randomBytes(4000)]);
    const broken = await stored(fake, 'image/png');
    expect((await refused(readAttachment(deps(), broken.id))).message).toBe(
      'This image is damaged and cannot be shown.',
    );
    const pdfAsPng = await stored(PDF, 'image/png');
    expect((await refused(readAttachment(deps(), pdfAsPng.id))).code).toBe('FORBIDDEN');
    const named = await stored(PDF, 'application/pdf', 'in', 'stored', 'lab.html');
    expect((await refused(readAttachment(deps(), named.id))).message).toBe(
      'This file is not what its name says, so it is not shown.',
    );
  });

  it('shows the sender its own copy, even of a message that failed to send', async () => {
    const a = await stored(PDF, 'application/pdf', 'out', 'failed');
    expect(Buffer.from((await readAttachment(deps(), a.id)).data).equals(PDF)).toBe(true);
  });

  it('refuses a file over the preview limit before reading it', async () => {
    const a = await stored(PDF, 'application/pdf');
    const err = await refused(readAttachment(deps(), a.id, { maxBytes: PDF.length - 1 }));
    expect(err.code).toBe('TOO_LARGE');
    expect(err.message).toBe('This file is too large to preview.');
    expect(Buffer.from((await readAttachment(deps(), a.id, { maxBytes: PDF.length })).data).equals(PDF)).toBe(true);
  });

  it('a stored copy altered on disk gives no bytes', async () => {
    const a = await stored(PNG, 'image/png');
    const blob = join(files.dir, `${a.localFileId}.blob`);
    const b = readFileSync(blob);
    b[100] = b[100]! ^ 0x01;
    writeFileSync(blob, b);
    expect((await refused(readAttachment(deps(), a.id))).code).toBe('STORE_CORRUPT');
  });

  it('a received file not downloaded yet, or an unknown id, is not found', async () => {
    const a = await stored(PNG, 'image/png');
    store.attachments.update(a.id, { state: 'available' });
    expect((await refused(readAttachment(deps(), a.id))).code).toBe('NOT_FOUND');
    expect((await refused(readAttachment(deps(), '999'))).code).toBe('NOT_FOUND');
  });
});

describe("the sender's thumbnail of a file not downloaded", () => {
  /** A received row, not downloaded, carrying `thumbnail` from its message. */
  function available(
    thumbnail: { mediaType: string; width: number; height: number; data: Buffer },
    state = 'available',
  ) {
    const conv = store.conversations.getOrCreate('ana@clinic.example');
    const messageId = store.messages.insert({
      conversationId: conv.id,
      direction: 'in',
      state: 'delivered',
      body: '',
      originId: randomBytes(6).toString('hex'),
      sentAt: 1,
    }).id;
    const sha256 = new Uint8Array(randomBytes(32));
    const row = {
      messageId,
      direction: 'in' as const,
      name: 'wound.jpg',
      mediaType: 'image/jpeg',
      size: 90_000,
      sha256,
    };
    return store.attachments.add({ ...row, state: state as 'available', thumbnail });
  }

  it('is shown re-encoded for the thumbnail view only; the file itself stays not downloaded', async () => {
    const webp = await sharp({ create: { width: 120, height: 90, channels: 3, background: '#884422' } })
      .webp()
      .toBuffer();
    const a = available({ mediaType: 'image/webp', width: 120, height: 90, data: webp });
    const r = await readAttachment(deps(), a.id, { view: 'thumbnail' });
    expect(r.mediaType).toBe('image/webp');
    expect(Buffer.from(r.data).equals(webp)).toBe(false);
    expect(await sharp(r.data).metadata()).toMatchObject({ format: 'webp', width: 120, height: 90 });
    expect((await refused(readAttachment(deps(), a.id))).code).toBe('NOT_FOUND');
    expect((await refused(readAttachment(deps(), a.id, { view: 'viewer' }))).code).toBe('NOT_FOUND');
  });

  it('a hostile thumbnail is refused in words, and none is shown for a damaged file', async () => {
    const bomb = available({ mediaType: 'image/png', width: 64, height: 64, data: bombPng(4096) });
    const err = await refused(readAttachment(deps(), bomb.id, { view: 'thumbnail' }));
    expect(err.message).toBe('This image has too many pixels to be shown safely.');
    const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#000' } })
      .png()
      .toBuffer();
    const lying = available({ mediaType: 'image/webp', width: 8, height: 8, data: png });
    expect((await refused(readAttachment(deps(), lying.id, { view: 'thumbnail' }))).details).toMatchObject({
      preview: 'content-mismatch',
    });
    const damaged = available({ mediaType: 'image/png', width: 8, height: 8, data: png }, 'damaged');
    expect((await refused(readAttachment(deps(), damaged.id, { view: 'thumbnail' }))).code).toBe('NOT_FOUND');
  });
});
