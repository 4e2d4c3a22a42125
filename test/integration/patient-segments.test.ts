/**
 * The patient list, templates and "send to a segment" (issue 17 item 5) inside a signed-in
 * session, over a real Prosody with the real patient gateway and its SMS sink, a real SQLCipher
 * store and the compliance account's published archive key: a CSV import names every refused row
 * and writes nothing until the person chooses; a template with an unknown placeholder or PHI in its
 * SMS text is refused when saved; a segment of 200 patients gets one text each, with its own link
 * and secret, even when the session dies in the middle (the store closed under it) and one text was
 * taken by the gateway without its answer ever being recorded: after the resume every patient in the
 * sink has exactly one SMS, and nobody is skipped.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as openpgp from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSink } from '../../gateway/sms/sink';
import { deliverPatientText } from '../../main/patients/send-text';
import { publishPublicKey } from '../../main/xmpp/pep-keys';
import type { XmppConnection } from '../../main/xmpp/transport/connection';
import { adminKey } from '../support/crypto-fixtures';
import { fakeClock } from '../support/fake-clock';
import { startTestGateway, type TestGateway } from '../support/gateway-support';
import { startProsody, type ProsodyServer } from '../support/prosody';
import { makeClient, rawConnection, waitFor, type TestClient } from '../support/xmpp-support';

const RITA = 'rita@clinic.test';
const COMP = 'compliance@clinic.test';
const SEGMENT = 200;
const phoneOf = (i: number) => `+1555030${String(i).padStart(4, '0')}`;
const enc = (s: string) => new TextEncoder().encode(s);

describe('patient list, templates and segment sends', () => {
  const clock = fakeClock();
  const dir = mkdtempSync(join(tmpdir(), 'patient-segments-'));
  const keys = { store: randomBytes(32), audit: randomBytes(32) };
  let server: ProsodyServer;
  let gw: TestGateway;
  let comp: XmppConnection;
  let archive: openpgp.PrivateKey;
  let fingerprint: string;
  let rita: TestClient;

  const open = () =>
    makeClient(server, RITA, 'rita-pw-1', {
      clock,
      dir,
      keys,
      start: false,
      policy: { complianceAccount: COMP, complianceKeyFingerprint: fingerprint },
    });

  beforeAll(async () => {
    server = await startProsody({
      users: [
        { jid: RITA, password: 'rita-pw-1', name: 'Rita Reception' },
        { jid: COMP, password: 'comp-pw-1', name: 'Compliance' },
      ],
    });
    gw = await startTestGateway(server, clock);
    archive = await adminKey('Clinic archive');
    fingerprint = archive.getFingerprint().toUpperCase();
    comp = rawConnection(server, COMP, 'comp-pw-1', 'admin');
    await comp.start();
    await publishPublicKey(comp, fingerprint, archive.toPublic().write(), new Date(clock.now()));
    rita = await open();
    await rita.messaging.start({ firstRun: true });
  });
  afterAll(async () => {
    await rita?.messaging.stop();
    await rita?.store.close();
    await comp?.stop();
    await gw?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('names every refused CSV row and writes nothing until the person chooses to import the rest', () => {
    const csv = [
      'First name,Last name,Phone,Date of birth,Notes',
      'Maria,Lopez,+1 (555) 010-1010,1984-02-29,',
      'Ann,,+15550101011,1990-01-01,',
      'Ben,Okafor,555-0100,1990-01-01,',
      'Cleo,Marsh,+15550101012,29/02/1984,',
      '"Dan, Jr.",Park,+15550101013,1970-05-05,"knee, left"',
      'Eve,Stone,+15550101010,1991-01-01,',
      'Fay,Moss,+15550101014,2099-01-01,',
      'Gus,Hale,+15550101015',
    ].join('\r\n');
    const lists = rita.messaging.patients.lists;
    const first = lists.importCsv({ csv: enc(csv), skipRefused: false });
    expect(first).toEqual({
      imported: false,
      ready: 2,
      added: 0,
      updated: 0,
      refused: [
        { row: 3, reason: 'the last name is missing' },
        { row: 4, reason: 'the phone number "555-0100" is not in international form (e.g. +15551230000)' },
        { row: 5, reason: 'the date of birth "29/02/1984" is not a real date written YYYY-MM-DD' },
        { row: 7, reason: 'the phone number is already on row 2' },
        { row: 8, reason: 'the date of birth 2099-01-01 is in the future' },
        { row: 9, reason: 'it has 3 fields where the first row has 5' },
      ],
    });
    expect(lists.directory()).toEqual([]);

    const second = lists.importCsv({ csv: enc(csv), skipRefused: true });
    expect(second).toMatchObject({ imported: true, ready: 2, added: 2, updated: 0 });
    expect(second.refused).toHaveLength(6);
    expect(lists.directory().map((p) => [p.firstName, p.lastName, p.phone, p.dob])).toEqual([
      ['Maria', 'Lopez', '+15550101010', '1984-02-29'],
      ['Dan, Jr.', 'Park', '+15550101013', '1970-05-05'],
    ]);
    // The same number again updates that patient.
    const again = lists.importCsv({
      csv: enc('phone,first name,last name,dob\n+15550101010,María,López,1984-02-29\n'),
      skipRefused: false,
    });
    expect(again).toMatchObject({ imported: true, added: 0, updated: 1, refused: [] });
    expect(() => lists.importCsv({ csv: enc('name,phone\nx,y\n'), skipRefused: true })).toThrow(
      /missing: first name, last name, date of birth/,
    );
    expect(() => lists.importCsv({ csv: new Uint8Array([0xff, 0xfe, 0x41]), skipRefused: true })).toThrow(/UTF-8/);
  });

  it('refuses a template with an unknown placeholder or PHI in its SMS text when it is saved', () => {
    const lists = rita.messaging.patients.lists;
    const base = {
      id: null,
      name: 'Flu clinic',
      quick: false,
      smsText: 'Your clinic sent you a secure message: {link}',
    };
    expect(() => lists.saveTemplate({ ...base, body: 'Dear {firstName}, {apptTime} at {clinicName}.' })).toThrow(
      /\{apptTime\} is not a placeholder/,
    );
    expect(() => lists.saveTemplate({ ...base, body: 'Hi {firstName}', smsText: 'Your lab results: {link}' })).toThrow(
      /SMS: .*“lab”/,
    );
    expect(() => lists.saveTemplate({ ...base, body: 'Hi {firstName}', smsText: 'No link here' })).toThrow(/\{link\}/);
    expect(lists.templates()).toEqual([]);
    const saved = lists.saveTemplate({
      ...base,
      body: 'Dear {firstName}, the flu clinic at {clinicName} opens on {date}.',
    });
    expect(lists.templates()).toEqual([saved]);
    expect(() => lists.saveTemplate({ ...base, body: 'Other' })).toThrow(/exists already/);
  });

  it(`sends a segment of ${SEGMENT} once each, with its own link, across a crash in the middle`, async () => {
    const rows = Array.from(
      { length: SEGMENT },
      (_, i) => `Pat${i},Segment${i},${phoneOf(i)},1970-01-${String((i % 28) + 1).padStart(2, '0')}`,
    );
    const imported = rita.messaging.patients.lists.importCsv({
      csv: enc(['first name,last name,phone,dob', ...rows].join('\n')),
      skipRefused: false,
    });
    expect(imported).toMatchObject({ imported: true, added: SEGMENT });
    const ids = rita.messaging.patients.lists
      .directory()
      .filter((p) => p.lastName.startsWith('Segment'))
      .map((p) => p.id);
    const template = rita.messaging.patients.lists.templates()[0]!;

    const started = await rita.messaging.patients.segments.send({
      templateId: template.id,
      patientIds: ids,
      clinicName: 'Northside Clinic',
    });
    expect(started).toMatchObject({ total: SEGMENT, failed: 0 });
    // Every recipient's text is in the store before the first goes.
    expect(rita.store.patientTexts.unsent().length + started.handed).toBe(SEGMENT);

    // The crash: the store closes under the running send, then the session goes.
    await waitFor(
      'a quarter handed over',
      () => (rita.store.patientLists.segment(started.id)?.handed ?? 0) >= SEGMENT / 4,
      120_000,
    );
    await rita.store.close();
    await rita.messaging.stop().catch(() => undefined); // the session is dying: its errors are the point
    const sentAtCrash = readSink(gw.sinkDir).filter((s) => s.to.startsWith('+1555030')).length;
    expect(sentAtCrash, 'the crash came in the middle').toBeLessThan(SEGMENT);

    // The same profile opened again, still offline.
    rita = await open();
    const waiting = rita.store.patientTexts.unsent();
    expect(waiting.length).toBeGreaterThan(0);
    // One text the gateway took while the app never recorded the answer (a crash between the two):
    // handed over under its row id from another connection of the same account.
    const lost = waiting[waiting.length - 1]!;
    const side = rawConnection(server, RITA, 'rita-pw-1', 'side');
    await side.start();
    await deliverPatientText(
      {
        iq: (el) => side.iq(el),
        domain: server.domain,
        archiveKey: archive.toPublic(),
        now: () => new Date(clock.now()),
      },
      { request: lost.id, phone: lost.phone, smsText: lost.smsText, dobVerifier: lost.dobVerifier, text: lost.body },
    );
    await side.stop();
    expect(readSink(gw.sinkDir).filter((s) => s.to === lost.phone)).toHaveLength(1);
    expect(rita.store.patientTexts.get(lost.id)?.state).toBe('sending');

    // The resume: the next connection sends what is still 'sending', under the same ids.
    await rita.messaging.start();
    const done = await waitFor(
      'the segment done',
      () => {
        const s = rita.store.patientLists.segment(started.id)!;
        return s.waiting === 0 ? s : null;
      },
      120_000,
    );
    expect(done).toMatchObject({ total: SEGMENT, handed: SEGMENT, failed: 0, waiting: 0 });

    const sms = readSink(gw.sinkDir).filter((s) => s.to.startsWith('+1555030'));
    const perPhone = new Map<string, number>();
    for (const s of sms) perPhone.set(s.to, (perPhone.get(s.to) ?? 0) + 1);
    expect(perPhone.size, 'nobody skipped').toBe(SEGMENT);
    expect(
      [...perPhone.values()].every((n) => n === 1),
      'nobody texted twice',
    ).toBe(true);
    const links = sms.map((s) => /\/m\/([A-Za-z0-9_-]{22})#([A-Za-z0-9_-]{22})$/.exec(s.body)!);
    expect(new Set(links.map((l) => l[1])).size, 'a link per patient').toBe(SEGMENT);
    expect(new Set(links.map((l) => l[2])).size, 'a secret per patient').toBe(SEGMENT);
    expect(
      sms.every((s) => !/Pat\d|Segment|Northside|1970/.test(s.body)),
      'no PHI in an SMS',
    ).toBe(true);

    // A patient opens theirs: the template filled for them, readable with their secret only.
    const i = 7;
    const [, id, secret] = links[sms.findIndex((s) => s.to === phoneOf(i))]!;
    const res = await fetch(`${gw.baseUrl}/api/m/${id}/open`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ dob: `1970-01-${String((i % 28) + 1).padStart(2, '0')}` }),
    });
    const { ciphertext } = (await res.json()) as { ciphertext: string };
    const message = await openpgp.readMessage({ binaryMessage: Buffer.from(ciphertext, 'base64') });
    const { data } = await openpgp.decrypt({ message, passwords: [secret!], format: 'utf8' });
    expect(data).toBe('Dear Pat7, the flu clinic at Northside Clinic opens on 15 January 2027.');
  }, 600_000);
});
