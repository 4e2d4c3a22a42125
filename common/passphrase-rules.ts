/**
 * Passphrase rules from policy (ARCHITECTURE.md §4, HIPAA §164.308(a)(5)(ii)(D) password management):
 * a minimum length and no common password, not even dressed up with digits and symbols. In common/
 * so the first-run form checks them live at the field (issue 12 §5) with the very rules main
 * enforces (main/vault/passphrase.ts).
 */
import { COMMON_PASSWORDS } from './common-passwords';

const COMMON = new Set(COMMON_PASSWORDS.map((p) => p.toLowerCase()));

export interface PassphraseContext {
  minLength: number;
  /** Words the passphrase must not be built from: the JID's local part, the display name. */
  personal?: string[];
}

/** null when acceptable, else a sentence saying what to change (never echoing the passphrase). */
export function passphraseProblem(passphrase: string, ctx: PassphraseContext): string | null {
  const text = passphrase.normalize('NFC');
  const length = [...text].length; // code points, so an emoji counts once
  if (length < ctx.minLength) return `Use at least ${ctx.minLength} characters; a few unrelated words work well.`;
  if (text.trim() !== text) return 'Remove spaces at the start or end.';
  const lower = text.toLowerCase();
  if (COMMON.has(lower) || COMMON.has(lower.replace(/\s+/g, '')))
    return 'This is one of the most common passwords. Choose something less predictable.';
  // "Password123!", "!!summer2024" — a common word with digits or symbols around it.
  const core = lower.replace(/^[^\p{L}]+|[^\p{L}]+$/gu, '');
  if (core.length >= 3 && (COMMON.has(core) || COMMON.has(core.replace(/\s+/g, '')))) {
    return 'This is a common password with digits or symbols added. Choose something less predictable.';
  }
  const distinct = new Set(lower).size;
  if (distinct <= 2) return 'Use more than one or two different characters.';
  if (isSequence(lower)) return 'Avoid keyboard or number sequences.';
  // Built from the user's own name or user name ("Alice!2024Alice"): fewer than 4 other letters left.
  const personal = (ctx.personal ?? [])
    .flatMap((w) => w.toLowerCase().split(/[^\p{L}\p{N}]+/u))
    .filter((w) => w.length >= 3);
  if (personal.length > 0) {
    let rest = lower;
    for (const w of personal.sort((a, b) => b.length - a.length)) rest = rest.split(w).join('');
    if (rest.replace(/[^\p{L}]/gu, '').length < 4) return 'Do not build the passphrase from your name or user name.';
  }
  return null;
}

const SEQUENCES = [
  '0123456789',
  'abcdefghijklmnopqrstuvwxyz',
  'qwertyuiop',
  'asdfghjkl',
  'zxcvbnm',
  'qwertzuiop',
  'azertyuiop',
  '1qaz2wsx3edc4rfv5tgb',
  '1q2w3e4r5t6y7u8i9o0p',
];

/** True for runs like "123456789012", "zyxwvutsrqpo" or "qwertyuiopqw": a walk along one sequence, either way, wrapping round. */
function isSequence(s: string): boolean {
  const t = s.replace(/\s+/g, '');
  if (t.length < 4) return false;
  return SEQUENCES.some((seq) => {
    const loop = seq.repeat(Math.ceil(t.length / seq.length) + 1);
    const back = [...loop].reverse().join('');
    return loop.includes(t) || back.includes(t);
  });
}
