/**
 * A date of birth as the app and the patient gateway write it (issue 17): 'YYYY-MM-DD' for a real
 * calendar date from 1900 to 2100, else null. The app hashes this form into the verifier it hands
 * the gateway (main/patients/dob-verifier.ts); the gateway hashes what the patient types the same
 * way (gateway/dob.ts): both must agree to the character.
 */
export function normalizeDob(input: string): string | null {
  const m = /^\s*(\d{4})-(\d{2})-(\d{2})\s*$/.exec(input);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (y < 1900 || y > 2100) return null;
  const date = new Date(Date.UTC(y, mo - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) return null;
  return `${m[1]}-${m[2]}-${m[3]}`;
}
