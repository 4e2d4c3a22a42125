/**
 * The patient list's and the templates' pure parts (issue 17 item 5): the CSV reader names every
 * refused row with its spreadsheet row number and a reason in words; quoting as RFC 4180 has it;
 * a template's unknown placeholders and PHI in its SMS text are problems at save time; filling
 * puts each patient's values in and nothing else. And the store's side over a real SQLCipher file:
 * a segment and all its recipients are recorded at once, each is prepared into its text exactly
 * once, and its progress counts them.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { normalizePhone, parseCsvRecords, parsePatientCsv } from '../../common/patient-csv';
import { checkTemplate, checkTemplateFields, dateInWords, fillTemplate } from '../../common/patient-template';
import { openStore, type Store } from '../../main/store';
import { migrations, runMigrations } from '../../main/store/migrations';
import { openDb } from '../../main/store/open-db';

const TODAY = '2026-12-01';
const HEAD = 'first name,last name,phone,date of birth';

describe('patient CSV', () => {
  it('reads quoted fields with commas, doubled quotes and line breaks', () => {
    expect(parseCsvRecords('a,"b, c","say ""hi""","two\nlines"\r\nx,y,z,w')).toEqual([
      ['a', 'b, c', 'say "hi"', 'two\nlines'],
      ['x', 'y', 'z', 'w'],
    ]);
    expect(parseCsvRecords('a,"never closed\n')).toBeNull();
  });

  it('writes phone numbers in international form, refuses local ones', () => {
    expect(normalizePhone('+1 (555) 123-0000')).toBe('+15551230000');
    expect(normalizePhone('555-0100')).toBeNull();
    expect(normalizePhone('+0123456789')).toBeNull();
  });

  it('names each refused row with its spreadsheet number and why, and keeps the good ones', () => {
    const r = parsePatientCsv(
      [
        HEAD,
        'Maria,Lopez,+15550101010,1984-02-29',
        ',Lopez,+15550101011,1984-02-28',
        'Ann,Lee,,1984-02-28',
        'Ann,Lee,+15550101012,',
        'Ann,Lee,+15550101013,1985-02-29',
        'Bob,{x},+15550101014,1980-01-01',
        'Cy,Hu,+15550101010,1980-01-01',
        '',
        'Di,Ng,+15550101015,2026-12-02',
      ].join('\n'),
      TODAY,
    );
    expect(r).toEqual({
      ok: true,
      patients: [{ row: 2, firstName: 'Maria', lastName: 'Lopez', phone: '+15550101010', dob: '1984-02-29' }],
      refused: [
        { row: 3, reason: 'the first name is missing' },
        { row: 4, reason: 'the phone number is missing' },
        { row: 5, reason: 'the date of birth is missing' },
        { row: 6, reason: 'the date of birth "1985-02-29" is not a real date written YYYY-MM-DD' },
        { row: 7, reason: 'the last name contains control characters or { } < >' },
        { row: 8, reason: 'the phone number is already on row 2' },
        { row: 10, reason: 'the date of birth 2026-12-02 is in the future' },
      ],
    });
  });

  it('refuses a file it cannot read as a whole, saying why', () => {
    expect(parsePatientCsv('', TODAY)).toEqual({ ok: false, problem: 'The file is empty.' });
    expect(parsePatientCsv('name,phone\n', TODAY)).toMatchObject({
      ok: false,
      problem: /missing: first name, last name, date of birth/,
    });
    expect(parsePatientCsv(`${HEAD}\n"x,y,z,w\n`, TODAY)).toMatchObject({ ok: false, problem: /never closed/ });
    const big = `${HEAD}\n${'A,B,+15550101010,1980-01-01\n'.repeat(10_001)}`;
    expect(parsePatientCsv(big, TODAY)).toMatchObject({ ok: false, problem: /more than 10000 rows/ });
  });

  it('reads headers however they are written, in any order, with a byte-order mark', () => {
    const r = parsePatientCsv('\uFEFFDOB,Mobile,Surname,Given name\n1980-01-01,+15550101010,Hu,Cy\n', TODAY);
    expect(r).toMatchObject({ ok: true, patients: [{ firstName: 'Cy', lastName: 'Hu', dob: '1980-01-01' }] });
  });
});

describe('templates', () => {
  const sms = 'Your clinic sent you a secure message: {link}';
  it('accepts the known placeholders and a PHI-free SMS text', () => {
    expect(
      checkTemplate({
        name: 'Recall',
        body: 'Dear {firstName} {lastName} ({fullName}), {clinicName} on {date}.',
        smsText: sms,
      }),
    ).toEqual([]);
  });
  it('names unknown placeholders, stray braces and every SMS problem', () => {
    expect(
      checkTemplate({ name: '', body: 'Hi {first_name} {', smsText: 'Monday at the lab: {link} {firstName}' }),
    ).toEqual([
      'The template needs a name.',
      expect.stringMatching(/^\{first_name\} is not a placeholder the app knows/),
      'The message has a { or } that is not part of a placeholder.',
      'SMS: The text must contain {link} exactly once, and no other {…}.',
      'SMS: “monday” is a date: an SMS never says when.',
      "SMS: “lab” is on the clinic's list of words an SMS never carries.",
    ]);
    expect(checkTemplate({ name: 'X', body: 'Hi', smsText: 'Flu shots: {link}' }, ['flu'])).toEqual([
      "SMS: “flu” is on the clinic's list of words an SMS never carries.",
    ]);
  });
  it('puts each problem beside its own field (the edit form shows them there)', () => {
    expect(
      checkTemplateFields({ name: ' ', body: 'Hi {apptDay}', smsText: 'Your lab results: {link}' }, ['results']),
    ).toEqual({
      name: ['The template needs a name.'],
      body: [expect.stringMatching(/^\{apptDay\} is not a placeholder the app knows/)],
      smsText: [
        "SMS: “lab” is on the clinic's list of words an SMS never carries.",
        "SMS: “results” is on the clinic's list of words an SMS never carries.",
      ],
    });
    // A PHI word only in the message is fine: the message is encrypted, only the SMS is checked.
    expect(checkTemplateFields({ name: 'Labs', body: 'Your lab results are in.', smsText: sms })).toEqual({
      name: [],
      body: [],
      smsText: [],
    });
  });
  it('fills each placeholder with the patient’s values and leaves other text alone', () => {
    const values = {
      firstName: 'Ann',
      lastName: 'Lee',
      fullName: 'Ann Lee',
      clinicName: 'Northside',
      date: '1 December 2026',
    };
    expect(fillTemplate('Dear {firstName}, {clinicName} {date} {other}', values)).toBe(
      'Dear Ann, Northside 1 December 2026 {other}',
    );
    // A value that looks like a placeholder is not filled again.
    expect(fillTemplate('{firstName} {lastName}', { ...values, firstName: '{lastName}' })).toBe('{lastName} Lee');
    expect(dateInWords(Date.UTC(2026, 11, 1, 23, 0))).toBe('1 December 2026');
  });
});

describe('patient list store', () => {
  let dir: string;
  let store: Store;
  afterEach(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const open = () => {
    dir = mkdtempSync(join(tmpdir(), 'patient-lists-'));
    store = openStore({ file: join(dir, 'cache.db'), key: randomBytes(32), worker: false });
    return store.patientLists;
  };

  it('imports by phone number: a second import updates, names sort by last name', () => {
    const lists = open();
    const p = (id: string, firstName: string, lastName: string, phone: string) => ({
      id,
      firstName,
      lastName,
      phone,
      dob: '1980-01-01',
    });
    expect(
      lists.importPatients([p('a', 'Zed', 'Young', '+15550000001'), p('b', 'Amy', 'Adams', '+15550000002')]),
    ).toEqual({ added: 2, updated: 0 });
    expect(lists.importPatients([p('c', 'Zed', 'Yount', '+15550000001')])).toEqual({ added: 0, updated: 1 });
    expect(lists.listPatients().map((x) => [x.id, x.lastName])).toEqual([
      ['b', 'Adams'],
      ['a', 'Yount'],
    ]);
  });

  it('records a segment with all its recipients at once, prepares them in batches once each, and counts its progress', () => {
    const lists = open();
    const rec = (id: string) => ({
      id,
      patientId: `p-${id}`,
      patientName: 'A B',
      phone: '+15550000001',
      dob: '1970-01-02',
      body: `body of ${id}`,
      smsText: 's {link}',
    });
    lists.createSegment({ id: 's1', name: 'Recall', templateId: null }, [rec('t1'), rec('t2'), rec('t3')]);
    expect(lists.segment('s1')).toMatchObject({ total: 3, preparing: 3, waiting: 0, handed: 0, failed: 0 });
    expect(store.patientTexts.unsent()).toEqual([]);
    expect(lists.unprepared(2).map((r) => [r.id, r.segmentId, r.dob, r.body])).toEqual([
      ['t1', 's1', '1970-01-02', 'body of t1'],
      ['t2', 's1', '1970-01-02', 'body of t2'],
    ]);

    lists.prepared([
      { id: 't1', dobVerifier: 'v1' },
      { id: 't2', dobVerifier: 'v2' },
    ]);
    expect(lists.segment('s1')).toMatchObject({ total: 3, preparing: 1, waiting: 2, handed: 0 });
    expect(lists.unprepared(10).map((r) => r.id)).toEqual(['t3']);
    expect(store.patientTexts.get('t1')).toMatchObject({ state: 'sending', body: 'body of t1', dobVerifier: 'v1' });
    expect(lists.segmentOf('t1')).toBe('s1');
    // Prepared again (a second run after a crash): nothing changes, nobody gets a second text.
    lists.prepared([{ id: 't1', dobVerifier: 'other' }]);
    expect(store.patientTexts.get('t1')?.dobVerifier).toBe('v1');
    expect(lists.segment('s1')).toMatchObject({ preparing: 1, waiting: 2 });

    lists.prepared([{ id: 't3', dobVerifier: 'v3' }]);
    store.patientTexts.taken('t1', { linkId: 'link-0001', patientJid: 'p-00@x', state: 'queued', expiresAt: 1 });
    store.patientTexts.fail('t2', 'opted-out');
    expect(lists.segment('s1')).toMatchObject({ total: 3, preparing: 0, waiting: 1, handed: 1, failed: 1 });
    expect(lists.unprepared(10)).toEqual([]);
    // A duplicate id aborts the whole segment: nothing of it is recorded.
    expect(() => lists.createSegment({ id: 's2', name: 'X', templateId: null }, [rec('t4'), rec('t4')])).toThrow();
    expect(lists.segment('s2')).toBeUndefined();
    expect(lists.unprepared(10)).toEqual([]);
  });

  it('migration 0013 keeps the texts of version 12 as they were, in no segment', () => {
    dir = mkdtempSync(join(tmpdir(), 'patient-lists-'));
    const db = openDb({ file: join(dir, 'cache.db'), key: randomBytes(32) });
    runMigrations(db, migrations, 12);
    db.prepare(
      `INSERT INTO patient_texts (id, created_at, updated_at, patient_name, phone, dob_verifier, body, sms_text, state)
       VALUES ('t1', 1, 2, 'A B', '+15550000001', NULL, 'kept', 's {link}', 'queued')`,
    ).run();
    const before = db.prepare('SELECT * FROM patient_texts').get() as Record<string, unknown>;
    expect(runMigrations(db, migrations, 13)).toBe(13);
    expect(db.prepare('SELECT * FROM patient_texts').get()).toEqual({ ...before, segment_id: null, patient_id: null });
    // STRICT, and a segment's texts must name a segment that exists.
    db.pragma('foreign_keys = ON');
    expect(() => db.prepare("UPDATE patient_texts SET segment_id = 'nope' WHERE id = 't1'").run()).toThrow(
      /FOREIGN KEY/,
    );
    expect(() =>
      db
        .prepare(
          "INSERT INTO patients (id, first_name, last_name, phone, dob, created_at, updated_at) VALUES ('p', 'a', 'b', '+1', 'x', 'soon', 1)",
        )
        .run(),
    ).toThrow(/cannot store TEXT value in INTEGER column/);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
    store = undefined as unknown as Store;
  });
});
