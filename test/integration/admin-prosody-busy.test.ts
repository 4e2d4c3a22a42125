/**
 * clinic-admin's Prosody adapter on a server that is busy writing (admin/server/prosody.ts
 * `prosodyctl`): prosodyctl opens the running server's SQLite store without a busy timeout, so while
 * the server archives messages its read or its commit fails ("database is locked", or "Error in SQL
 * transaction: commit failed") and it then says "That user does not exist" about an account that
 * does. Seen first as a CI failure of the test support's `deleteUser` (29 of 30 `deluser` runs
 * failed so with messages flowing). Here a colleague's client archives bursts of BURST messages,
 * PAUSE_MS apart, while the adapter looks accounts up, disables one and creates one: each answer
 * must be the true one.
 */
import { randomUUID } from 'node:crypto';
import { xml } from '@xmpp/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prosodyAdmin } from '../../admin/server/prosody';
import { startProsody, type ProsodyServer } from '../support/prosody';
import { rawConnection } from '../support/xmpp-support';
import type { XmppConnection } from '../../main/xmpp/transport/connection';

const A = 'alice@clinic.test';
const B = 'bob@clinic.test';
const PW = 'busy-test-password-1';
const CAROL = 'carol@clinic.test';
const DAN = 'dan@clinic.test';
/** Accounts looked up while the server writes: enough tries that a lock is met. */
const LOOKUPS = 8;
const BURST = 10;
const PAUSE_MS = 100;

let server: ProsodyServer;
let tx: XmppConnection;
let writing = true;
let written = 0;
let writer: Promise<void>;

beforeAll(async () => {
  server = await startProsody({
    users: [
      { jid: A, password: PW, name: 'Alice Archer' },
      { jid: B, password: PW, name: 'Bob Baker' },
      { jid: CAROL, password: PW, name: 'Carol Chen' },
      ...Array.from({ length: LOOKUPS }, (_, i) => ({ jid: `u${i}@clinic.test`, password: PW, name: `User ${i}` })),
    ],
  });
  tx = rawConnection(server, A, PW, 'busy-writer');
  await tx.start();
  // Bursts of ten messages, each archived by the server, with a short pause between: a busy
  // clinic's server, writing most of the time but not all of it.
  writer = (async () => {
    while (writing) {
      await Promise.all(
        Array.from({ length: BURST }, () =>
          tx.sendAcked(xml('message', { to: B, type: 'chat', id: randomUUID() }, xml('body', {}, 'x'.repeat(300)))),
        ),
      );
      written += BURST;
      await new Promise((r) => setTimeout(r, PAUSE_MS));
    }
  })();
}, 120_000);

afterAll(async () => {
  writing = false;
  await writer;
  await tx?.stop();
  await server?.stop();
});

describe('clinic-admin on a Prosody busy writing its store', () => {
  it('finds every existing account, disables one and creates one: the true answer each time', async () => {
    const admin = prosodyAdmin(server.configFile);
    const before = written;
    for (let i = 0; i < LOOKUPS; i++) expect(await admin.userExists(`u${i}@clinic.test`)).toBe(true);
    expect(await admin.userExists('nobody@clinic.test')).toBe(false);
    const disabled = await admin.disableUser(CAROL);
    expect(disabled.done).toContain('its password was replaced');
    expect(await admin.createUser(DAN, PW)).toBe('created');
    // The server was writing the whole time (else this test shows nothing).
    expect(written - before).toBeGreaterThan(BURST);
    // Carol's password no longer signs in; Dan's new account does.
    const carol = rawConnection(server, CAROL, PW, 'after-disable');
    await expect(carol.start()).rejects.toThrow(/not-authorized|AUTH|password/i);
    const dan = rawConnection(server, DAN, PW, 'after-create');
    await dan.start();
    await dan.stop();
  }, 240_000);
});
