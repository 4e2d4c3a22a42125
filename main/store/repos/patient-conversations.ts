/**
 * Patient conversations in the inbox (issue 17: "staff write from the same inbox"; replies "arrive
 * in that staff member's inbox"). A patient conversation is not an XMPP chat: it is the texts sent
 * to one mobile number through the patient gateway (patient_texts, migration 0012) and the replies
 * to them (patient_replies), keyed by the number (the gateway's patient JID is a keyed hash of it,
 * so one number is one patient JID). Its id in the inbox is `patient:<number>`.
 *
 * A number is a conversation once a text went to it on its own (not only in a segment send) or the
 * patient replied: a segment to 1,000 patients does not put 1,000 rows in the inbox, but everyone
 * who answers is there. Read state: the newest reply time read per number (the setting
 * PATIENT_READS_SETTING), so a reply received later is unread. No table of its own: the rows are
 * the texts' and replies', so retention (purgeBefore) and a remote wipe (the whole encrypted store)
 * cover them as they cover messages. Bodies, names and numbers are PHI: never logged.
 */
import type { ConversationSummary, MessageState, PatientTextState } from '../../../common/contract/domain';
import type { Db } from '../open-db';
import type { PatientTextRepo, StoredPatientText } from './patient-texts';

/** The newest reply time (ms) read per number; numbers not in it have every reply read up to the time the map was made. */
export const PATIENT_READS_SETTING = 'patient-conversations.readUpTo';

export const PATIENT_CONVERSATION_PREFIX = 'patient:';
/** A patient's gateway JID before the gateway answered (the contract wants a bare JID). */
const NO_PATIENT_JID = 'patient@patients.invalid';
const PREVIEW_CHARS = 140;
/** At most this many patient conversations are listed. */
const MAX_CONVERSATIONS = 500;

export type PatientConversationItem = Omit<ConversationSummary, 'presence'>;

export interface PatientConversationRepo {
  /** Every patient conversation, newest activity first. */
  list(): PatientConversationItem[];
  /** One number's conversation, or undefined when it is none. */
  summary(phone: string): PatientConversationItem | undefined;
  /** The texts to this number, oldest first, each with its replies. */
  thread(phone: string): StoredPatientText[];
  /** The newest text to this number (the one a new text in the conversation follows), or undefined. */
  latest(phone: string): { id: string } | undefined;
  /** Marks every reply from this number read; the number of replies that were unread. */
  markRead(phone: string): number;
  /**
   * Retention: replies received before `cutoff`, and texts written before it that no reply is left
   * on, are deleted (and the read mark of a number with nothing left); the count of both.
   */
  purgeBefore(cutoff: number): number;
}

interface Settings {
  get<T>(key: string): T | undefined;
  set(key: string, value: unknown): void;
}

interface ThreadRow {
  phone: string;
  last_text: number;
  direct: number;
}
interface ReplyRow {
  id: string;
  phone: string;
  received_at: number;
  body: string;
}
interface LatestRow {
  id: string;
  patient_name: string;
  body: string;
  state: PatientTextState;
  created_at: number;
  patient_jid: string | null;
  dob_verifier: string | null;
}

/** How a text's state reads as a sent message's in the inbox row. */
const OUT_STATE: Record<PatientTextState, MessageState> = {
  sending: 'queued',
  queued: 'sent',
  'sms-delivered': 'delivered',
  opened: 'read',
  replied: 'read',
  expired: 'sent',
  failed: 'failed',
};

function preview(body: string): string {
  const flat = body.replace(/\s+/g, ' ').trim();
  return flat.length <= PREVIEW_CHARS ? flat : `${flat.slice(0, PREVIEW_CHARS)}…`;
}

export const patientConversationId = (phone: string): string => `${PATIENT_CONVERSATION_PREFIX}${phone}`;

/** The number a patient conversation id names, or null when it names none. */
export function phoneOfConversation(id: string): string | null {
  if (!id.startsWith(PATIENT_CONVERSATION_PREFIX)) return null;
  const phone = id.slice(PATIENT_CONVERSATION_PREFIX.length);
  return /^\+[1-9][0-9]{6,14}$/.test(phone) ? phone : null;
}

