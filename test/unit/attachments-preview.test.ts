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
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../common/result';
import { createFileStore, type FileStore } from '../../main/attachments/file-store';
import { openStore, type Store } from '../../main/store';
import { readAttachment } from '../../main/xmpp/attachment-download';
import type { MessagingContext } from '../../main/xmpp/context';

const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), randomBytes(4000)]);
let dir: string;
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
    name: 'x',
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
  it('gives back the identical bytes of an intact stored image', async () => {
    const a = await stored(PNG, 'image/png');
    const r = await readAttachment(deps(), a.id);
    expect(r.mediaType).toBe('image/png');
    expect(Buffer.from(r.data).equals(PNG)).toBe(true);
  });

  it('shows the sender its own copy, even of a message that failed to send', async () => {
    const a = await stored(PNG, 'image/png', 'out', 'failed');
    expect(Buffer.from((await readAttachment(deps(), a.id)).data).equals(PNG)).toBe(true);
  });

  it('refuses a file over the preview limit before reading it', async () => {
    const a = await stored(PNG, 'image/png');
    const err = await refused(readAttachment(deps(), a.id, PNG.length - 1));
    expect(err.code).toBe('TOO_LARGE');
    expect(err.message).toBe('This file is too large to preview.');
    expect(Buffer.from((await readAttachment(deps(), a.id, PNG.length)).data).equals(PNG)).toBe(true);
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
