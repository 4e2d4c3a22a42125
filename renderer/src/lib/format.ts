/** Pure display helpers: times, day labels, fingerprints, links, trust. No HTML is ever produced. */
import type { KeyStatus, MessageState, OwnPresenceShow, TrustState } from '../../../common/ipc-contract';

export function timeLabel(at: number, now = Date.now()): string {
  const d = new Date(at);
  const today = new Date(now);
  if (d.toDateString() === today.toDateString()) {
    return d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  }
  const diffDays = (now - at) / 86_400_000;
  if (diffDays < 6) return d.toLocaleDateString(undefined, { weekday: 'short' });
  return d.toLocaleDateString(undefined, { day: 'numeric', month: 'short' });
}

export function clockLabel(at: number): string {
  return new Date(at).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}

export function dayKey(at: number): string {
  const d = new Date(at);
  return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
}

export function dayLabel(at: number, now = Date.now()): string {
  const key = dayKey(at);
  if (key === dayKey(now)) return 'Today';
  if (key === dayKey(now - 86_400_000)) return 'Yesterday';
  return new Date(at).toLocaleDateString(undefined, {
    weekday: 'long',
    day: 'numeric',
    month: 'long',
    year: 'numeric',
  });
}

/** 40 hex digits → ten groups of four, the form people read aloud to compare. */
export function groupFingerprint(fpr: string): string[] {
  return fpr.match(/.{1,4}/g) ?? [];
}

/** A 60-digit safety number → twelve groups of five (issue 12 §8), three rows of four on screen. */
export function groupSafetyNumber(n: string): string[] {
  return n.match(/\d{1,5}/g) ?? [];
}

export type TextPart = { kind: 'text'; text: string } | { kind: 'link'; text: string; href: string };

const urlPattern = /\bhttps?:\/\/[^\s<>"']+/gi;

/**
 * Splits message text into plain text and links. Only https: URLs become links (issue 6 §6);
 * http: and anything else stays text. Trailing punctuation is left out of the link.
 */
export function splitLinks(text: string): TextPart[] {
  const parts: TextPart[] = [];
  let last = 0;
  for (const m of text.matchAll(urlPattern)) {
    let raw = m[0];
    const trail = /[.,;:!?)\]]+$/.exec(raw);
    if (trail) raw = raw.slice(0, -trail[0].length);
    const start = m.index ?? 0;
    let href: string | null = null;
    try {
      const u = new URL(raw);
      if (u.protocol === 'https:') href = u.href;
    } catch {
      href = null;
    }
    if (!href) continue;
    if (start > last) parts.push({ kind: 'text', text: text.slice(last, start) });
    parts.push({ kind: 'link', text: raw, href });
    last = start + raw.length;
  }
  if (last < text.length) parts.push({ kind: 'text', text: text.slice(last) });
  return parts;
}

/** Highlight ranges [start, end) → spans; overlapping or out-of-range ranges are clipped. */
export function splitHighlights(text: string, ranges: [number, number][]): { text: string; hit: boolean }[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: { text: string; hit: boolean }[] = [];
  let pos = 0;
  for (const [s0, e0] of sorted) {
    const s = Math.max(pos, Math.min(s0, text.length));
    const e = Math.max(s, Math.min(e0, text.length));
    if (s > pos) out.push({ text: text.slice(pos, s), hit: false });
    if (e > s) out.push({ text: text.slice(s, e), hit: true });
    pos = e;
  }
  if (pos < text.length) out.push({ text: text.slice(pos), hit: false });
  return out;
}

export const roleLabel: Record<string, string> = {
  reception: 'Reception',
  physician: 'Physician',
  nurse: 'Nurse',
  admin: 'Administrator',
  staff: 'Staff',
};

export const presenceLabel: Record<string, string> = {
  available: 'Available',
  away: 'Away',
  dnd: 'Do not disturb',
  offline: 'Offline',
};

/** The presence a person can set (issue 12 §7), as the menu and the nav rail word it. */
export const ownPresenceLabel: Record<OwnPresenceShow, string> = {
  available: 'Available',
  patient: 'With a patient',
  dnd: 'Busy / Do not disturb',
  away: 'Away',
};
/** The dot colour of each choice: 'With a patient' is Do not disturb on the wire. */
export const ownPresenceDot: Record<OwnPresenceShow, 'available' | 'dnd' | 'away'> = {
  available: 'available',
  patient: 'dnd',
  dnd: 'dnd',
  away: 'away',
};

