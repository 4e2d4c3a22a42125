/**
 * Opening and exporting attachments at the IPC boundary (issue 16 §5) with real sessions: the real
 * router and handlers, real keychain and SQLCipher profiles, a real Prosody with
 * mod_http_file_share. Every preview shown is audited ('attachment-opened') and every export
 * ('export', kind attachment) with the message and attachment ids, never the name; "Save as…"
 * writes the file as sent only where the policy's exportAllowed is on (off by default), to the
 * path the save dialog gave (here a test folder), and leaves nothing when the stored copy fails
 * its checks.
 */
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Attachment, AuditEntry, Message } from '../../common/contract/domain';
import { GPS, heic, IMAGE } from '../support/heif-fixtures';
import { exifPhoto, noisePng, noisePngWithText } from '../support/image-fixtures';
import { startProsody, type ProsodyServer } from '../support/prosody';
import { routedSession, type RoutedSession } from './session-support';
import { PASS, requireKeychain } from './vault-support';

const ALICE = { jid: 'alice@clinic.test', password: randomBytes(12).toString('hex'), name: 'Alice Reception' };
const BOB = { jid: 'bob@clinic.test', password: randomBytes(12).toString('hex'), name: 'Bob Physician' };
const NAME = 'wound-left-ankle.png';
const marker = Buffer.from('WOUND-PHOTO-PLAINTEXT-MARKER');

let server: ProsodyServer;
let alice: RoutedSession;
let bob: RoutedSession;
let exportDir: string;
/** The paths handed to the system's default app ("Open in another app"), in order. */
const handedOver: string[] = [];
/** The paths handed to the system's drag (drag-out), in order. */
const dragged: string[] = [];
/** What the save dialog answers next: a path in exportDir, or null (cancelled). */
let dialogAnswer: (name: string) => string | null = (name) => join(exportDir, name);
let png: Buffer;
let bobsCopy: Attachment;

beforeAll(async () => {
  await requireKeychain();
  exportDir = mkdtempSync(join(tmpdir(), 'attachments-export-'));
  server = await startProsody({ users: [ALICE, BOB] });
  const chooseSavePath = (name: string) => Promise.resolve(dialogAnswer(name));
  const openExternally = (path: string) => {
    handedOver.push(path);
    return Promise.resolve();
  };
  const startDrag = (path: string) => {
    dragged.push(path);
    return Promise.resolve();
  };
  // Alice: the default policy (exportAllowed off). Bob: export allowed.
  alice = await routedSession({
    server,
    account: ALICE,
    prefix: 'att-export-',
    replaceAccountKey: true,
    chooseSavePath,
    openExternally,
    startDrag,
  });
  bob = await routedSession({
    server,
    account: BOB,
    prefix: 'att-export-',
    replaceAccountKey: true,
    policy: { exportAllowed: true },
    chooseSavePath,
    openExternally,
    startDrag,
  });
  png = await noisePngWithText(64, 40, marker);
  const { conversationId } = await alice.value(
    alice.call<{ conversationId: string }>('conversations:open', { peerJid: BOB.jid }),
  );
  await alice.value(
    alice.call<Message>('attachments:send', {
      conversationId,
      file: { name: NAME, mediaType: 'image/png', data: new Uint8Array(png) },
    }),
  );
  const { conversationId: bobConv } = await bob.value(
    bob.call<{ conversationId: string }>('conversations:open', { peerJid: ALICE.jid }),
  );
  let listed: Attachment[] = [];
  for (let tries = 0; listed.length === 0; tries++) {
    if (tries > 400) throw new Error('bob never got the attachment');
    listed = await bob.value(bob.call<Attachment[]>('attachments:list', { conversationId: bobConv }));
    if (listed.length === 0) await new Promise((r) => setTimeout(r, 50));
  }
  bobsCopy = await bob.value(bob.call<Attachment>('attachments:download', { attachmentId: listed[0]!.id }));
  expect(bobsCopy.state).toBe('stored');
}, 90_000);

afterAll(async () => {
  await alice?.dispose();
  await bob?.dispose();
  await server?.stop();
  rmSync(exportDir, { recursive: true, force: true });
});

async function auditOf(c: RoutedSession, type: AuditEntry['type']): Promise<AuditEntry[]> {
  const page = await c.value(c.call<{ items: AuditEntry[] }>('audit:list', { before: null, limit: 200 }));
  return page.items.filter((e) => e.type === type);
}

