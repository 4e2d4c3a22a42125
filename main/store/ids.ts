/** String ids at the boundary, INTEGER rowids inside; cursors are opaque strings. */

/** A rowid from its decimal string, or null when it is not one of ours (then: not found). */
export function parseId(id: string): number | null {
  if (!/^[1-9][0-9]{0,14}$/.test(id)) return null;
  return Number(id);
}

/** Keyset cursor "<time>.<id>" (newest-first pages continue strictly below it). */
export function encodeCursor(at: number, id: number): string {
  return `${at}.${id}`;
}

export function decodeCursor(cursor: string | null): { at: number; id: number } | null {
  if (cursor === null) return null;
  const m = /^(\d{1,16})\.(\d{1,16})$/.exec(cursor);
  if (!m) return null;
  return { at: Number(m[1]), id: Number(m[2]) };
}

export function decodeOffset(cursor: string | null): number {
  if (cursor === null || !/^\d{1,7}$/.test(cursor)) return 0;
  return Number(cursor);
}
