import { describe, expect, it } from 'vitest';
import { AppError } from '../../common/result';
import { COMMON_PASSWORDS } from '../../common/common-passwords';
import { assertPassphrase, passphraseProblem } from '../../main/vault/passphrase';
import { unlockDelayMs } from '../../main/vault/vault';

const ctx = { minLength: 12, personal: ['alice', 'alice@clinic.example', 'Alice Moreau'] };

describe('passphrase rules', () => {
  it('accepts a long passphrase of unrelated words', () => {
    expect(passphraseProblem('staple orbit lantern 42', ctx)).toBeNull();
    expect(passphraseProblem('Zebra-kettle-Mango-1987', ctx)).toBeNull();
  });

  it('rejects a passphrase shorter than the policy minimum, counting code points', () => {
    expect(passphraseProblem('short words', ctx)).toMatch(/at least 12/);
    expect(passphraseProblem('🔑🔑🔑🔑🔑🔑abcde', { minLength: 12 })).toMatch(/at least 12/);
    expect(passphraseProblem('staple orbit', { minLength: 16 })).toMatch(/at least 16/);
  });

  it('rejects the commonest passwords, also with digits and symbols around them', () => {
    for (const p of [
      'passwordpassword',
      'Password123456!',
      '!!!Sunshine2024',
      'qwertyuiop12',
      'correct horse battery staple',
      'Welcome to Clinic',
      'HOSPITAL2024!!',
    ]) {
      expect(passphraseProblem(p, ctx), p).toMatch(/common password/);
    }
  });

  it('ships a few hundred common passwords', () => {
    expect(COMMON_PASSWORDS.length).toBeGreaterThanOrEqual(300);
  });

  it('rejects repeated characters, sequences and the user name', () => {
    expect(passphraseProblem('aaaaaaaaaaaaaa', ctx)).toMatch(/different characters/);
    expect(passphraseProblem('abababababab', ctx)).toMatch(/different characters/);
    expect(passphraseProblem('123456789012', { minLength: 12 })).not.toBeNull();
    expect(passphraseProblem('abcdefghijklmn', ctx)).toMatch(/sequences/);
    expect(passphraseProblem('alice@clinic.example', ctx)).toMatch(/name/);
    expect(passphraseProblem('Alice Moreau!!', ctx)).toMatch(/name/);
    expect(passphraseProblem('Alice!2024Alice', ctx)).toMatch(/name/);
    expect(passphraseProblem('moreau alice 1999', ctx)).toMatch(/name/);
    expect(passphraseProblem('alice loves orbit lanterns', ctx)).toBeNull();
  });

  it('throws WEAK_PASSPHRASE without echoing the passphrase', () => {
    try {
      assertPassphrase('Password123!', ctx);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).code).toBe('WEAK_PASSPHRASE');
      expect((err as AppError).message).not.toContain('Password123');
    }
  });
});

describe('unlock delay', () => {
  it('grows after the first failure and is capped', () => {
    expect(unlockDelayMs(0)).toBe(0);
    expect(unlockDelayMs(1)).toBe(0);
    expect(unlockDelayMs(2)).toBe(1000);
    expect(unlockDelayMs(3)).toBe(2000);
    expect(unlockDelayMs(6)).toBe(16_000);
    expect(unlockDelayMs(50)).toBe(5 * 60_000);
  });
});
