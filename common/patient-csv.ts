/**
 * The clinic's patient list from a CSV file (issue 17 item 5), pure: a header row naming the
 * columns (first name, last name, phone, date of birth; others are ignored), one patient a row,
 * RFC 4180 quoting ("Lopez, Jr."). Every row is checked and every refused row is named with its
 * row number as a spreadsheet shows it (the header is row 1) and the reason in words, so nothing
 * is imported without the person importing it seeing which rows were left out.
 * Reasons quote what the row holds: they are shown on screen, never logged.
 */
import { normalizeDob } from './dob';

export interface ImportedPatient {
  /** The spreadsheet row (header = 1). */
  row: number;
  firstName: string;
  lastName: string;
  /** E.164. */
  phone: string;
  /** YYYY-MM-DD. */
  dob: string;
}

export interface RefusedRow {
  row: number;
  reason: string;
}

export type PatientCsv =
  { ok: true; patients: ImportedPatient[]; refused: RefusedRow[] } | { ok: false; problem: string };

export const MAX_PATIENT_CSV_CHARS = 4 * 1024 * 1024;
export const MAX_PATIENT_ROWS = 10_000;

type Column = 'firstName' | 'lastName' | 'phone' | 'dob';
const HEADERS: Record<string, Column> = {
  firstname: 'firstName',
  givenname: 'firstName',
  first: 'firstName',
  lastname: 'lastName',
  surname: 'lastName',
  familyname: 'lastName',
  last: 'lastName',
  phone: 'phone',
  phonenumber: 'phone',
  mobile: 'phone',
  mobilephone: 'phone',
  cell: 'phone',
  dob: 'dob',
  dateofbirth: 'dob',
  birthdate: 'dob',
  birthday: 'dob',
};
const COLUMN_WORDS: Record<Column, string> = {
  firstName: 'first name',
  lastName: 'last name',
  phone: 'phone',
  dob: 'date of birth',
};

const E164 = /^\+[1-9][0-9]{6,14}$/;
const NAME_BAD = /[\p{Cc}\p{Cf}{}<>]/u;

/** Records of fields; quotes may hold commas, doubled quotes and line breaks. null: an unclosed quote. */
export function parseCsvRecords(text: string): string[][] | null {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      record.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      record.push(field);
      records.push(record);
      record = [];
      field = '';
    } else field += c;
  }
  if (quoted) return null;
  if (field !== '' || record.length > 0) {
    record.push(field);
    records.push(record);
  }
  return records;
}

/** A phone number as people write it ("+1 (555) 123-0000") in E.164, or null. */
export function normalizePhone(raw: string): string | null {
  const compact = raw.replace(/[\s().-]/g, '');
  return E164.test(compact) ? compact : null;
}

function checkName(value: string, what: string): string | null {
  if (value === '') return `the ${what} is missing`;
  if (value.length > 100) return `the ${what} is longer than 100 characters`;
  if (NAME_BAD.test(value)) return `the ${what} contains control characters or { } < >`;
  return null;
}

function checkRow(fields: string[], at: Record<Column, number>, today: string): Omit<ImportedPatient, 'row'> | string {
  const get = (c: Column) => (fields[at[c]] ?? '').trim();
  const [firstName, lastName] = [get('firstName'), get('lastName')];
  const nameProblem = checkName(firstName, 'first name') ?? checkName(lastName, 'last name');
  if (nameProblem) return nameProblem;
  const rawPhone = get('phone');
  if (rawPhone === '') return 'the phone number is missing';
  const phone = normalizePhone(rawPhone);
  if (!phone) return `the phone number "${rawPhone}" is not in international form (e.g. +15551230000)`;
  const rawDob = get('dob');
  if (rawDob === '') return 'the date of birth is missing';
  const dob = normalizeDob(rawDob);
  if (!dob) return `the date of birth "${rawDob}" is not a real date written YYYY-MM-DD`;
  if (dob > today) return `the date of birth ${dob} is in the future`;
  return { firstName, lastName, phone, dob };
}

/**
 * Checks the whole file. `today` (YYYY-MM-DD, from the caller's clock) refuses dates of birth in
 * the future. ok: false only when the file as a whole cannot be read (no header, unclosed quote).
 */
export function parsePatientCsv(text: string, today: string): PatientCsv {
  if (text.length > MAX_PATIENT_CSV_CHARS) return { ok: false, problem: 'The file is larger than 4 MB.' };
  const records = parseCsvRecords(text.replace(/^\uFEFF/, ''));
  if (!records) return { ok: false, problem: 'The file has a quote (") that is never closed.' };
  const headerAt = records.findIndex((r) => r.some((f) => f.trim() !== ''));
  if (headerAt < 0) return { ok: false, problem: 'The file is empty.' };
  const at: Partial<Record<Column, number>> = {};
  records[headerAt]!.forEach((h, i) => {
    const col = HEADERS[h.toLowerCase().replace(/[^a-z]/g, '')];
    if (col && at[col] === undefined) at[col] = i;
  });
  const missing = (Object.keys(COLUMN_WORDS) as Column[]).filter((c) => at[c] === undefined);
  if (missing.length > 0)
    return {
      ok: false,
      problem: `The first row must name the columns; missing: ${missing.map((c) => COLUMN_WORDS[c]).join(', ')}.`,
    };
  const rows = records.slice(headerAt + 1);
  if (rows.length > MAX_PATIENT_ROWS)
    return { ok: false, problem: `The file has more than ${MAX_PATIENT_ROWS} rows; split it.` };
  const width = records[headerAt]!.length;
  const patients: ImportedPatient[] = [];
  const refused: RefusedRow[] = [];
  const seen = new Map<string, number>();
  rows.forEach((fields, i) => {
    const row = headerAt + i + 2;
    if (fields.every((f) => f.trim() === '')) return;
    if (fields.length !== width)
      return void refused.push({ row, reason: `it has ${fields.length} fields where the first row has ${width}` });
    const checked = checkRow(fields, at as Record<Column, number>, today);
    if (typeof checked === 'string') return void refused.push({ row, reason: checked });
    const earlier = seen.get(checked.phone);
    if (earlier !== undefined)
      return void refused.push({ row, reason: `the phone number is already on row ${earlier}` });
    seen.set(checked.phone, row);
    patients.push({ row, ...checked });
  });
  return { ok: true, patients, refused };
}
