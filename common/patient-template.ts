/**
 * Templates for texts to patients (issue 17 item 5), pure. A template is the message (encrypted,
 * read only on the patient's page after the identity check) with placeholders filled per patient,
 * and the SMS text that carries its link — checked by common/sms-text.ts like every SMS: no name,
 * date, number or blocked word, {link} once and no other placeholder. An unknown placeholder in
 * the message is refused when the template is saved, never discovered at send time.
 */
import { checkSmsText, describeSmsProblem } from './sms-text';

export const TEMPLATE_PLACEHOLDERS = ['firstName', 'lastName', 'fullName', 'clinicName', 'date'] as const;
export type TemplatePlaceholder = (typeof TEMPLATE_PLACEHOLDERS)[number];
export type TemplateValues = Record<TemplatePlaceholder, string>;

export interface TemplateDraft {
  name: string;
  body: string;
  smsText: string;
}

/** A template's problems in words, by the field they belong to; every list empty when it can be saved. */
export interface TemplateProblems {
  name: string[];
  body: string[];
  smsText: string[];
}
export const TEMPLATE_FIELDS = ['name', 'body', 'smsText'] as const;

/** Each field's problems, so the form shows each beside its field (saving a new or an edited template). */
export function checkTemplateFields(t: TemplateDraft, blockedWords: readonly string[] = []): TemplateProblems {
  const problems: TemplateProblems = { name: [], body: [], smsText: [] };
  if (t.name.trim() === '') problems.name.push('The template needs a name.');
  if (t.body.trim() === '') problems.body.push('The message is empty.');
  for (const m of t.body.matchAll(/\{([^{}]*)\}/g))
    if (!(TEMPLATE_PLACEHOLDERS as readonly string[]).includes(m[1]!))
      problems.body.push(
        `{${m[1]}} is not a placeholder the app knows; use ${TEMPLATE_PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}.`,
      );
  const unbalanced = t.body.replace(/\{[^{}]*\}/g, '');
  if (/[{}]/.test(unbalanced)) problems.body.push('The message has a { or } that is not part of a placeholder.');
  const sms = checkSmsText(t.smsText, { extraWords: blockedWords });
  if (!sms.ok) problems.smsText.push(...sms.problems.map((p) => `SMS: ${describeSmsProblem(p)}`));
  return problems;
}

/** Problems in words, for the person editing the template; [] when it can be saved. */
export function checkTemplate(t: TemplateDraft, blockedWords: readonly string[] = []): string[] {
  const byField = checkTemplateFields(t, blockedWords);
  return TEMPLATE_FIELDS.flatMap((f) => byField[f]);
}

/** The message for one patient (the template was checked when it was saved). */
export function fillTemplate(body: string, values: TemplateValues): string {
  return body.replace(/\{([^{}]*)\}/g, (whole, name: string) =>
    (TEMPLATE_PLACEHOLDERS as readonly string[]).includes(name) ? values[name as TemplatePlaceholder] : whole,
  );
}

/** {date}: today's date in words (e.g. "1 December 2026"), from the caller's clock. */
export function dateInWords(epochMs: number): string {
  return new Date(epochMs).toLocaleDateString('en-GB', {
    day: 'numeric',
    month: 'long',
    year: 'numeric',
    timeZone: 'UTC',
  });
}