/** Runs `check` while bob's stored copy of `attachmentId` has one byte flipped near its end (its tag), then restores it. */
async function withAlteredBlob(attachmentId: string, check: () => Promise<void>): Promise<void> {
  const row = bob.session.active().store.attachments.get(attachmentId)!;
  const blob = readdirSync(bob.dir, { recursive: true, withFileTypes: true }).find(
    (e) => e.isFile() && e.name === `${row.localFileId}.blob`,
  )!;
  const path = join(blob.parentPath, blob.name);
  const original = readFileSync(path);
  const altered = Buffer.from(original);
  altered[altered.length - 40] = altered[altered.length - 40]! ^ 0x01;
  writeFileSync(path, altered);
  try {
    await check();
  } finally {
    writeFileSync(path, original);
  }
}

describe('opening an attachment', () => {
  it('is audited with the message and attachment ids and the view, never the name', async () => {
    const before = (await auditOf(bob, 'attachment-opened')).length;
    await bob.value(bob.call('attachments:read', { attachmentId: bobsCopy.id }));
    await bob.value(bob.call('attachments:read', { attachmentId: bobsCopy.id, view: 'viewer' }));
    const opened = await auditOf(bob, 'attachment-opened');
    expect(opened).toHaveLength(before + 2);
    // Newest first.
    expect(opened[0]!.detail).toEqual({ messageId: bobsCopy.messageId, attachmentId: bobsCopy.id, view: 'viewer' });
    expect(opened[1]!.detail).toMatchObject({ view: 'thumbnail' });
    expect(JSON.stringify(opened)).not.toContain('wound');
  });
});

describe('Save as…', () => {
  it('writes the file exactly as sent where the policy allows it, and audits the ids only', async () => {
    const r = await bob.value(bob.call<{ saved: boolean }>('attachments:export', { attachmentId: bobsCopy.id }));
    expect(r).toEqual({ saved: true });
    // As sent: the picture's own bytes, its text chunk (metadata) stripped on the sender's side.
    const saved = readFileSync(join(exportDir, NAME));
    expect(png.includes(marker)).toBe(true);
    expect(saved.equals(await noisePng(64, 40))).toBe(true);
    const [last] = await auditOf(bob, 'export');
    expect(last!.detail).toEqual({
      kind: 'attachment',
      messageId: bobsCopy.messageId,
      attachmentId: bobsCopy.id,
      allowed: true,
    });
    expect(JSON.stringify(await auditOf(bob, 'export'))).not.toContain('wound');
    rmSync(join(exportDir, NAME));
  });

  it('a cancelled dialog saves nothing and records no export', async () => {
    const before = (await auditOf(bob, 'export')).length;
    dialogAnswer = () => null;
    try {
      const r = await bob.value(bob.call<{ saved: boolean }>('attachments:export', { attachmentId: bobsCopy.id }));
      expect(r).toEqual({ saved: false });
    } finally {
      dialogAnswer = (name) => join(exportDir, name);
    }
    expect(readdirSync(exportDir)).toEqual([]);
    expect(await auditOf(bob, 'export')).toHaveLength(before);
  });

  it('is refused under the default policy (exportAllowed off): nothing written, the attempt audited', async () => {
    const [mine] = alice.session
      .active()
      .store.attachments.ofConversation(alice.session.active().store.conversations.byPeer(BOB.jid)!.id);
    const r = await alice.call('attachments:export', { attachmentId: mine!.id });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe('FORBIDDEN');
    expect(r.error.message).toBe('Saving files is turned off by your clinic policy.');
    expect(readdirSync(exportDir)).toEqual([]);
    const [last] = await auditOf(alice, 'export');
    expect(last!.detail).toEqual({
      kind: 'attachment',
      messageId: mine!.messageId,
      attachmentId: mine!.id,
      allowed: false,
    });
  });

  it('a stored copy altered on disk: the export fails and leaves no file behind', async () => {
    await withAlteredBlob(bobsCopy.id, async () => {
      const before = (await auditOf(bob, 'export')).length;
      const r = await bob.call('attachments:export', { attachmentId: bobsCopy.id });
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error.code).toBe('STORE_CORRUPT');
      expect(existsSync(join(exportDir, NAME))).toBe(false);
      expect(await auditOf(bob, 'export')).toHaveLength(before);
    });
  });

  it('a phone photo arrives without its EXIF, comment and trailing data, upright, pixel for pixel', async () => {
    const person = 'Jane Roe 1950-02-03';
    const photo = await exifPhoto(6, person);
    expect(photo.includes(person, 0, 'latin1')).toBe(true);
    const copy = await sendToBob('ankle.jpg', 'image/jpeg', photo);
    expect(await bob.value(bob.call<{ saved: boolean }>('attachments:export', { attachmentId: copy.id }))).toEqual({
      saved: true,
    });
    const saved = readFileSync(join(exportDir, 'ankle.jpg'));
    rmSync(join(exportDir, 'ankle.jpg'));
    expect(saved.includes(person, 0, 'latin1')).toBe(false);
    expect(saved.includes('PhoneCo', 0, 'latin1')).toBe(false);
    expect(copy.size).toBe(saved.length);
    const meta = await sharp(saved).metadata();
    expect(meta.orientation).toBe(6);
    expect(meta.xmp).toBeUndefined();
    expect((await sharp(saved).raw().toBuffer()).equals(await sharp(photo).raw().toBuffer())).toBe(true);
  });

  it('a phone HEIC arrives without its EXIF and XMP, every other byte as sent', async () => {
    const photo = heic();
    expect(photo.includes(GPS, 0, 'latin1')).toBe(true);
    const copy = await sendToBob('wound.heic', 'image/heic', photo);
    expect(await bob.value(bob.call<{ saved: boolean }>('attachments:export', { attachmentId: copy.id }))).toEqual({
      saved: true,
    });
    const saved = readFileSync(join(exportDir, 'wound.heic'));
    rmSync(join(exportDir, 'wound.heic'));
    expect(saved.length).toBe(photo.length);
    expect(saved.includes(GPS, 0, 'latin1')).toBe(false);
    expect(saved.includes('Jane Roe', 0, 'latin1')).toBe(false);
    expect(saved.indexOf(IMAGE)).toBe(photo.indexOf(IMAGE));
  });

  it('a damaged photo is refused at send with a clear reason, and nothing is stored or sent', async () => {
    const photo = await exifPhoto(1, 'Jane Roe');
    const { conversationId } = await alice.value(
      alice.call<{ conversationId: string }>('conversations:open', { peerJid: BOB.jid }),
    );
    const store = alice.session.active().store;
    const before = store.attachments.ofConversation(conversationId).length;
    const r = await alice.call('attachments:send', {
      conversationId,
      file: { name: 'cut.jpg', mediaType: 'image/jpeg', data: new Uint8Array(photo.subarray(0, 60)) },
    });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('BAD_INPUT');
      expect(r.error.message).toMatch(/image is damaged/);
    }
    expect(store.attachments.ofConversation(conversationId)).toHaveLength(before);
  });
});

