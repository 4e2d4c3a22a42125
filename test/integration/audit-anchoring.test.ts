/**
 * Anchored audit chains and the activity report, end to end (issue 15 item 4, "Done when": a month
 * of activity from three workstations yields a report that verifies, and each tampering case is
 * caught). Three real workstations (Messaging over real SQLCipher stores and audit logs) anchor
 * with the compliance account on a real Prosody over a simulated month on one fake clock; the real
 * CLI (`clinic-admin keygen`, `publish-key`, `report`, `verify-report`, child processes) reads
 * the compliance archive. Then: a row edited after it was anchored (alice), a restored old database
 * (bob), a workstation deleted (carol) and a batch signed by a key that is not the account's (sent
 * from alice's account) — each named in the next report; an edited saved report fails verify-report.
 *
 * Time: the app's clock is a fake one starting a day after the wall clock (keys made now are valid
 * then); batches are signed at that time and the report checks signatures without a clock
 * (audit-anchor.ts), so the file passes on any day. The network keeps the real clock.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as openpgp from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { xml } from '@xmpp/client';
import { createAuditLog } from '../../main/audit';
import { anchorState, markAnchored, nextBatch } from '../../main/audit/anchor-batches';
import { chainLink, GENESIS_LINK, sealAnchorBatch } from '../../main/crypto/audit-anchor';
import { openStore } from '../../main/store';
import { openDb } from '../../main/store/open-db';
import { auditAnchorStanza } from '../../main/xmpp/audit-anchor-stanza';
import { fakeClock, type FakeClock } from '../support/fake-clock';
import { startProsody, type ProsodyServer } from '../support/prosody';
import { makeClient, rawConnection, type TestClient } from '../support/xmpp-support';

const run = promisify(execFile);
const BIN = 'admin/bin/clinic-admin.mjs';
const PASS = 'compliance passphrase 12';
const DAY = 24 * 3600_000;
const SPAWNS = 240_000;
const COMP = 'compliance@clinic.test';
const people = ['alice', 'bob', 'carol', 'erin'] as const;
const pw = Object.fromEntries([...people, 'compliance'].map((k) => [k, randomBytes(12).toString('hex')]));
const jid = (name: string) => `${name}@clinic.test`;

interface Workstation {
  name: (typeof people)[number];
  id: string;
  dir: string;
  keys: { store: Buffer; audit: Buffer };
  client: TestClient;
}

let server: ProsodyServer;
let clock: FakeClock;
let dir: string;
let keyFile: string;
let caFile: string;
let fingerprint: string;
let start: number;
const ws: Record<string, Workstation> = {};

async function cli(
  args: string[],
  xmppPassword = pw.compliance,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, CLINIC_ADMIN_PASSPHRASE: PASS, CLINIC_ADMIN_XMPP_PASSWORD: xmppPassword };
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { env, timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

const where = () => ['--server', `127.0.0.1:${server.c2sPort}`, '--ca', caFile];
const day = (i: number) => new Date(start + i * DAY).toISOString().slice(0, 10);
const policy = () => ({
  complianceAccount: COMP,
  complianceKeyFingerprint: fingerprint,
  auditAnchorHours: 24,
  auditAnchorOverdueHours: 72,
});

/** Opens (or reopens, same files and keys) a workstation and waits for its anchoring at connect. */
async function open(w: Omit<Workstation, 'client'> & { client?: TestClient }, first: boolean, pin = fingerprint) {
  w.client = await makeClient(server, jid(w.name), pw[w.name]!, {
    dir: w.dir,
    keys: w.keys,
    clock,
    policy: { ...policy(), complianceKeyFingerprint: pin },
    workstationId: w.id,
    resource: w.id,
    start: false,
  });
  await w.client.messaging.start(first ? { firstRun: true } : undefined);
  await w.client.messaging.inspect.settled();
  await w.client.messaging.inspect.anchor();
  return w as Workstation;
}

/** Stops messaging and closes the store, keeping the files (an app that quit). */
async function quit(w: Workstation) {
  await w.client.messaging.stop();
  await w.client.store.close();
}

/**
 * A working day at a workstation: unlocks, messages sent and received (ids and peers only), a
 * lock; each entry a few minutes after the last, the number of messages varying by person and day.
 */
