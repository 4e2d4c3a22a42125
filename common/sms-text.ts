/**
 * The SMS text a patient gets (issue 17 item 2): it carries the link and nothing about the
 * patient. The text comes from an editable template; this checker refuses what would put PHI in
 * an SMS — the patient's name, dates, numbers, and words from the clinic's list (diagnoses,
 * departments, anything that says why the clinic writes) — before anything reaches the gateway.
 * The gateway checks the placeholder and the length again (docs/protocol.md "Patient gateway").
 */

/** A problem, for the person editing the template (never logged: it can quote a name). */
export interface SmsTextProblem {
  kind: 'placeholder' | 'name' | 'date' | 'number' | 'word' | 'length' | 'characters';
  /** What was found, as written in the template (empty for placeholder/length). */
  found: string;
}

export type SmsTextCheck = { ok: true; text: string } | { ok: false; problems: SmsTextProblem[] };

export const LINK_PLACEHOLDER = '{link}';
/** The gateway's limit with the link put in is 306 characters; the link itself takes up to ~80. */
export const MAX_TEMPLATE_CHARS = 220;

/**
 * Words a clinic's SMS never carries unless its own list says otherwise: they tell whoever sees the
 * phone's lock screen why the clinic writes. The clinic adds its own (`extraWords`).
 */
export const DEFAULT_BLOCKED_WORDS: readonly string[] = [
  'result',
  'results',
  'lab',
  'labs',
  'test',
  'tests',
  'diagnosis',
  'positive',
  'negative',
  'biopsy',
  'cancer',
  'oncology',
  'hiv',
  'std',
  'sti',
  'pregnancy',
  'pregnant',
  'prescription',
  'medication',
  'psychiatry',
  'mental',
  'therapy',
  'surgery',
  'scan',
  'x-ray',
  'mri',
  'appointment',
];

const MONTHS = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
  'jan',
  'feb',
  'mar',
  'apr',
  'jun',
  'jul',
  'aug',
  'sep',
  'sept',
  'oct',
  'nov',
  'dec',
];
const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday', 'today', 'tomorrow'];

export interface SmsTextOptions {
  /** The patient's name as the sender typed it: no part of it may appear. */
  patientName?: string;
  /** The clinic's own words to refuse, beside DEFAULT_BLOCKED_WORDS. */
  extraWords?: readonly string[];
}

/** Words of the text, lower-cased, with where they are; letters of any script, apostrophes and hyphens inside. */
function words(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}][\p{L}'’-]*/gu) ?? [];
}

export function checkSmsText(template: string, opts: SmsTextOptions = {}): SmsTextCheck {
  const problems: SmsTextProblem[] = [];
  const text = template.trim();
  const placeholders = text.match(/\{[^}]*\}/g) ?? [];
  if (placeholders.filter((p) => p === LINK_PLACEHOLDER).length !== 1 || placeholders.length !== 1)
    problems.push({ kind: 'placeholder', found: '' });
  if (text.length > MAX_TEMPLATE_CHARS) problems.push({ kind: 'length', found: '' });
  // Control characters and invisible ones could hide text from the person checking it.
  const hidden = /[\p{Cc}\p{Cf}]/u.exec(text.replace(/\n/g, ' '));
  if (hidden) problems.push({ kind: 'characters', found: '' });

  const withoutLink = text.split(LINK_PLACEHOLDER).join(' ');
  for (const n of withoutLink.match(/\d[\d\s./:-]*/g) ?? []) problems.push({ kind: 'number', found: n.trim() });

  const found = words(withoutLink);
  const nameParts = new Set(words(opts.patientName ?? '').filter((w) => w.length >= 2));
  const blocked = new Set([...DEFAULT_BLOCKED_WORDS, ...(opts.extraWords ?? [])].map((w) => w.toLowerCase().trim()));
  const months = new Set([...MONTHS, ...WEEKDAYS]);
  const seen = new Set<string>();
  for (const w of found) {
    if (seen.has(w)) continue;
    seen.add(w);
    if (nameParts.has(w)) problems.push({ kind: 'name', found: w });
    else if (months.has(w)) problems.push({ kind: 'date', found: w });
    else if (blocked.has(w) || blocked.has(w.replace(/['’]s$/, ''))) problems.push({ kind: 'word', found: w });
  }
  // A blocked entry of several words ("test result") is matched as a phrase.
  const flat = ` ${found.join(' ')} `;
  for (const phrase of blocked)
    if (phrase.includes(' ') && flat.includes(` ${phrase} `)) problems.push({ kind: 'word', found: phrase });

  return problems.length === 0 ? { ok: true, text } : { ok: false, problems };
}

/** One line per problem, for the screen. */
export function describeSmsProblem(p: SmsTextProblem): string {
  switch (p.kind) {
    case 'placeholder':
      return `The text must contain ${LINK_PLACEHOLDER} exactly once, and no other {…}.`;
    case 'length':
      return `The text is longer than ${MAX_TEMPLATE_CHARS} characters.`;
    case 'characters':
      return 'The text contains control or invisible characters.';
    case 'name':
      return `“${p.found}” is part of the patient's name: an SMS never names the patient.`;
    case 'date':
      return `“${p.found}” is a date: an SMS never says when.`;
    case 'number':
      return `“${p.found}” is a number: an SMS carries no numbers.`;
    case 'word':
      return `“${p.found}” is on the clinic's list of words an SMS never carries.`;
  }
}