/** A file alice sends bob, downloaded by bob: its attachment row on bob's side. */
async function sendToBob(name: string, mediaType: string, data: Buffer): Promise<Attachment> {
  const { conversationId } = await alice.value(
    alice.call<{ conversationId: string }>('conversations:open', { peerJid: BOB.jid }),
  );
  await alice.value(alice.call<Message>('attachments:send', { conversationId, file: { name, mediaType, data } }));
  const { conversationId: bobConv } = await bob.value(
    bob.call<{ conversationId: string }>('conversations:open', { peerJid: ALICE.jid }),
  );
  let copy: Attachment | undefined;
  for (let tries = 0; !copy; tries++) {
    if (tries > 400) throw new Error(`bob never got ${name}`);
    const listed = await bob.value(bob.call<Attachment[]>('attachments:list', { conversationId: bobConv }));
    copy = listed.find((a) => a.name === name);
    if (!copy) await new Promise((r) => setTimeout(r, 50));
  }
  const stored = await bob.value(bob.call<Attachment>('attachments:download', { attachmentId: copy.id }));
  expect(stored.state).toBe('stored');
  return stored;
}

/** Every file under the profile folders' opened/ (the copies handed to other apps). */
const openedCopies = (c: RoutedSession) =>
  readdirSync(c.dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && relative(c.dir, join(e.parentPath, e.name)).split(sep).includes('opened'))
    .map((e) => join(e.parentPath, e.name));

/** The two ways a copy goes to another app: the same checks, their own channel, audit and refusal. */
const WAYS = [
  {
    way: 'Open in another app',
    channel: 'attachments:openExternally',
    to: 'app',
    answer: { opened: true },
    handed: handedOver,
    refusal: 'Opening files in other apps is turned off by your clinic policy.',
  },
  {
    way: 'drag-out',
    channel: 'attachments:dragOut',
    to: 'drag',
    answer: { started: true },
    handed: dragged,
    refusal: 'Dragging files out is turned off by your clinic policy.',
  },
] as const;