function workday(w: Workstation, d: number) {
  const peers = Object.keys(ws).filter((n) => n !== w.name);
  const { audit } = w.client;
  const step = () => clock.advance(7 * 60_000 + w.name.length * 60_000);
  audit.append('unlock', {});
  const k = w.name.charCodeAt(0);
  for (let i = 0; i < 1 + ((d + k) % (2 + (k % 3))); i++) {
    step();
    audit.append('message-sent', { messageId: `${w.name}-${d}-${i}`, to: jid(peers[i % peers.length]!) });
    step();
    audit.append('message-received', {
      messageId: `in-${w.name}-${d}-${i}`,
      from: jid(peers[(i + 1) % peers.length]!),
    });
  }
  step();
  audit.append('lock', { reason: 'idle' });
}

/** One day passes: each running workstation works, then (noon next day) its anchoring timer fires and its batch is sent. */
async function passDay(d: number, running: Workstation[]) {
  for (const w of running) workday(w, d);
  clock.advance(start + (d + 1) * DAY - clock.now());
  await Promise.all(running.map((w) => w.client.messaging.inspect.anchor()));
}

beforeAll(async () => {
  server = await startProsody({
    users: [
      ...people.map((n) => ({ jid: jid(n), password: pw[n]!, name: n })),
      { jid: COMP, password: pw.compliance!, name: 'Compliance' },
    ],
  });
  dir = mkdtempSync(join(tmpdir(), 'audit-anchoring-'));
  caFile = join(dir, 'clinic-ca.pem');
  writeFileSync(caFile, server.caPem);
  keyFile = join(dir, 'compliance-key.asc');
  const k = await cli(['keygen', '--out', keyFile, '--name', 'Clinic compliance']);
  expect(k.code, k.stderr).toBe(0);
  fingerprint = /Fingerprint: ([0-9A-F]{40})\n/.exec(k.stdout)?.[1] ?? '';
  const p = await cli(['publish-key', '--as', COMP, '--key', keyFile, ...where()]);
  expect(p.code, p.stderr).toBe(0);
  expect(p.stdout).toContain(`"complianceKeyFingerprint": "${fingerprint}"`);
  // Noon UTC two days on: the report's days are whole UTC days, and keys made now are valid then.
  start = Math.floor(Date.now() / DAY) * DAY + 2 * DAY + 12 * 3600_000;
  clock = fakeClock(start);
  for (const name of ['alice', 'bob', 'carol'] as const) {
    const w = { name, id: `ws-${name}-0001`, dir: mkdtempSync(join(tmpdir(), `ws-${name}-`)) };
    ws[name] = await open({ ...w, keys: { store: randomBytes(32), audit: randomBytes(32) } }, true);
  }
}, SPAWNS);

