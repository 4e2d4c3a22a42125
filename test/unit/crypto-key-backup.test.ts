import { describe, expect, it } from 'vitest';
import {
  BackupCodeError,
  decryptSecretKeyBackup,
  encryptSecretKeyBackup,
  generateIdentity,
  KeyRejectedError,
  loadIdentity,
  newBackupCode,
  normalizeBackupCode,
} from '../../main/crypto';

describe('XEP-0373 §5 secret-key backup', () => {
  it('makes 24-character codes in groups of four, from an alphabet without look-alikes', () => {
    const codes = Array.from({ length: 200 }, () => newBackupCode());
    for (const c of codes) expect(c).toMatch(/^([A-HJ-NP-Z2-9]{4}-){5}[A-HJ-NP-Z2-9]{4}$/);
    expect(new Set(codes).size).toBe(codes.length);
    // Every one of the 32 symbols turns up: the choice is not stuck on part of the alphabet.
    expect(new Set(codes.join('').replace(/-/g, '')).size).toBe(32);
  });

  it('accepts the code as typed (case, spaces, dashes) and refuses what cannot be a code', () => {
    expect(normalizeBackupCode(' twnk-kd5y mt3t-e2gs-drdb-kvtw ')).toBe('TWNKKD5YMT3TE2GSDRDBKVTW');
    expect(normalizeBackupCode('short')).toBeNull();
    expect(normalizeBackupCode('TWNK-KD5Y-MT3T-E2GS-DRDB-KVT!')).toBeNull();
  });

  it('round-trips the key with its code, and only with its code, for its own account', async () => {
    const g = await generateIdentity('alice@clinic.test');
    const id = await loadIdentity(g.armoredSecretKey);
    const code = newBackupCode();
    const backup = await encryptSecretKeyBackup(id, code);
    expect(backup).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
    // The backup is ciphertext: the key's own bytes do not appear in it.
    expect(Buffer.from(backup, 'base64').includes(Buffer.from(id.privateKey.write()).subarray(0, 64))).toBe(false);

    const restored = await decryptSecretKeyBackup(backup, code.toLowerCase().replace(/-/g, ' '), 'Alice@clinic.test');
    expect(restored.fingerprint).toBe(id.fingerprint);
    expect(restored.privateKey.isDecrypted()).toBe(true);

    await expect(decryptSecretKeyBackup(backup, newBackupCode(), 'alice@clinic.test')).rejects.toBeInstanceOf(
      BackupCodeError,
    );
    await expect(decryptSecretKeyBackup(backup, code, 'mallory@clinic.test')).rejects.toBeInstanceOf(KeyRejectedError);
    await expect(decryptSecretKeyBackup('bm90IGEgYmFja3Vw', code, 'alice@clinic.test')).rejects.toBeInstanceOf(
      BackupCodeError,
    );
  });
});
