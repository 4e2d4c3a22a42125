/**
 * Attachments at rest (issue 16, migration 0011): rows over a real SQLCipher store, the key
 * material only inside the encrypted database, rows going with their message, and retention
 * deleting the files of purged messages from the real encrypted file store.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFileStore, type FileStore } from '../../main/attachments/file-store';
import { sweepFiles } from '../../main/attachments/sweep';
import { createAuditLog } from '../../main/audit';
import { silentLogger } from '../../main/log';
import { startRetention } from '../../main/session/retention';
import { openStore, type Store } from '../../main/store';
import { toAttachment } from '../../main/store/repos/attachments';

const DAY = 24 * 60 * 60 * 1000;
let dir: string;
let store: Store;
let files: FileStore;
let now = 1_800_000_000_000;
const clock = {
  now: () => now,
  setTimeout: () => 0,
  clearTimeout: () => undefined,
} as unknown as import('../../main/clock').Clock;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'store-attachments-'));
  store = openStore({ file: join(dir, 'cache.db'), key: randomBytes(32), clock, worker: false });
  files = createFileStore({ profileDir: dir, filesKey: randomBytes(32) });
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function message(conversationId: string, sentAt = now, direction: 'in' | 'out' = 'in') {
  return store.messages.insert({
    conversationId,
    direction,
    state: direction === 'in' ? 'delivered' : 'sent',
    body: 'see the photo',
    originId: randomBytes(8).toString('hex'),
    sentAt,
    receivedAt: sentAt,
  }).id;
}

const secret = {
  key: randomBytes(32),
  iv: randomBytes(12),
  sha256: randomBytes(32),
  cipherSha256: randomBytes(32),
};

describe('attachments repo', () => {
  it('stores a received file row with its key material and shows the renderer none of it', () => {
    const conv = store.conversations.getOrCreate('ana@clinic.example');
    const messageId = message(conv.id);
    const a = store.attachments.add({
      messageId,
      direction: 'in',
      name: 'wound.jpg',
      mediaType: 'image/jpeg',
      size: 1234,
      state: 'available',
      ...secret,
      url: 'https://upload.clinic.example/slot/abc.bin',
      thumbnail: { mediaType: 'image/png', width: 4, height: 3, data: new Uint8Array([1, 2, 3]) },
    });
    expect(a).toMatchObject({ messageId, state: 'available', name: 'wound.jpg', size: 1234, failure: null });
    expect(a.key?.equals(secret.key)).toBe(true);
    expect(a.iv?.equals(secret.iv)).toBe(true);
    expect(a.thumbnail?.data.equals(Buffer.from([1, 2, 3]))).toBe(true);
    expect(store.attachments.byMessage(messageId)?.id).toBe(a.id);
    expect(store.attachments.ofConversation(conv.id).map((x) => x.id)).toEqual([a.id]);
    const shown = toAttachment(a);
    expect(shown).toEqual({
      id: a.id,
      messageId,
      direction: 'in',
      name: 'wound.jpg',
      mediaType: 'image/jpeg',
      size: 1234,
      state: 'available',
      failure: null,
      hasThumbnail: true,
      local: false,
    });
    expect(JSON.stringify(shown)).not.toContain('upload.clinic');
  });

  it('keeps one row per message: a second add (a re-delivery) changes nothing', () => {
    const conv = store.conversations.getOrCreate('ana@clinic.example');
    const messageId = message(conv.id);
    const first = store.attachments.add({
      messageId,
      direction: 'in',
      name: 'a.pdf',
      mediaType: 'application/pdf',
      size: 1,
      state: 'available',
    });
    const again = store.attachments.add({
      messageId,
      direction: 'in',
      name: 'b.pdf',
      mediaType: 'application/pdf',
      size: 2,
      state: 'failed',
    });
    expect(again).toMatchObject({ id: first.id, name: 'a.pdf', state: 'available' });
  });

  it('moves state and sets and clears columns, stamping the store clock', () => {
    const conv = store.conversations.getOrCreate('ana@clinic.example');
    const a = store.attachments.add({
      messageId: message(conv.id),
      direction: 'out',
      name: 'scan.pdf',
      mediaType: 'application/pdf',
      size: 10,
      state: 'pending',
      localFileId: 'f1',
    });
    now += 5_000;
    const up = store.attachments.update(a.id, { state: 'uploading', url: 'https://u.example/x', ...secret });
    expect(up).toMatchObject({
      state: 'uploading',
      url: 'https://u.example/x',
      updatedAt: now,
      createdAt: now - 5_000,
    });
    const failed = store.attachments.update(a.id, { state: 'failed', failure: 'quota', url: null });
    expect(failed).toMatchObject({ state: 'failed', failure: 'quota', url: null, localFileId: 'f1' });
    expect(store.attachments.inState('failed').map((x) => x.id)).toEqual([a.id]);
    expect(store.attachments.update('999', { state: 'sent' })).toBeUndefined();
    expect(store.attachments.update('nope', { state: 'sent' })).toBeUndefined();
    expect(() => store.attachments.update(a.id, { state: 'bogus' as never })).toThrow();
    expect([...store.attachments.localFileIds()]).toEqual(['f1']);
  });

  it('keeps the key material only inside the encrypted database file', async () => {
    const conv = store.conversations.getOrCreate('ana@clinic.example');
    store.attachments.add({
      messageId: message(conv.id),
      direction: 'in',
      name: 'card.png',
      mediaType: 'image/png',
      size: 9,
      state: 'available',
      ...secret,
      url: 'https://upload.clinic.example/FINDME',
    });
    await store.close();
    for (const f of readdirSync(dir).filter((n) => n.startsWith('cache.db'))) {
      const bytes = readFileSync(join(dir, f));
      expect(bytes.includes(secret.key), f).toBe(false);
      expect(bytes.includes(Buffer.from('FINDME')), f).toBe(false);
    }
    store = openStore({ file: join(dir, 'other.db'), key: randomBytes(32), clock, worker: false }); // for afterEach
  });
});

describe('attachment files and retention', () => {
  async function storedFile(conversationId: string, sentAt: number): Promise<{ messageId: string; fileId: string }> {
    const messageId = message(conversationId, sentAt);
    const fileId = `f${randomBytes(6).toString('hex')}`;
    store.attachments.add({
      messageId,
      direction: 'in',
      name: 'x.bin',
      mediaType: 'application/octet-stream',
      size: 5,
      state: 'stored',
      localFileId: fileId,
    });
    await files.write(fileId, Readable.from([Buffer.from('hello')]));
    return { messageId, fileId };
  }
  const blobs = () => (existsSync(files.dir) ? readdirSync(files.dir).sort() : []);

  it('retention deletes the rows and the files of purged messages, and keeps the rest', async () => {
    const conv = store.conversations.getOrCreate('ana@clinic.example');
    const old = await storedFile(conv.id, now - 40 * DAY);
    const fresh = await storedFile(conv.id, now - DAY);
    expect(blobs()).toEqual([`${old.fileId}.blob`, `${fresh.fileId}.blob`].sort());
    const audit = createAuditLog({ store, key: randomBytes(32), clock });
    const retention = startRetention({ days: 30, store, audit, clock, logger: silentLogger, files });
    expect(await retention.run()).toBe(1);
    await retention.stop();
    expect(store.attachments.byMessage(old.messageId)).toBeUndefined();
    expect(store.attachments.byMessage(fresh.messageId)?.localFileId).toBe(fresh.fileId);
    expect(blobs()).toEqual([`${fresh.fileId}.blob`]);
  });

  it('the sweep never takes a held blob (a file being sent, before its row is stored)', async () => {
    await files.write('sending', Readable.from([Buffer.from('on its way')]));
    const release = files.hold('sending');
    expect(await sweepFiles(store, files)).toBe(0);
    expect(blobs()).toEqual(['sending.blob']);
    release();
    release(); // idempotent
    expect(await sweepFiles(store, files)).toBe(1);
    expect(blobs()).toEqual([]);
  });

  it('a deletion for everyone takes the attachment row (and its key) with it', async () => {
    const conv = store.conversations.getOrCreate('ana@clinic.example');
    const { messageId, fileId } = await storedFile(conv.id, now);
    expect(store.messages.applyChange(messageId, { kind: 'retract' }, now)?.deletedAt).toBe(now);
    expect(store.attachments.byMessage(messageId)).toBeUndefined();
    expect(await sweepFiles(store, files)).toBe(1);
    expect(blobs()).not.toContain(`${fileId}.blob`);
  });

  it('the sweep removes a blob no row names (a send that crashed before its row), never one a row names', async () => {
    const conv = store.conversations.getOrCreate('ana@clinic.example');
    const kept = await storedFile(conv.id, now);
    await files.write('orphan', Readable.from([Buffer.from('left behind')]));
    expect(await sweepFiles(store, files)).toBe(1);
    expect(blobs()).toEqual([`${kept.fileId}.blob`]);
  });
});