afterAll(async () => {
  // Cleanup after a failed case: a workstation that is already closed has nothing left to close.
  for (const w of Object.values(ws)) await w.client?.close().catch(() => undefined);
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a month of activity from three workstations', () => {
  let backup: string;
  it(
    'anchors every day and yields a report that verifies; verify-report catches an edited saved report',
    async () => {
      const all = () => Object.values(ws);
      for (let d = 0; d < 30; d++) {
        await passDay(d, all());
        if (d === 26) {
          // Bob's IT takes a copy of his database (closed: the WAL is checkpointed into the file).
          await quit(ws.bob!);
          backup = join(dir, 'bob-backup.db');
          copyFileSync(join(ws.bob!.dir, 'cache.db'), backup);
          await open(ws.bob!, false);
        }
      }
      for (const w of all()) {
        const state = anchorState(w.client.store);
        expect(state.pending).toBeNull();
        expect(state.seq).toBe(w.client.store.audit.last()!.seq);
        expect(state.batch).toBeGreaterThanOrEqual(31);
      }
      const out = join(dir, 'clean');
      const r = await cli([
        'report',
        '--from',
        day(0),
        '--to',
        day(29),
        '--as',
        COMP,
        '--key',
        keyFile,
        '--out',
        out,
        ...where(),
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/from 3 workstations/);
      expect(r.stdout).toMatch(/Verified: every chain is intact/);
      const html = readFileSync(join(out, 'activity-report.html'), 'utf8');
      expect(html).toContain("Verified: every workstation's audit chain is intact");
      const csv = readFileSync(join(out, 'activity.csv'), 'utf8').split('\r\n');
      expect(csv[0]).toBe('time,account,workstation,seq,event,detail');
      for (const name of ['alice', 'bob', 'carol'])
        expect(
          csv.filter((l) => l.includes(`,${jid(name)},ws-${name}-0001,`) && l.includes(',message-sent,')).length,
        ).toBeGreaterThan(30);
      expect(readFileSync(join(out, 'findings.csv'), 'utf8')).toBe('problem,account,workstation,what\r\n');
      if (process.env.ACTIVITY_REPORT_COPY)
        copyFileSync(join(out, 'activity-report.html'), process.env.ACTIVITY_REPORT_COPY);

      const intact = await cli(['verify-report', join(out, 'activity-report.html')]);
      expect(intact.code, intact.stderr).toBe(0);
      expect(intact.stdout).toMatch(/is intact: \d+ batches/);
      expect(intact.stdout).toContain(jid('alice'));

      // A compliance officer's "correction": one row's event changed in the saved page.
      const edited = join(dir, 'edited.html');
      writeFileSync(edited, html.replace('<td>message-sent</td>', '<td>message-received</td>'));
      const e1 = await cli(['verify-report', edited]);
      expect(e1.code).toBe(1);
      expect(e1.stderr).toMatch(/was edited after it was made: line \d+ is not what its signed evidence gives/);
      // The verdict of a report with problems turned into a clean one: the evidence no longer matches either.
      writeFileSync(edited, html.replace(/"from":"alice@clinic\.test"/, '"from":"mallory@clinic.test"'));
      const e2 = await cli(['verify-report', edited]);
      expect(e2.code).toBe(1);
      expect(e2.stderr).toMatch(/was edited/);
    },
    SPAWNS,
  );

  it(
    'names an edited row, a restored old database, a stopped workstation and a forged batch',
    async () => {
      const [alice, bob, carol] = [ws.alice!, ws.bob!, ws.carol!];
      // Carol's workstation is deleted: it never anchors again.
      await carol.client.close();
      delete ws.carol;
      // Alice's database: a row anchored weeks ago is changed on the workstation.
      await quit(alice);
      const db = openDb({ file: join(alice.dir, 'cache.db'), key: alice.keys.store });
      db.prepare('UPDATE audit_log SET detail = ? WHERE seq = 5').run('{"messageId":"x","to":"eve@clinic.test"}');
      db.close();
      await open(alice, false);
      // Bob's database is put back to the copy of day 26.
      await quit(bob);
      for (const f of ['cache.db-wal', 'cache.db-shm']) rmSync(join(bob.dir, f), { force: true });
      copyFileSync(backup, join(bob.dir, 'cache.db'));
      await open(bob, false);
      // From alice's own account, a batch for her workstation signed by a key that is not hers.
      const stranger = (
        await openpgp.generateKey({
          userIDs: [{ name: 'x' }],
          format: 'object',
          type: 'ecc',
          curve: 'curve25519Legacy',
        })
      ).privateKey;
      const compliance = (await openpgp.readPrivateKey({ armoredKey: readFileSync(keyFile, 'utf8') })).toPublic();
      const entry = { seq: 999, at: clock.now(), type: 'unlock', detail: '{}', prevMac: '', mac: '' };
      const forged = await sealAnchorBatch(
        {
          v: 1,
          account: jid('alice'),
          workstation: alice.id,
          batch: 9999,
          sentAt: clock.now(),
          prevLink: GENESIS_LINK,
          head: { seq: 1, link: GENESIS_LINK },
          entries: [entry],
          localProblems: [],
        },
        stranger,
        compliance,
        new Date(clock.now()),
      );
      const raw = rawConnection(server, jid('alice'), pw.alice!, 'forger');
      await raw.start();
      await raw.sendAcked(auditAnchorStanza(COMP, forged));
      await raw.stop();
      for (let d = 30; d < 35; d++) await passDay(d, [alice, bob]);

      const out = join(dir, 'tampered');
      const r = await cli([
        'report',
        '--from',
        day(0),
        '--to',
        day(34),
        '--as',
        COMP,
        '--key',
        keyFile,
        '--out',
        out,
        ...where(),
      ]);
      expect(r.code, r.stdout).toBe(3);
      expect(r.stderr).toMatch(/Verification failed: \d+ problem/);
      const findings = readFileSync(join(out, 'findings.csv'), 'utf8');
      const named = (kind: string, name: string) =>
        findings.split('\r\n').filter((l) => l.startsWith(`${kind},${jid(name)},ws-${name}-0001,`));
      expect(named('edited', 'alice').join('\n')).toMatch(/up to seq \d+, anchored earlier, was changed or removed/);
      expect(named('edited', 'alice').join('\n')).toMatch(/own chain check found entry 5 edited/);
      expect(named('rollback', 'bob').join('\n')).toMatch(/arrived twice with different content/);
      expect(named('stopped', 'carol')).toHaveLength(1);
      expect(named('forged', 'alice').join('\n')).toMatch(
        /batch 9999 is not signed by alice@clinic\.test's published key/,
      );
      // Nothing is blamed on a workstation that did nothing wrong in its own chain.
      expect(named('rollback', 'alice')).toEqual([]);
      expect(findings.split('\r\n').filter((l) => l.includes(jid('carol')))).toHaveLength(1);
      const html = readFileSync(join(out, 'activity-report.html'), 'utf8');
      expect(html).toMatch(/Verification failed: \d+ problems/);
      // The saved report with problems is intact; verify-report says so and keeps its verdict.
      const again = await cli(['verify-report', join(out, 'activity-report.html')]);
      expect(again.code).toBe(3);
      expect(again.stderr).toMatch(/Intact, and its verdict names \d+ problem/);
    },
    SPAWNS,
  );
});

describe('a compliance account whose key is not the pinned one', () => {
  it(
    'sends nothing and audits the refusal',
    async () => {
      const erin = await open(
        {
          name: 'erin',
          id: 'ws-erin-0001',
          dir: mkdtempSync(join(tmpdir(), 'ws-erin-')),
          keys: { store: randomBytes(32), audit: randomBytes(32) },
        },
        true,
        'C'.repeat(40),
      );
      ws.erin = erin;
      expect(anchorState(erin.client.store)).toMatchObject({ batch: 0, at: null, pending: null });
      const refused = erin.client.audit.list(null, 50).items.filter((e) => e.type === 'audit-anchor');
      expect(refused).toHaveLength(1);
      expect(refused[0]!.detail).toMatchObject({ result: 'key-mismatch', jid: COMP });
      expect(existsSync(erin.dir)).toBe(true);
    },
    SPAWNS,
  );
});

describe('batches on the workstation (no server)', () => {
  it('resends an unacknowledged batch unchanged, continues from its head once acknowledged, and splits a backlog', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'anchor-batches-'));
    const store = openStore({ file: join(folder, 'cache.db'), key: randomBytes(32), worker: false });
    try {
      const audit = createAuditLog({ store, key: randomBytes(32), clock });
      for (let i = 0; i < 450; i++) audit.append('message-opened', { peer: jid('bob'), messageId: `m${i}` });
      const who = { account: jid('alice'), workstation: 'ws-alice-0009' };
      const first = nextBatch(store, audit, who, 1_000);
      expect(first.batch).toMatchObject({ batch: 1, sentAt: 1_000, prevLink: GENESIS_LINK, head: { seq: 200 } });
      expect(first.batch.entries).toHaveLength(200);
      expect(first.more).toBe(true);
      // No ack: built again later, after more activity, it is the same JSON (the receiver drops the copy).
      audit.append('lock', { reason: 'idle' });
      expect(JSON.stringify(nextBatch(store, audit, who, 9_000).batch)).toBe(JSON.stringify(first.batch));
      markAnchored(store, first.batch, 9_000);
      // Within one run the next batch starts from the link the previous one ended on (no rehash)…
      const second = nextBatch(store, audit, who, 10_000, { head: first.batch.head });
      // …which is the link a new run recomputes from the stored rows: the same batch.
      expect(JSON.stringify(nextBatch(store, audit, who, 10_500).batch)).toBe(JSON.stringify(second.batch));
      expect(second.batch).toMatchObject({ batch: 2, prevLink: first.batch.head.link, head: { seq: 400 } });
      expect(second.batch.head.link).toBe(chainLink(first.batch.head.link, second.batch.entries));
      markAnchored(store, second.batch, 10_000);
      const third = nextBatch(store, audit, who, 11_000);
      expect(third.batch.entries.map((e) => e.seq)).toEqual(Array.from({ length: 51 }, (_, i) => 401 + i));
      expect(third.more).toBe(false);
      expect(anchorState(store)).toMatchObject({ batch: 2, seq: 400, at: 10_000, pending: { batch: 3, toSeq: 451 } });
    } finally {
      await store.close();
      rmSync(folder, { recursive: true, force: true });
    }
  });
});

