/**
 * Attachments at the IPC boundary with real sessions (issue 16): two workstations behind the real
 * router and handlers, real keychain and SQLCipher profiles, a real Prosody with
 * mod_http_file_share. A receptionist sends a PDF; the physician's store has its row, downloads it
 * with progress and reads back the identical bytes; nothing readable is in either profile folder;
 * a policy without attachments refuses with a clear error; removing the profile removes its files.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Attachment, Message } from '../../common/contract/domain';
import { startProsody, type ProsodyServer } from '../support/prosody';
import { routedSession, type RoutedSession } from './session-support';
import { PASS, requireKeychain } from './vault-support';

const ALICE = { jid: 'alice@clinic.test', password: randomBytes(12).toString('hex'), name: 'Alice Reception' };
const BOB = { jid: 'bob@clinic.test', password: randomBytes(12).toString('hex'), name: 'Bob Physician' };
const CAROL = { jid: 'carol@clinic.test', password: randomBytes(12).toString('hex'), name: 'Carol Nurse' };

let server: ProsodyServer;
const cores: RoutedSession[] = [];

beforeAll(async () => {
  await requireKeychain();
  server = await startProsody({ users: [ALICE, BOB, CAROL] });
}, 60_000);
afterAll(async () => {
  for (const c of cores) await c.dispose();
  await server?.stop();
});

async function core(account: typeof ALICE, policy: Record<string, unknown> = {}): Promise<RoutedSession> {
  const c = await routedSession({ server, account, prefix: 'session-attachments-', policy, replaceAccountKey: true });
  cores.push(c);
  return c;
}

/** Every file under `root` that contains `needle`. */
function filesContaining(root: string, needle: Buffer): string[] {
  const hits: string[] = [];
  for (const e of readdirSync(root, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && readFileSync(join(e.parentPath, e.name)).includes(needle)) hits.push(join(e.parentPath, e.name));
  }
  return hits;
}

describe('attachments through IPC', () => {
  it('a receptionist sends a PDF; the physician downloads it and reads back the same bytes', async () => {
    const alice = await core(ALICE);
    const bob = await core(BOB);
    const marker = Buffer.from('LAB-RESULT-PLAINTEXT-MARKER');
    const pdf = Buffer.concat([Buffer.from('%PDF-1.7\n'), marker, randomBytes(300_000), marker]);
    const { conversationId } = await alice.value(
      alice.call<{ conversationId: string }>('conversations:open', { peerJid: BOB.jid }),
    );
    const sent = await alice.value(
      alice.call<Message>('attachments:send', {
        conversationId,
        body: 'lab results',
        file: { name: '../../lab results.pdf', mediaType: 'application/pdf', data: new Uint8Array(pdf) },
      }),
    );
    expect(sent).toMatchObject({ direction: 'out', body: 'lab results', state: 'queued' });
    const [mine] = await alice.value(alice.call<Attachment[]>('attachments:list', { conversationId }));
    expect(mine).toMatchObject({ messageId: sent.id, name: 'lab results.pdf', size: pdf.length, local: true });

    const { conversationId: bobConv } = await bob.value(
      bob.call<{ conversationId: string }>('conversations:open', { peerJid: ALICE.jid }),
    );
    let listed: Attachment[] = [];
    for (let tries = 0; listed.length === 0; tries++) {
      expect(tries, 'bob has the attachment').toBeLessThan(400);
      listed = await bob.value(bob.call<Attachment[]>('attachments:list', { conversationId: bobConv }));
      if (listed.length === 0) await new Promise((r) => setTimeout(r, 50));
    }
    const [row] = listed;
    expect(row).toMatchObject({
      direction: 'in',
      state: 'available',
      name: 'lab results.pdf',
      mediaType: 'application/pdf',
      local: false,
    });
    expect(Object.keys(row!).sort()).toEqual([
      'direction',
      'failure',
      'hasThumbnail',
      'id',
      'local',
      'mediaType',
      'messageId',
      'name',
      'size',
      'state',
    ]);

    const done = await bob.value(bob.call<Attachment>('attachments:download', { attachmentId: row!.id }));
    expect(done).toMatchObject({ state: 'stored', local: true });
    expect(bob.seen.some((e) => e.name === 'attachment:progress')).toBe(true);
    expect(bob.seen.some((e) => e.name === 'attachment:updated' && (e.payload as Attachment).state === 'stored')).toBe(
      true,
    );
    const read = await bob.value(
      bob.call<{ mediaType: string; data: Uint8Array }>('attachments:read', { attachmentId: row!.id }),
    );
    expect(read.mediaType).toBe('application/pdf');
    expect(Buffer.from(read.data).equals(pdf)).toBe(true);

    for (const c of [alice, bob]) expect(filesContaining(c.dir, marker), c.dir).toEqual([]);
    const bobFiles = join(bob.dir, 'profiles', bob.profileId, 'attachments');
    expect(readdirSync(bobFiles).filter((f) => f.endsWith('.blob'))).toHaveLength(1);

    // Profile removal takes the files with it.
    await bob.value(bob.call('vault:lock', { reason: 'manual' }));
    await bob.value(bob.call('vault:removeProfile', { profileId: bob.profileId, passphrase: PASS }));
    expect(existsSync(bobFiles)).toBe(false);
  });

  it('a policy without attachments refuses at send with a clear error', async () => {
    const carol = await core(CAROL, { attachmentsAllowed: false });
    const { conversationId } = await carol.value(
      carol.call<{ conversationId: string }>('conversations:open', { peerJid: ALICE.jid }),
    );
    const r = await carol.call('attachments:send', {
      conversationId,
      file: { name: 'x.png', mediaType: 'image/png', data: new Uint8Array([1, 2, 3]) },
    });
    expect(r).toEqual({
      ok: false,
      error: {
        code: 'FORBIDDEN',
        message: "Your clinic's policy does not allow attachments.",
        details: { policy: 'attachmentsAllowed' },
      },
    });
    expect(await carol.value(carol.call<Attachment[]>('attachments:list', { conversationId }))).toEqual([]);
  });
});