/** How a colleague's key trust is shown: a word and an icon, never colour alone (WCAG 1.4.1). */
export interface TrustView {
  label: string;
  /** What the state means, after the label: the tooltip and the screen-reader text. */
  hint: string;
  /** Names the icon and the style; one kind per state shown. */
  kind: 'verified' | 'pinned' | 'changed' | 'failed' | 'unchecked' | 'not-set-up';
}

/**
 * The four trust states of issue 10 §9, from the stored trust (main/xmpp/trust.ts records every
 * fetch outcome there):
 * - verified → "Verified": a person compared the fingerprint.
 * - pinned → "Not verified": pinned on first use; nobody has compared it yet.
 * - changed → "Key changed": the published key differs from the pinned one; sending is blocked.
 * - unavailable → "Could not verify": the key could not be fetched or did not validate, so
 *   nothing can be sent securely yet. (A pinned key whose later refetch fails stays pinned: it is
 *   still the key we encrypt to and check signatures against.)
 * 'unknown' (no key fetched yet: a colleague never messaged) is not a failure — the key is fetched
 * on first use — so it gets its own neutral "Not checked yet" rather than alarming everyone in the
 * directory with "Could not verify".
 * A colleague with no key pinned whom the server reports as having published none (keyStatus
 * 'none', issue 12 §3) has simply not signed in yet: "Not set up yet", and messages to them wait.
 */
export function trustView(trust: TrustState, keyStatus?: KeyStatus): TrustView {
  if (keyStatus === 'none' && (trust === 'unknown' || trust === 'unavailable'))
    return { kind: 'not-set-up', label: 'Not set up yet', hint: 'has not signed in yet; messages wait until they do' };
  switch (trust) {
    case 'verified':
      return { kind: 'verified', label: 'Verified', hint: 'the key’s fingerprint was compared' };
    case 'pinned':
      return { kind: 'pinned', label: 'Not verified', hint: 'key pinned on first use, fingerprint not compared yet' };
    case 'changed':
      return { kind: 'changed', label: 'Key changed', hint: 'compare the new fingerprint before sending' };
    case 'unavailable':
      return { kind: 'failed', label: 'Could not verify', hint: 'no valid encryption key could be fetched' };
    case 'unknown':
      return { kind: 'unchecked', label: 'Not checked yet', hint: 'the key is fetched when you first send a message' };
  }
}

/** The conversation list's preview line: never "Secure message" for one that could not be verified. */
export function previewText(last: { preview: string | null; state: MessageState; deleted?: boolean }): string {
  if (last.state === 'unverified') return 'Message could not be verified';
  if (last.deleted) return 'Message deleted';
  return last.preview ?? 'Secure message';
}

/** A file's size for its card (issue 16): 512 bytes, 14 KB, 3.2 MB. */
export function fileSizeLabel(bytes: number): string {
  if (bytes < 1024) return `${bytes} ${bytes === 1 ? 'byte' : 'bytes'}`;
  const kb = bytes / 1024;
  if (kb < 1024) return `${Math.round(kb)} KB`;
  const mb = kb / 1024;
  return mb < 1024 ? `${mb.toFixed(1)} MB` : `${(mb / 1024).toFixed(1)} GB`;
}

const TYPE_WORDS: Record<string, string> = {
  'image/png': 'PNG image',
  'image/jpeg': 'JPEG image',
  'image/webp': 'WebP image',
  'image/heic': 'HEIC image',
  'application/pdf': 'PDF document',
  'text/plain': 'Text file',
};

/** A file's type in words for its card: known types by name, else the name's extension, else "File". */
export function fileTypeLabel(mediaType: string, name: string): string {
  const known = TYPE_WORDS[mediaType.toLowerCase()];
  if (known) return known;
  const ext = /\.([A-Za-z0-9]{1,8})$/.exec(name)?.[1];
  return ext ? `${ext.toUpperCase()} file` : 'File';
}

/**
 * "Read by" under our own message in a care-team room (issue 18 §4): up to three names, else a
 * count; always how many of the members it went to. Null while nobody has read it.
 */
export function readByLabel(names: readonly string[], of: number): string | null {
  if (names.length === 0) return null;
  if (names.length === of) return names.length <= 3 ? `Read by ${names.join(', ')}` : `Read by all ${of}`;
  return names.length <= 3
    ? `Read by ${names.join(', ')} (${names.length} of ${of})`
    : `Read by ${names.length} of ${of}`;
}