describe.each(WAYS)('$way', ({ channel, to, answer, handed, refusal }) => {
  it('hands the system a copy in the profile folder, exactly as sent, audited by ids; the lock removes it', async () => {
    expect(await bob.value(bob.call(channel, { attachmentId: bobsCopy.id }))).toEqual(answer);
    const path = handed.at(-1)!;
    expect(path.endsWith(`${sep}${NAME}`)).toBe(true);
    // In this profile's folder, never the system's temp folder; readable by this user alone.
    expect(openedCopies(bob)).toEqual([path]);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(path, '..')).mode & 0o777).toBe(0o700);
    expect(readFileSync(path).equals(await noisePng(64, 40))).toBe(true);
    const [last] = await auditOf(bob, 'export');
    expect(last!.detail).toEqual({
      kind: 'attachment',
      messageId: bobsCopy.messageId,
      attachmentId: bobsCopy.id,
      to,
      allowed: true,
    });
    expect(JSON.stringify(await auditOf(bob, 'export'))).not.toContain('wound');

    await bob.session.lock('manual');
    expect(existsSync(path)).toBe(false);
    expect(openedCopies(bob)).toEqual([]);
    await bob.value(bob.call('vault:unlock', { profileId: bob.profileId, passphrase: PASS }));
  });

  it('is refused under the default policy (exportAllowed off): nothing written, the attempt audited', async () => {
    const [mine] = alice.session
      .active()
      .store.attachments.ofConversation(alice.session.active().store.conversations.byPeer(BOB.jid)!.id);
    const before = handed.length;
    const r = await alice.call(channel, { attachmentId: mine!.id });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe('FORBIDDEN');
    expect(r.error.message).toBe(refusal);
    expect(handed).toHaveLength(before);
    expect(openedCopies(alice)).toEqual([]);
    const [last] = await auditOf(alice, 'export');
    expect(last!.detail).toEqual({
      kind: 'attachment',
      messageId: mine!.messageId,
      attachmentId: mine!.id,
      to,
      allowed: false,
    });
  });

  it('a stored copy altered on disk: nothing is handed over and no copy stays', async () => {
    const before = handed.length;
    await withAlteredBlob(bobsCopy.id, async () => {
      const r = await bob.call(channel, { attachmentId: bobsCopy.id });
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error.code).toBe('STORE_CORRUPT');
      expect(handed).toHaveLength(before);
      expect(openedCopies(bob)).toEqual([]);
    });
  });
});

describe('Open in another app', () => {
  it('a copy a crash left behind is removed at the next unlock', async () => {
    const profileFolder = readdirSync(bob.dir, { recursive: true, withFileTypes: true }).find(
      (e) => e.isFile() && e.name.endsWith('.db'),
    )!.parentPath;
    const left = join(profileFolder, 'opened', 'left-by-a-crash');
    await bob.session.lock('manual');
    // As if written by an app session that died before its lock removed it.
    mkdirSync(left, { recursive: true });
    writeFileSync(join(left, NAME), png);
    await bob.value(bob.call('vault:unlock', { profileId: bob.profileId, passphrase: PASS }));
    expect(existsSync(left)).toBe(false);
  });

  it('never hands over a program or a script, even where export is allowed: Save as… stays', async () => {
    const script = await sendToBob('results.pdf.sh', 'application/x-sh', Buffer.from('#!/bin/sh\necho hi\n'));
    const before = handedOver.length;
    const r = await bob.call('attachments:openExternally', { attachmentId: script.id });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('FORBIDDEN');
      expect(r.error.message).toMatch(/cannot be opened in another app/);
    }
    expect(handedOver).toHaveLength(before);
    expect(openedCopies(bob)).toEqual([]);
    expect(await bob.value(bob.call<{ saved: boolean }>('attachments:export', { attachmentId: script.id }))).toEqual({
      saved: true,
    });
    rmSync(join(exportDir, 'results.pdf.sh'));
  });
});

describe('Drag-out', () => {
  it('drags any type, as Save as… saves it: a drop only places the file', async () => {
    const notes = await sendToBob('visit-notes.sh', 'application/x-sh', Buffer.from('#!/bin/sh\necho notes\n'));
    await bob.value(bob.call('attachments:dragOut', { attachmentId: notes.id }));
    expect(readFileSync(dragged.at(-1)!, 'utf8')).toBe('#!/bin/sh\necho notes\n');
  });
});
