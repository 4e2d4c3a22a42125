/**
 * A patient text's OpenPGP message (main/crypto/patient-link.ts, issue 17 item 2): the link secret
 * and the clinic's archive key each open it; the password recipient uses the smallest iterated S2K
 * count, because the secret is 128 random bits (stretching it would only slow every send and every
 * patient's tap through).
 */
import * as openpgp from 'openpgp';
import { beforeAll, describe, expect, it } from 'vitest';
import { encryptForPatient, LINK_S2K_COUNT_BYTE, MAX_PATIENT_TEXT_CHARS } from '../../main/crypto/patient-link';
import { adminKey, KEY_DATE } from '../support/crypto-fixtures';

const TEXT = 'Your results are ready; nothing needs doing before your visit.';
// After the key's creation, from the fixture's own date: the same date goes to openpgp.
const SENT = new Date(KEY_DATE.getTime() + 86_400_000);

describe('encryptForPatient', () => {
  let archive: openpgp.PrivateKey;
  beforeAll(async () => {
    archive = await adminKey('Clinic archive');
  });

  async function read(ciphertext: string): Promise<openpgp.Message<Uint8Array>> {
    return openpgp.readMessage({ binaryMessage: Buffer.from(ciphertext, 'base64') });
  }

  it('the link secret and the archive key each open it, dated by the given clock', async () => {
    const sealed = await encryptForPatient(TEXT, archive.toPublic(), SENT);
    expect(sealed.secret).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const byLink = await openpgp.decrypt({ message: await read(sealed.ciphertext), passwords: [sealed.secret] });
    expect(byLink.data).toBe(TEXT);
    const byArchive = await openpgp.decrypt({
      message: await read(sealed.ciphertext),
      decryptionKeys: archive,
      date: SENT,
    });
    expect(byArchive.data).toBe(TEXT);
    const opened = await (await read(sealed.ciphertext)).decrypt([], [sealed.secret]);
    // The literal packet's date (openpgp's types leave it out): the given clock's, not the wall clock's.
    const literal = opened.packets.findPacket(openpgp.enums.packet.literalData) as unknown as
      { date: Date } | undefined;
    expect(literal?.date.getTime()).toBe(SENT.getTime());
  });

  it('a wrong secret opens nothing', async () => {
    const sealed = await encryptForPatient(TEXT, archive.toPublic(), SENT);
    const wrong = sealed.secret.startsWith('A') ? `B${sealed.secret.slice(1)}` : `A${sealed.secret.slice(1)}`;
    await expect(openpgp.decrypt({ message: await read(sealed.ciphertext), passwords: [wrong] })).rejects.toThrow();
  });

  it('each text has its own secret and its own salt, with the smallest iterated S2K count', async () => {
    const a = await encryptForPatient(TEXT, archive.toPublic(), SENT);
    const b = await encryptForPatient(TEXT, archive.toPublic(), SENT);
    expect(a.secret).not.toBe(b.secret);
    const s2kOf = async (c: string) => {
      const skesk = (await read(c)).packets.filterByTag(openpgp.enums.packet.symEncryptedSessionKey);
      expect(skesk).toHaveLength(1);
      return (skesk[0] as unknown as { s2k: { type: string; c: number; salt: Uint8Array } }).s2k;
    };
    const [sa, sb] = [await s2kOf(a.ciphertext), await s2kOf(b.ciphertext)];
    expect(sa.type).toBe('iterated');
    expect(sa.c).toBe(LINK_S2K_COUNT_BYTE);
    expect(Buffer.from(sa.salt).equals(Buffer.from(sb.salt))).toBe(false);
    const pkesk = (await read(a.ciphertext)).packets.filterByTag(openpgp.enums.packet.publicKeyEncryptedSessionKey);
    expect(pkesk).toHaveLength(1); // the archive key, and nobody else
  });

  it('refuses an empty or over-long text', async () => {
    await expect(encryptForPatient('', archive.toPublic(), SENT)).rejects.toThrow(RangeError);
    await expect(encryptForPatient('x'.repeat(MAX_PATIENT_TEXT_CHARS + 1), archive.toPublic(), SENT)).rejects.toThrow(
      RangeError,
    );
  });
});