describe('report and verify-report on bad input', () => {
  it(
    'refuses a bad period, a wrong password and a file that is not a report, each with its message',
    async () => {
      const base = ['--as', COMP, '--key', keyFile, ...where()];
      const period = await cli(['report', '--from', '2026-02-30', '--to', day(1), '--out', join(dir, 'x'), ...base]);
      expect(period.code).toBe(2);
      expect(period.stderr).toMatch(/--from must be a day as YYYY-MM-DD \(got "2026-02-30"\)/);
      const backwards = await cli(['report', '--from', day(2), '--to', day(1), '--out', join(dir, 'x'), ...base]);
      expect(backwards.code).toBe(2);
      expect(backwards.stderr).toMatch(/--to is before --from/);
      const wrong = await cli(
        ['report', '--from', day(0), '--to', day(1), '--out', join(dir, 'y'), ...base],
        'not the password',
      );
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toMatch(/refused the password of compliance@clinic\.test; no report was written/);
      expect(existsSync(join(dir, 'y'))).toBe(false);
      const notReport = join(dir, 'not-a-report.html');
      writeFileSync(notReport, '<!doctype html><p>hello</p>');
      const nr = await cli(['verify-report', notReport]);
      expect(nr.code).toBe(1);
      expect(nr.stderr).toMatch(/is not a clinic-admin activity report/);
      const missing = await cli(['verify-report', join(dir, 'nowhere.html')]);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(/Cannot read .*nowhere\.html \(no such file\)/);
    },
    SPAWNS,
  );
});

