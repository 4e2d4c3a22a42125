/**
 * The date-of-birth verifier (issue 17 items 1 and 3): salted scrypt, checked in constant time;
 * weak or malformed verifiers are refused, and a DOB in another form than YYYY-MM-DD is not it.
 */
import { describe, expect, it } from 'vitest';
import { checkDob, makeDobVerifier, normalizeDob, parseDobVerifier } from '../../gateway/dob';

describe('DOB verifier', () => {
  it('accepts the right date and refuses any other', async () => {
    const text = await makeDobVerifier('1984-02-29');
    expect(text).toMatch(/^scrypt\$15\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(text).not.toContain('1984');
    const v = parseDobVerifier(text)!;
    expect(await checkDob('1984-02-29', v)).toBe(true);
    expect(await checkDob(' 1984-02-29 ', v)).toBe(true);
    expect(await checkDob('1984-03-01', v)).toBe(false);
    expect(await checkDob('02/29/1984', v)).toBe(false);
  });

  it('salts each verifier: the same date gives different verifiers', async () => {
    expect(await makeDobVerifier('1970-01-01')).not.toBe(await makeDobVerifier('1970-01-01'));
  });

  it('refuses a weak, oversized or malformed verifier', async () => {
    const good = (await makeDobVerifier('1970-01-01')).split('$');
    const withPart = (i: number, v: string) => good.map((p, j) => (j === i ? v : p)).join('$');
    expect(parseDobVerifier(good.join('$'))).not.toBeNull();
    expect(parseDobVerifier(withPart(1, '10'))).toBeNull(); // N = 2^10: too cheap to guess against
    expect(parseDobVerifier(withPart(1, '30'))).toBeNull(); // N = 2^30: would exhaust the gateway's memory
    expect(parseDobVerifier(withPart(0, 'pbkdf2'))).toBeNull();
    expect(parseDobVerifier(withPart(4, 'c2hvcnQ'))).toBeNull();
    expect(parseDobVerifier(withPart(5, '!!!'))).toBeNull();
    expect(parseDobVerifier('scrypt$15$8$1')).toBeNull();
  });

  it('normalizes only real calendar dates', () => {
    expect(normalizeDob('2000-02-29')).toBe('2000-02-29');
    expect(normalizeDob('1900-02-29')).toBeNull();
    expect(normalizeDob('2001-13-01')).toBeNull();
    expect(normalizeDob('1899-12-31')).toBeNull();
  });

  it('refuses to make a verifier from something that is not a date', async () => {
    await expect(makeDobVerifier('yesterday')).rejects.toThrow(/not a date of birth/);
  });
});
