/**
 * The rules of the road a send must pass (issue 17 item 4), pure: opt-outs are checked by the
 * service against the store; here are quiet hours and the SMS text's shape.
 */
export interface QuietHours {
  start: string;
  end: string;
  timeZone: string;
}

const minutes = (hhmm: string): number => {
  const [h, m] = hhmm.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
};

/** True when `now` falls inside the quiet hours in their time zone (a range may wrap midnight). */
export function inQuietHours(q: QuietHours | null, now: number): boolean {
  if (!q) return false;
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: q.timeZone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(now));
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  const local = get('hour') * 60 + get('minute');
  const [s, e] = [minutes(q.start), minutes(q.end)];
  if (s === e) return false;
  return s < e ? local >= s && local < e : local >= s || local < e;
}

const DAY_MS = 86_400_000;

/** What the rules of the road read from the gateway's store. */
export interface SendHistory {
  isOptedOut(phone: string): boolean;
  sentSince(phone: string, since: number): number;
}

/**
 * Whether a text to `phone` may go now, whatever kind (a link or a plain SMS): not after an
 * opt-out, not in quiet hours, not over the per-number daily cap. The refusal's reason and words;
 * null when it may go.
 */
export function roadBlock(
  history: SendHistory,
  limits: { quietHours: QuietHours | null; perPhonePerDay: number },
  phone: string,
  now: number,
): { reason: 'opted-out' | 'quiet-hours' | 'rate-limited'; detail: string } | null {
  if (history.isOptedOut(phone)) return { reason: 'opted-out', detail: 'this number replied STOP: it gets no texts' };
  if (inQuietHours(limits.quietHours, now)) return { reason: 'quiet-hours', detail: 'no texts during quiet hours' };
  const cap = limits.perPhonePerDay;
  if (cap > 0 && history.sentSince(phone, now - DAY_MS) >= cap)
    return { reason: 'rate-limited', detail: `this number already got ${cap} texts in the last 24 hours` };
  return null;
}

export const LINK_PLACEHOLDER = '{link}';
/** Two SMS segments of GSM-7 with the link: a longer text costs more and reads worse. */
export const MAX_SMS_CHARS = 306;

/** The SMS text with the link put in, or why the template cannot be used. */
export function renderSms(template: string, link: string): { text: string } | { problem: string } {
  const parts = template.split(LINK_PLACEHOLDER);
  if (parts.length !== 2) return { problem: `the SMS text must contain ${LINK_PLACEHOLDER} exactly once` };
  if (/[{}]/.test(parts.join(''))) return { problem: 'the SMS text has an unfilled placeholder' };
  const text = parts.join(link);
  if (text.length > MAX_SMS_CHARS) return { problem: `the SMS text is longer than ${MAX_SMS_CHARS} characters` };
  return { text };
}
