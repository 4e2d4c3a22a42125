// Issue 12 §7: "Urgent" travels inside the signed, encrypted OX payload — never in the clear — and
// only an <urgent/> in our namespace inside <payload/> counts.
import { beforeAll, describe, expect, it } from 'vitest';
import { buildSigncryptXml, CLINIC_NS, openSigncrypt, signcrypt } from '../../main/crypto/signcrypt';
import { craft, makeParties, signcryptXml, stamp, type Party } from '../support/crypto-fixtures';

let alice: Party, bob: Party;
const now = new Date('2026-11-28T10:00:00Z');

beforeAll(async () => {
  [alice, bob] = await makeParties('alice@clinic.test', 'bob@clinic.test');
});

const open = (base64: string) =>
  openSigncrypt({ identity: bob.identity, senderKey: alice.contact, base64, ourJid: 'bob@clinic.test', now });
const send = (urgent?: boolean) =>
  signcrypt({ identity: alice.identity, recipients: [bob.contact], to: 'bob@clinic.test', body: 'x', now, urgent });

describe('Urgent inside the signed payload', () => {
  it('round-trips the flag, and a message without it is not urgent', async () => {
    expect((await open(await send(true))).urgent).toBe(true);
    expect((await open(await send(false))).urgent).toBe(false);
    expect((await open(await send())).urgent).toBe(false);
  });

  it('writes <urgent/> in our namespace inside <payload/>, after the body', () => {
    const xml = buildSigncryptXml(['bob@clinic.test'], 'hi', now, undefined, true);
    expect(xml).toContain(`</body><urgent xmlns='${CLINIC_NS}'/></payload>`);
    expect(buildSigncryptXml(['bob@clinic.test'], 'hi', now)).not.toContain('urgent');
  });

  it('ignores an <urgent/> outside the payload or in another namespace', async () => {
    const time = stamp(now);
    const outside =
      `<signcrypt xmlns='urn:xmpp:openpgp:0'><to jid='bob@clinic.test'/><time stamp='${time}'/><rpad>abc</rpad>` +
      `<urgent xmlns='${CLINIC_NS}'/><payload><body xmlns='jabber:client'>x</body></payload></signcrypt>`;
    const foreign = signcryptXml({ to: ['bob@clinic.test'], time, body: 'x', extra: "<urgent xmlns='urn:other'/>" });
    const inside = signcryptXml({ to: ['bob@clinic.test'], time, body: 'x', extra: `<urgent xmlns='${CLINIC_NS}'/>` });
    const opened = async (plaintext: string) =>
      (await open(await craft({ plaintext, encryptTo: [bob], signedBy: alice, date: now }))).urgent;
    expect(await opened(outside)).toBe(false);
    expect(await opened(foreign)).toBe(false);
    expect(await opened(inside)).toBe(true);
  });
});
