import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  deriveKek,
  deriveSubkeys,
  deriveWrappingKey,
  isAllZero,
  unwrapMasterKey,
  wrapMasterKey,
  zeroKeys,
} from '../../main/vault/keys';

const fast = { memoryKiB: 19 * 1024, iterations: 1, parallelism: 1 };
const PROFILE = 'aaaaaaaa-1111-2222-3333-444444444444';

async function wrappingKey(passphrase: string, secret: Buffer, salt: Buffer) {
  const kek = await deriveKek(passphrase, salt, fast);
  return deriveWrappingKey(kek, secret, salt);
}

describe('key hierarchy', () => {
  it('unwraps the master key with the same passphrase and device secret', async () => {
    const salt = randomBytes(16);
    const secret = randomBytes(32);
    const master = randomBytes(32);
    const wrapped = wrapMasterKey(master, await wrappingKey('a long passphrase here', secret, salt), PROFILE);
    expect(Buffer.from(wrapped.ct, 'base64').equals(master)).toBe(false);
    const back = unwrapMasterKey(wrapped, await wrappingKey('a long passphrase here', secret, salt), PROFILE);
    expect(back?.equals(master)).toBe(true);
  });

  it('refuses a wrong passphrase, a different device secret, another profile id and a tampered blob', async () => {
    const salt = randomBytes(16);
    const secret = randomBytes(32);
    const wrapped = wrapMasterKey(randomBytes(32), await wrappingKey('right passphrase one', secret, salt), PROFILE);
    expect(unwrapMasterKey(wrapped, await wrappingKey('wrong passphrase one', secret, salt), PROFILE)).toBeNull();
    expect(
      unwrapMasterKey(wrapped, await wrappingKey('right passphrase one', randomBytes(32), salt), PROFILE),
    ).toBeNull();
    const wk = await wrappingKey('right passphrase one', secret, salt);
    expect(unwrapMasterKey(wrapped, wk, 'bbbbbbbb-1111-2222-3333-444444444444')).toBeNull();
    const ct = Buffer.from(wrapped.ct, 'base64');
    ct[0] = (ct[0] ?? 0) ^ 1;
    expect(unwrapMasterKey({ ...wrapped, ct: ct.toString('base64') }, wk, PROFILE)).toBeNull();
    expect(unwrapMasterKey({ ...wrapped, version: 2 }, wk, PROFILE)).toBeNull();
  });

  it('treats the NFC and NFD spellings of a passphrase as the same', async () => {
    const salt = randomBytes(16);
    const nfc = await deriveKek('caf\u00e9 au lait s\u00fcr', salt, fast);
    const nfd = await deriveKek('cafe\u0301 au lait su\u0308r', salt, fast);
    expect(nfc.equals(nfd)).toBe(true);
  });

  it('derives distinct, deterministic subkeys and zero-fills them all', () => {
    const master = randomBytes(32);
    const a = deriveSubkeys(Buffer.from(master));
    const b = deriveSubkeys(Buffer.from(master));
    expect(a.db.equals(b.db)).toBe(true);
    expect(new Set([a.master, a.db, a.files, a.audit].map((k) => k.toString('hex'))).size).toBe(4);
    for (const k of [a.db, a.files, a.audit]) expect(k.length).toBe(32);
    zeroKeys(a);
    for (const k of [a.master, a.db, a.files, a.audit]) expect(isAllZero(k)).toBe(true);
    expect(isAllZero(b.db)).toBe(false);
  });
});
