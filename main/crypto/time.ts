/**
 * XEP-0082 DateTime for <signcrypt><time stamp/> (XEP-0373 §3.1). We write the canonical
 * `YYYY-MM-DDThh:mm:ssZ`; we read leniently (PROTOCOL.md: some clients write `+0000`
 * instead of `+00:00`, some add fractions of a second).
 */
const DATETIME_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}(?::?\d{2})?)$/i;

export function formatXmppDateTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Returns null when the string is not a valid XEP-0082 DateTime (including 2026-02-30 and similar). */
export function parseXmppDateTime(value: string): Date | null {
  const m = DATETIME_RE.exec(value.trim());
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const frac = m[7] ? Number(`0.${m[7]}`) * 1000 : 0;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return null;
  // Field setters, not Date.UTC: Date.UTC reads years 0–99 as 1900–1999.
  const check = new Date(0);
  check.setUTCFullYear(y, mo - 1, d);
  check.setUTCHours(h, mi, Math.min(s, 59), 0);
  const utc = check.getTime();
  if (check.getUTCDate() !== d || check.getUTCMonth() !== mo - 1) return null;
  let offsetMin = 0;
  const tz = m[8]!;
  if (tz.toUpperCase() !== 'Z') {
    const digits = tz.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
    if (oh > 23 || om > 59) return null;
    offsetMin = (tz[0] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  return new Date(utc + Math.floor(frac) - offsetMin * 60_000);
}
