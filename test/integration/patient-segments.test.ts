/**
 * The patient list, templates and "send to a segment" (issue 17 item 5) inside a signed-in
 * session, over a real Prosody with the real patient gateway and its SMS sink, a real SQLCipher
 * store and the compliance account's published archive key: a CSV import names every refused row
 * and writes nothing until the person chooses; a template with an unknown placeholder or PHI in its
 * SMS text is refused when saved, and so is an edit (each field's problems apart), audited without
 * its text; a segment of 200 patients gets one text each, with its own link
 * and secret, even when the session dies in the middle (the store closed under it) and one text was
 * taken by the gateway without its answer ever being recorded: after the resume every patient in the
 * sink has exactly one SMS, and nobody is skipped — and the template edited and deleted while the
 * segment waited changes nothing it sends: each text was copied when the segment was prepared.
 * And a segment whose session dies in the middle of preparing its texts (some stored, some still
 * recorded recipients): nothing goes before all are prepared, the resume prepares only the rest
 * and sends each patient exactly one SMS, with its own link and secret.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as openpgp from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSink } from '../../gateway/sms/sink';
import type { AppError } from '../../common/result';
import { deliverPatientText } from '../../main/patients/send-text';
import { publishPublicKey } from '../../main/xmpp/pep-keys';
import type { XmppConnection } from '../../main/xmpp/transport/connection';
import { adminKey } from '../support/crypto-fixtures';
import { fakeClock } from '../support/fake-clock';
import { startTestGateway, type TestGateway } from '../support/gateway-support';
import { startProsody, type ProsodyServer } from '../support/prosody';
import { auditTypes, makeClient, rawConnection, waitFor, type TestClient } from '../support/xmpp-support';

const RITA = 'rita@clinic.test';
const COMP = 'compliance@clinic.test';
const SEGMENT = 200;
const phoneOf = (i: number) => `+1555030${String(i).padStart(4, '0')}`;
/** Two batches of preparation (64 each), so a crash can fall between them. */
const PREP = 100;
/** The DOB verifiers are slow on purpose (scrypt, 32 MiB each): on a loaded machine, ~1 s each. */
const PREPARED_WITHIN = 600_000;
const prepPhone = (i: number) => `+1555031${String(i).padStart(4, '0')}`;
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

  it("edits a template with the same checks, each field's problems in words, and deletes it; audited without its text", () => {
    const lists = rita.messaging.patients.lists;
    const draft = {
      id: null,
      name: 'Reminder',
      body: 'Dear {firstName}, a reminder from {clinicName}.',
      smsText: 'A secure message from your clinic: {link}',
      quick: false,
    };
    const made = lists.saveTemplate(draft);
    const other = lists.saveTemplate({ ...draft, name: 'Other reminder' });
    const edit = { ...draft, id: made.id };
    const refusal = (t: typeof edit) => {
      try {
        lists.saveTemplate(t);
      } catch (err) {
        return err as AppError;
      }
      throw new Error('not refused');
    };
    const phi = refusal({ ...edit, body: 'Dear {firstName}, see {doctor}.', smsText: 'Your lab results: {link}' });
    expect(phi.code).toBe('BAD_INPUT');
    expect(phi.details).toEqual({
      body: expect.stringMatching(/^\{doctor\} is not a placeholder the app knows/),
      smsText: expect.stringContaining('“lab”'),
    });
    expect(refusal({ ...edit, name: 'other REMINDER' }).details).toEqual({
      name: 'A template named “other REMINDER” exists already.',
    });
    expect(refusal({ ...edit, id: 'gone' }).code).toBe('NOT_FOUND');
    expect(lists.templates().find((t) => t.id === made.id)).toEqual(made);

    const edited = lists.saveTemplate({ ...edit, name: 'Reminder, kind', body: 'Hello {firstName}.', quick: true });
    expect(edited).toEqual({
      id: made.id,
      name: 'Reminder, kind',
      body: 'Hello {firstName}.',
      smsText: draft.smsText,
      quick: true,
      updatedAt: expect.any(Number),
    });
    expect(edited.updatedAt).toBeGreaterThanOrEqual(made.updatedAt);
    expect(lists.templates().filter((t) => t.id === made.id)).toEqual([edited]);
    lists.deleteTemplate(made.id);
    lists.deleteTemplate(other.id);
    expect(lists.templates().filter((t) => t.id === made.id || t.id === other.id)).toEqual([]);
    expect(() => lists.deleteTemplate(made.id)).toThrow(/no longer exists/);

    const trail = auditTypes(rita).filter((e) => e.type === 'patient-text' && e.detail.template === made.id);
    // Newest first, as the audit lists them.
    expect(trail.map((e) => e.detail).reverse()).toEqual([
      { template: made.id, list: 'template-saved' },
      { template: made.id, list: 'template-edited' },
      { template: made.id, list: 'template-deleted' },
    ]);
    expect(JSON.stringify(auditTypes(rita))).not.toMatch(/Reminder|Hello|reminder from/);
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
    // Every recipient is recorded before any text is prepared or goes.
    expect(started).toMatchObject({ total: SEGMENT, preparing: SEGMENT, waiting: 0, handed: 0, failed: 0 });

    // The crash: the store closes under the running send, then the session goes.
    await waitFor(
      'a quarter handed over',
      () => (rita.store.patientLists.segment(started.id)?.handed ?? 0) >= SEGMENT / 4,
      PREPARED_WITHIN,
    );
    await rita.store.close();
    await rita.messaging.stop().catch(() => undefined); // the session is dying: its errors are the point
    const phonesAtCrash = new Set(readSink(gw.sinkDir).map((s) => s.to));
    const sentAtCrash = [...phonesAtCrash].filter((to) => to.startsWith('+1555030')).length;
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

    // The template edited, then deleted, while its segment is still being sent: the texts still
    // waiting keep the message they were prepared with (each recipient's text was copied then).
    const reopened = rita.messaging.patients.lists;
    reopened.saveTemplate({ ...template, body: 'Changed after the segment was prepared, {firstName}.' });
    reopened.deleteTemplate(template.id);
    expect(rita.store.patientTexts.unsent().every((t) => t.body.startsWith('Dear Pat'))).toBe(true);

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
    const read = async (i: number) => {
      const [, id, secret] = links[sms.findIndex((s) => s.to === phoneOf(i))]!;
      const res = await fetch(`${gw.baseUrl}/api/m/${id}/open`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ dob: `1970-01-${String((i % 28) + 1).padStart(2, '0')}` }),
      });
      const { ciphertext } = (await res.json()) as { ciphertext: string };
      const message = await openpgp.readMessage({ binaryMessage: Buffer.from(ciphertext, 'base64') });
      return (await openpgp.decrypt({ message, passwords: [secret!], format: 'utf8' })).data;
    };
    expect(await read(7)).toBe('Dear Pat7, the flu clinic at Northside Clinic opens on 15 January 2027.');
    // One texted only after the template was edited and deleted: the message it was prepared with.
    const late = Array.from({ length: SEGMENT }, (_, k) => k).findLast(
      (k) => !phonesAtCrash.has(phoneOf(k)) && phoneOf(k) !== lost.phone,
    )!;
    expect(await read(late)).toBe(`Dear Pat${late}, the flu clinic at Northside Clinic opens on 15 January 2027.`);
  }, 1_200_000);

  it(`prepares a segment of ${PREP} across a crash in the middle of preparing: each text once, nobody skipped`, async () => {
    const rows = Array.from(
      { length: PREP },
      (_, i) => `Pre${i},Prepared${i},${prepPhone(i)},1980-02-${String((i % 28) + 1).padStart(2, '0')}`,
    );
    const lists = rita.messaging.patients.lists;
    lists.importCsv({ csv: enc(['first name,last name,phone,dob', ...rows].join('\n')), skipRefused: false });
    const ids = lists
      .directory()
      .filter((p) => p.lastName.startsWith('Prepared'))
      .map((p) => p.id);
    expect(ids).toHaveLength(PREP);
    const template = lists.saveTemplate({
      id: null,
      name: 'Recall',
      body: 'Dear {firstName}, {clinicName} would like to see you again.',
      smsText: 'Your clinic sent you a secure message: {link}',
      quick: false,
    });
    const started = await rita.messaging.patients.segments.send({
      templateId: template.id,
      patientIds: ids,
      clinicName: 'Southside Clinic',
    });
    expect(started).toMatchObject({ total: PREP, preparing: PREP, waiting: 0 });

    // The crash once some texts are prepared and stored, and others are not.
    const mid = await waitFor(
      'some prepared, some not',
      () => {
        const s = rita.store.patientLists.segment(started.id)!;
        return s.preparing < PREP && s.preparing > 0 ? s : null;
      },
      PREPARED_WITHIN,
    );
    const preparedBefore = new Map(
      rita.store.patientTexts
        .unsent()
        .filter((t) => t.phone.startsWith('+1555031'))
        .map((t) => [t.id, t.dobVerifier]),
    );
    await rita.store.close();
    await rita.messaging.stop().catch(() => undefined); // the session is dying: its errors are the point
    expect(preparedBefore.size).toBeGreaterThanOrEqual(PREP - mid.preparing);
    const ours = () => readSink(gw.sinkDir).filter((x) => x.to.startsWith('+1555031'));
    expect(ours(), 'nothing goes before every text is prepared').toHaveLength(0);

    rita = await open();
    const after = rita.store.patientLists.segment(started.id)!;
    expect(after.preparing, 'recipients still to prepare').toBeGreaterThan(0);
    expect(after.preparing + after.waiting).toBe(PREP);
    await rita.messaging.start();
    const done = await waitFor(
      'the segment done',
      () => {
        const s = rita.store.patientLists.segment(started.id)!;
        return s.preparing === 0 && s.waiting === 0 ? s : null;
      },
      PREPARED_WITHIN,
    );
    expect(done).toMatchObject({ total: PREP, handed: PREP, failed: 0 });
    expect(rita.store.patientLists.unprepared(10)).toEqual([]);
    // What was prepared before the crash was kept, not made again.
    for (const [id, verifier] of preparedBefore) expect(rita.store.patientTexts.get(id)?.dobVerifier).toBe(verifier);

    const sms = ours();
    const perPhone = new Map<string, number>();
    for (const x of sms) perPhone.set(x.to, (perPhone.get(x.to) ?? 0) + 1);
    expect(perPhone.size, 'nobody skipped').toBe(PREP);
    expect(
      [...perPhone.values()].every((n) => n === 1),
      'nobody texted twice',
    ).toBe(true);
    const links = sms.map((x) => /\/m\/([A-Za-z0-9_-]{22})#([A-Za-z0-9_-]{22})$/.exec(x.body)!);
    expect(new Set(links.map((l) => l[1])).size, 'a link per patient').toBe(PREP);
    expect(new Set(links.map((l) => l[2])).size, 'a secret per patient').toBe(PREP);

    // A patient whose text was prepared after the resume opens it with their own DOB and secret.
    const i = PREP - 1;
    const [, id, secret] = links[sms.findIndex((x) => x.to === prepPhone(i))]!;
    const res = await fetch(`${gw.baseUrl}/api/m/${id}/open`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ dob: `1980-02-${String((i % 28) + 1).padStart(2, '0')}` }),
    });
    const { ciphertext } = (await res.json()) as { ciphertext: string };
    const message = await openpgp.readMessage({ binaryMessage: Buffer.from(ciphertext, 'base64') });
    const { data } = await openpgp.decrypt({ message, passwords: [secret!], format: 'utf8' });
    expect(data).toBe(`Dear Pre${i}, Southside Clinic would like to see you again.`);
  }, 1_200_000);
});
