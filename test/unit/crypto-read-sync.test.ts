// Issue 12 §6 (XEP-0490): the read-state item's payload is a <signcrypt/> signed by and encrypted
// to our own key, naming our own bare JID; anything else is refused with a reason, never applied.
import { beforeAll, describe, expect, it } from 'vitest';
import { SigncryptRejectedError } from '../../main/crypto/errors';
import { buildReadMarkXml, MDS_NS, openReadMark, sealReadMark } from '../../main/crypto/read-sync';
import { craft, makeParties, stamp, type Party } from '../support/crypto-fixtures';

let alice: Party, bob: Party, otherAliceKey: Party;
const now = new Date('2026-11-28T10:00:00Z');
const A = 'alice@clinic.test';
const B = 'bob@clinic.test';

beforeAll(async () => {
  // otherAliceKey: a key with our own user ID that is not our key (a forger, or an old key).
  [alice, bob, otherAliceKey] = await makeParties(A, B, A);
});

const markXml = (o: { to?: string[]; time?: string; payload?: string } = {}) =>
  `<signcrypt xmlns='urn:xmpp:openpgp:0'>${(o.to ?? [A]).map((t) => `<to jid='${t}'/>`).join('')}` +
  `<time stamp='${o.time ?? stamp(now)}'/><rpad>abc</rpad><payload>` +
  (o.payload ??
    `<displayed xmlns='${MDS_NS}'><stanza-id xmlns='urn:xmpp:sid:0' id='sid-2' by='${A}'/></displayed>` +
      `<conversation xmlns='urn:clinicmessenger:0' jid='${B}'/>`) +
  `</payload></signcrypt>`;

const reason = async (p: Promise<unknown>) => {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SigncryptRejectedError);
  return (err as SigncryptRejectedError).reason;
};
const openAsAlice = (base64: string, at = now) => openReadMark(alice.identity, base64, at);
const crafted = (plaintext: string, o: { signedBy?: Party | null; encryptTo?: Party[] } = {}) =>
  craft({
    plaintext,
    encryptTo: o.encryptTo ?? [alice],
    ...(o.signedBy === null ? {} : { signedBy: o.signedBy ?? alice }),
    date: now,
  });

describe('read-state mark inside a signcrypt to ourselves (XEP-0490)', () => {
  it('round-trips the colleague and the stanza-id, with the XEP-0490 element naming our archive', async () => {
    const xml = buildReadMarkXml(alice.identity, { peer: 'Bob@Clinic.test', stanzaId: 'sid-2' }, now);
    expect(xml).toContain(`<to jid='${A}'/>`);
    expect(xml).toContain(
      `<displayed xmlns='${MDS_NS}'><stanza-id xmlns='urn:xmpp:sid:0' id='sid-2' by='${A}'/></displayed>`,
    );
    const sealed = await sealReadMark(alice.identity, { peer: B, stanzaId: 'sid-2' }, now);
    expect(await openAsAlice(sealed)).toEqual({ peer: B, stanzaId: 'sid-2', timestamp: now });
    // A workstation that was off for weeks still applies it (older marks never undo newer reads: the caller).
    expect((await openAsAlice(sealed, new Date(now.getTime() + 30 * 86_400_000))).stanzaId).toBe('sid-2');
    // Hand-written in the documented form (docs/protocol.md) it opens the same.
    expect((await openAsAlice(await crafted(markXml()))).peer).toBe(B);
  });

  it('refuses a mark signed by another key, even one with our own user ID, or not signed at all', async () => {
    expect(await reason(openAsAlice(await crafted(markXml(), { signedBy: bob })))).toBe('wrong-signer');
    expect(await reason(openAsAlice(await crafted(markXml(), { signedBy: otherAliceKey })))).toBe('wrong-signer');
    expect(await reason(openAsAlice(await crafted(markXml(), { signedBy: null })))).toBe('not-signed');
  });

  it('refuses what is not to us alone, or not encrypted to our key', async () => {
    expect(await reason(openAsAlice(await crafted(markXml({ to: [B] }))))).toBe('bad-recipient');
    // A message to a colleague is also encrypted to our key: it is never a mark.
    expect(await reason(openAsAlice(await crafted(markXml({ to: [B, A] }))))).toBe('bad-recipient');
    expect(await reason(openAsAlice(await crafted(markXml(), { encryptTo: [bob] })))).toBe('decrypt-failed');
  });

  it('refuses malformed marks and a time in the future', async () => {
    const sid = (by: string, id = 'sid-2') =>
      `<displayed xmlns='${MDS_NS}'><stanza-id xmlns='urn:xmpp:sid:0' id='${id}' by='${by}'/></displayed>`;
    const conv = `<conversation xmlns='urn:clinicmessenger:0' jid='${B}'/>`;
    const bad = [
      markXml({ payload: sid(A) }), // which conversation is not signed
      markXml({ payload: conv }), // no <displayed/>
      markXml({ payload: sid(A) + sid(A) + conv }), // two
      markXml({ payload: sid(B) + conv }), // the colleague's archive, not ours
      markXml({ payload: sid(A, '') + conv }),
      markXml({ payload: sid(A, 'x'.repeat(129)) + conv }),
      markXml({ payload: sid(A) + `<conversation xmlns='urn:clinicmessenger:0' jid='${A}'/>` }),
      markXml({ payload: sid(A) + `<conversation xmlns='urn:clinicmessenger:0' jid='not a jid'/>` }),
      markXml({ payload: `<body xmlns='jabber:client'>a message, not a mark</body>` }),
      markXml().replace('</signcrypt>', ''), // not XML
    ];
    for (const plaintext of bad) expect(await reason(openAsAlice(await crafted(plaintext)))).toBe('malformed');
    expect(await reason(openAsAlice('not base64!'))).toBe('malformed');
    const future = stamp(new Date(now.getTime() + 60 * 60_000));
    expect(await reason(openAsAlice(await crafted(markXml({ time: future }))))).toBe('bad-time');
    expect(await reason(openAsAlice(await crafted(markXml({ time: 'yesterday' }))))).toBe('bad-time');
  });
});