export function createPatientConversationRepo(
  db: Db,
  texts: Pick<PatientTextRepo, 'get'>,
  settings: Settings,
): PatientConversationRepo {
  const threads = db.prepare<[], ThreadRow>(
    `SELECT phone, max(created_at) AS last_text, sum(segment_id IS NULL) AS direct
       FROM patient_texts GROUP BY phone`,
  );
  const threadOf = db.prepare<[string], ThreadRow>(
    `SELECT phone, max(created_at) AS last_text, sum(segment_id IS NULL) AS direct
       FROM patient_texts WHERE phone = ? GROUP BY phone`,
  );
  const replies = db.prepare<[], ReplyRow>(
    `SELECT r.id, t.phone, r.received_at, r.body FROM patient_replies r JOIN patient_texts t ON t.id = r.text_id
      ORDER BY r.received_at, r.id`,
  );
  const repliesOf = db.prepare<[string], ReplyRow>(
    `SELECT r.id, t.phone, r.received_at, r.body FROM patient_replies r JOIN patient_texts t ON t.id = r.text_id
      WHERE t.phone = ? ORDER BY r.received_at, r.id`,
  );
  const latest = db.prepare<[string], LatestRow>(
    `SELECT id, patient_name, body, state, created_at, patient_jid, dob_verifier FROM patient_texts
      WHERE phone = ? ORDER BY created_at DESC, id DESC LIMIT 1`,
  );
  const knownJid = db.prepare<[string], { patient_jid: string }>(
    `SELECT patient_jid FROM patient_texts WHERE phone = ? AND patient_jid IS NOT NULL
      ORDER BY created_at DESC LIMIT 1`,
  );
  const idsOf = db.prepare<[string], { id: string }>(
    'SELECT id FROM patient_texts WHERE phone = ? ORDER BY created_at, id',
  );
  const purgeReplies = db.prepare<[number]>('DELETE FROM patient_replies WHERE received_at < ?');
  const purgeTexts = db.prepare<[number]>(
    `DELETE FROM patient_texts WHERE created_at < ?
        AND NOT EXISTS (SELECT 1 FROM patient_replies r WHERE r.text_id = patient_texts.id)`,
  );

  /**
   * The read map; made on first use with every reply stored so far read (they were shown on the
   * Patients screen before patient conversations existed).
   */
  function reads(all: ReplyRow[] = replies.all()): Record<string, number> {
    const stored = settings.get<Record<string, number>>(PATIENT_READS_SETTING);
    if (stored) return stored;
    const made: Record<string, number> = {};
    for (const r of all) made[r.phone] = Math.max(made[r.phone] ?? 0, r.received_at);
    settings.set(PATIENT_READS_SETTING, made);
    return made;
  }

  function item(t: ThreadRow, own: ReplyRow[], readUpTo: number): PatientConversationItem | undefined {
    if (t.direct === 0 && own.length === 0) return undefined;
    const last = latest.get(t.phone)!;
    const reply = own.at(-1);
    const inbound = reply !== undefined && reply.received_at >= last.created_at;
    return {
      id: patientConversationId(t.phone),
      peerJid: last.patient_jid ?? knownJid.get(t.phone)?.patient_jid ?? NO_PATIENT_JID,
      title: last.patient_name,
      role: null,
      trust: 'unknown',
      lastMessage: inbound
        ? { id: reply.id, preview: preview(reply.body), at: reply.received_at, direction: 'in', state: 'delivered' }
        : {
            id: last.id,
            preview: preview(last.body),
            at: last.created_at,
            direction: 'out',
            state: OUT_STATE[last.state],
          },
      unread: own.filter((r) => r.received_at > readUpTo).length,
      urgentUnread: 0,
      patient: { phone: t.phone, check: last.dob_verifier === null ? 'code' : 'dob' },
    };
  }

  const at = (i: PatientConversationItem) => i.lastMessage?.at ?? 0;

  return {
    list() {
      const all = replies.all();
      const read = reads(all);
      const byPhone = new Map<string, ReplyRow[]>();
      for (const r of all) byPhone.set(r.phone, [...(byPhone.get(r.phone) ?? []), r]);
      const items: PatientConversationItem[] = [];
      for (const t of threads.all()) {
        const i = item(t, byPhone.get(t.phone) ?? [], read[t.phone] ?? 0);
        if (i) items.push(i);
      }
      return items.sort((a, b) => at(b) - at(a)).slice(0, MAX_CONVERSATIONS);
    },
    summary(phone) {
      const t = threadOf.get(phone);
      return t ? item(t, repliesOf.all(phone), reads()[phone] ?? 0) : undefined;
    },
    thread: (phone) => idsOf.all(phone).flatMap(({ id }) => texts.get(id) ?? []),
    latest: (phone) => latest.get(phone),
    markRead(phone) {
      const own = repliesOf.all(phone);
      const read = reads();
      const upTo = read[phone] ?? 0;
      const unread = own.filter((r) => r.received_at > upTo).length;
      if (unread > 0) settings.set(PATIENT_READS_SETTING, { ...read, [phone]: own.at(-1)!.received_at });
      return unread;
    },
    purgeBefore(cutoff) {
      const deleted = db.transaction(() => purgeReplies.run(cutoff).changes + purgeTexts.run(cutoff).changes)();
      const read = settings.get<Record<string, number>>(PATIENT_READS_SETTING);
      if (deleted > 0 && read) {
        // No number of a patient whose texts are all gone stays behind in the read marks.
        const left = new Set(threads.all().map((t) => t.phone));
        settings.set(PATIENT_READS_SETTING, Object.fromEntries(Object.entries(read).filter(([p]) => left.has(p))));
      }
      return deleted;
    },
  };
}

/**
 * The patient conversations that belong on one page of the inbox (conversations:list is keyset-paged
 * on last activity): those at or after the page's oldest row — all of them when it is the last page —
 * and before the cursor the page started at (the previous page took those). Merged newest first.
 */
export function mergeIntoPage<T extends { lastMessage: { at: number } | null }>(
  page: { items: T[]; nextCursor: string | null },
  startedAt: number | null,
  patients: T[],
): T[] {
  const at = (i: T) => i.lastMessage?.at ?? 0;
  const lower = page.nextCursor === null || page.items.length === 0 ? -Infinity : Math.min(...page.items.map(at));
  const upper = startedAt ?? Infinity;
  const mine = patients.filter((p) => at(p) >= lower && at(p) < upper);
  return [...page.items, ...mine].sort((a, b) => at(b) - at(a));
}
