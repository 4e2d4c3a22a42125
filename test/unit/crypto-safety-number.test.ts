// The safety number two colleagues compare (issue 12 §8): Signal's NumericFingerprint (v0) over
// bare JID + OpenPGP fingerprint. Pure logic: known-answer, symmetry, and sensitivity to each input.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KeyRejectedError, safetyNumber } from '../../main/crypto/index';

const alice = { jid: 'alice@clinic.test', fingerprint: '0123456789ABCDEF0123456789ABCDEF01234567' };
const bob = { jid: 'bob@clinic.test', fingerprint: 'FEDCBA9876543210FEDCBA9876543210FEDCBA98' };

/** The same derivation written out independently (docs/protocol.md "Verifying a key"). */
function reference(jid: string, fpr: string): string {
  const key = Buffer.from(fpr, 'hex');
  let h = Buffer.concat([Buffer.from([0, 0]), key, Buffer.from(jid, 'utf8')]);
  for (let i = 0; i < 5200; i++)
    h = createHash('sha512')
      .update(Buffer.concat([h, key]))
      .digest();
  const out: string[] = [];
  for (let i = 0; i < 6; i++) {
    const n = h.subarray(i * 5, i * 5 + 5).reduce((acc, b) => acc * 256 + b, 0);
    out.push(String(n % 100000).padStart(5, '0'));
  }
  return out.join('');
}

describe('safety number', () => {
  it('is 60 digits and the same on both screens (either order)', () => {
    const n = safetyNumber(alice, bob);
    expect(n).toMatch(/^\d{60}$/);
    expect(safetyNumber(bob, alice)).toBe(n);
  });

  it('is the two 30-digit halves of Signal’s derivation, in ascending order', () => {
    const halves = [reference(alice.jid, alice.fingerprint), reference(bob.jid, bob.fingerprint)].sort();
    expect(safetyNumber(alice, bob)).toBe(halves.join(''));
  });

  it('changes when either key changes, and when a key is claimed by another address', () => {
    const n = safetyNumber(alice, bob);
    const newKey = { ...bob, fingerprint: 'FEDCBA9876543210FEDCBA9876543210FEDCBA99' };
    expect(safetyNumber(alice, newKey)).not.toBe(n);
    expect(safetyNumber({ ...alice, fingerprint: bob.fingerprint }, bob)).not.toBe(n);
    expect(safetyNumber(alice, { ...bob, jid: 'mallory@clinic.test' })).not.toBe(n);
  });

  it('reads fingerprints and JIDs as the app compares them (case, spacing, resource)', () => {
    const spaced = { jid: 'Bob@Clinic.Test/desk', fingerprint: 'fedc ba98 7654 3210 fedc  ba98 7654 3210 fedc ba98' };
    expect(safetyNumber(alice, spaced)).toBe(safetyNumber(alice, bob));
  });

  it('refuses what is not a v4 fingerprint instead of hashing part of it', () => {
    expect(() => safetyNumber(alice, { ...bob, fingerprint: 'FEDCBA98' })).toThrow(KeyRejectedError);
    expect(() => safetyNumber(alice, { ...bob, fingerprint: 'ZZ'.repeat(20) })).toThrow(KeyRejectedError);
  });
});
