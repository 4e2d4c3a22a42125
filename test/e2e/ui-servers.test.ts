// The server matrix's end-to-end flow (issue 19 item 2): the unchanged app against a single
// ejabberd node and against a 2-node ejabberd cluster, the receptionist's workstation served by
// one node and the physician's by the other. Both sign up through the first-run form, find each
// other in the directory, and exchange messages that arrive decrypted and reach "Read". The same
// flow against Prosody is e2e ui-chat. Real ejabberd (Debian's 23.01), keychain, SQLCipher, Chromium.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileBrowser } from '../support/chromium';
import { startTestServer, type ServerKind, type TestServer } from '../support/test-server';
import {
  closeWorkstation,
  messageFromDirectory,
  messageRow,
  openWorkstation,
  person,
  screenshot,
  screenshotOnFailure,
  send,
  signUp,
  TEST_ARGON2,
  type Workstation,
} from '../support/ui-support';

const DOMAIN = 'clinic.test';

function flowOn(kind: Exclude<ServerKind, 'prosody'>) {
  describe(`a receptionist and a physician over ${kind}`, () => {
    const reception = person('reception', DOMAIN, 'Robin Reyes', 'reception');
    const physician = person('dr.okafor', DOMAIN, 'Dr. Adaeze Okafor', 'physician');
    const token = `EJ${Math.random().toString(36).slice(2, 8)}`;
    let server: TestServer;
    let browser: Browser;
    let dir: string;
    let rec: Workstation | undefined;
    let doc: Workstation | undefined;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), `e2e-servers-${kind}-`));
      // Users in this order: on the cluster the receptionist is on node a, the physician on node b.
      server = await startTestServer(
        {
          users: [reception, physician].map((p) => ({
            jid: p.jid,
            password: p.password,
            name: p.name,
            role: p.role,
            group: 'Clinic',
          })),
        },
        kind,
      );
      browser = await fileBrowser();
      const policy = { argon2: TEST_ARGON2, trustedCaPem: server.caPem };
      rec = await openWorkstation(browser, { userDataDir: join(dir, 'desk'), policy });
      doc = await openWorkstation(browser, { userDataDir: join(dir, 'laptop'), policy });
      await signUp(rec.page, reception, { host: server.host, port: server.portFor(reception.jid) });
      await signUp(doc.page, physician, { host: server.host, port: server.portFor(physician.jid) });
    }, 240_000);

    afterAll(async () => {
      await closeWorkstation(rec);
      await closeWorkstation(doc);
      await browser?.close();
      await server?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    screenshotOnFailure(() => ({ [`${kind}-reception`]: rec, [`${kind}-physician`]: doc }));

    it('they message each other through the directory; both read it decrypted, and the sender sees Read', async () => {
      const first = `Patient in room 4 is ready (${token})`;
      const reply = `On my way to room 4 (${token}b)`;
      if (kind === 'ejabberd-cluster') expect(server.portFor(reception.jid)).not.toBe(server.portFor(physician.jid));
      await messageFromDirectory(rec!.page, physician);
      await send(rec!.page, first);

      const conv = doc!.page
        .getByRole('list', { name: 'Conversations' })
        .getByRole('button', { name: new RegExp(reception.name) });
      await conv.waitFor({ timeout: 60_000 });
      await conv.click();
      await messageRow(doc!.page, first).waitFor({ timeout: 60_000 });
      // Decrypted and signed by the sender's pinned key: the row is a verified incoming message.
      expect(await messageRow(doc!.page, first).getAttribute('data-state')).not.toBe('unverified');
      await send(doc!.page, reply);

      await messageRow(rec!.page, reply).waitFor({ timeout: 60_000 });
      const mine = messageRow(rec!.page, first);
      await expect.poll(() => mine.getAttribute('data-state'), { timeout: 60_000 }).toBe('read');
      await screenshot(rec!.page, `ui-servers-${kind}`);
    });
  });
}

flowOn('ejabberd');
flowOn('ejabberd-cluster');