describe("the server's own message metadata", () => {
  it(
    "merges who exchanged messages with whom and when from Prosody's archive (never content), and verify-report still matches",
    async () => {
      const today = new Date().toISOString().slice(0, 10);
      const a = rawConnection(server, jid('alice'), pw.alice!, 'meta');
      await a.start();
      await a.sendAcked(xml('message', { to: jid('bob'), type: 'chat', id: 'meta-1' }, xml('body', {}, 'opaque')));
      await a.stop();
      const out = join(dir, 'with-server');
      const r = await cli([
        'report',
        '--from',
        today,
        '--to',
        today,
        '--as',
        COMP,
        '--key',
        keyFile,
        '--out',
        out,
        '--prosody-config',
        server.configFile,
        ...where(),
      ]);
      expect([0, 3], r.stderr).toContain(r.code);
      const csv = readFileSync(join(out, 'server-metadata.csv'), 'utf8').split('\r\n');
      expect(csv[0]).toBe('time,account,peer');
      expect(csv.filter((l) => l.endsWith(`,${jid('alice')},${jid('bob')}`))).toHaveLength(1);
      expect(csv.filter((l) => l.endsWith(`,${jid('bob')},${jid('alice')}`))).toHaveLength(1);
      expect(csv.join('\n')).not.toContain(COMP); // the anchoring traffic itself is left out
      const html = readFileSync(join(out, 'activity-report.html'), 'utf8');
      expect(html).toContain('Server archive metadata');
      expect(html).toContain(`${jid('alice')} ↔ ${jid('bob')}`);
      expect(html).not.toContain('opaque');
      const v = await cli(['verify-report', join(out, 'activity-report.html')]);
      expect([0, 3], v.stderr).toContain(v.code);
      expect(v.stderr).not.toMatch(/was edited/);
    },
    SPAWNS,
  );
});
