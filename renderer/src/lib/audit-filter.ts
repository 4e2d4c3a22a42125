/**
 * The audit screen's filter (issue 15 item 5): readable names for the event types, and the form's
 * values (local-time dates, chosen types, a person) turned into audit:list's filter. Main filters
 * in the store; this only shapes the input and says what is wrong with it.
 */
import type { AuditEventType, ChannelInput } from '../../../common/ipc-contract';

export type AuditFilter = NonNullable<ChannelInput<'audit:list'>['filter']>;

/** Every event type with a short name for the filter's checkbox menu (a Record: none can be missing). */
export const auditTypeNames: Record<AuditEventType, string> = {
  'sign-in': 'Sign-in',
  unlock: 'Unlock',
  'unlock-failed': 'Wrong passphrase',
  'audit-rollback': 'Older copy of the record',
  lock: 'Lock',
  'profile-wiped': 'Profile erased',
  'policy-applied': 'Policy applied',
  'policy-acknowledged': 'Policy acknowledged',
  'passphrase-changed': 'Passphrase changed',
  'message-sent': 'Message sent',
  'message-received': 'Message received',
  'message-rejected': 'Message refused',
  'message-edited': 'Message edited',
  'message-deleted': 'Message deleted',
  'message-change-rejected': 'Edit or deletion refused',
  'message-opened': 'Conversation opened',
  'attachment-opened': 'Attachment shown',
  'message-search': 'Messages searched',
  'message-previewed': 'Message preview shown',
  'key-generated': 'Key created',
  'key-published': 'Key published',
  'key-pinned': 'Key saved on first use',
  'key-changed': 'Key changed',
  'key-change-acknowledged': 'Key change accepted',
  'key-verified': 'Key verified',
  'key-unavailable': 'Key unavailable',
  'key-backup-published': 'Key backup published',
  'key-backup-shown': 'Key backup shown',
  'key-restored': 'Key restored',
  'key-replaced': 'Key replaced',
  export: 'Export',
  'wipe-command': 'Remote wipe command',
  'admin-check': 'Check for IT commands',
  'lease-enabled': 'Offline lease on',
  'lease-renewed': 'Offline lease renewed',
  'lease-revoked': 'Offline lease withdrawn',
  'retention-purged': 'Old messages deleted',
  'audit-anchor': 'Record not anchored',
  'patient-text': 'Text to a patient',
  'room-membership': 'Care-team room membership',
  'room-policy': 'Care-team room safety and settings',
};

/** The types in the order the menu lists them: by their names. */
export const auditTypesByName = (Object.keys(auditTypeNames) as AuditEventType[]).sort((a, b) =>
  auditTypeNames[a].localeCompare(auditTypeNames[b]),
);

export interface AuditFilterForm {
  /** yyyy-mm-dd from <input type="date">, '' for none; a day in the person's time zone. */
  from: string;
  to: string;
  types: AuditEventType[];
  /** A bare JID, typed or picked from the directory; '' for anyone. */
  person: string;
}

export const emptyAuditFilterForm = (): AuditFilterForm => ({ from: '', to: '', types: [], person: '' });

/** Midnight at the start of a local day, or null for a value that is not a date. */
function localMidnight(day: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) return null;
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return d.getDate() === Number(m[3]) ? d.getTime() : null;
}

const BARE_JID = /^[^@/\s]+@[^@/\s]+$/;

/**
 * The filter for audit:list (undefined: no filter, the whole log), or what is wrong with the form.
 * `to` covers its whole day: up to the last millisecond before the next local midnight (so a
 * daylight-saving day of 23 or 25 hours is still one whole day).
 */
export function toAuditFilter(
  form: AuditFilterForm,
): { ok: true; filter?: AuditFilter } | { ok: false; error: string } {
  const filter: AuditFilter = {};
  if (form.from) {
    const from = localMidnight(form.from);
    if (from === null) return { ok: false, error: 'The start date is not a date.' };
    filter.from = Math.max(0, from);
  }
  if (form.to) {
    const start = localMidnight(form.to);
    if (start === null) return { ok: false, error: 'The end date is not a date.' };
    const d = new Date(start);
    filter.to = Math.max(0, new Date(d.getFullYear(), d.getMonth(), d.getDate() + 1).getTime() - 1);
  }
  if (filter.from !== undefined && filter.to !== undefined && filter.from > filter.to)
    return { ok: false, error: 'The end date is before the start date.' };
  if (form.types.length > 0) filter.types = [...form.types];
  const person = form.person.trim();
  if (person) {
    if (!BARE_JID.test(person)) return { ok: false, error: 'Type an address such as alice@clinic.example.' };
    filter.person = person.toLowerCase();
  }
  return Object.keys(filter).length > 0 ? { ok: true, filter } : { ok: true };
}
