import * as openpgp from 'openpgp';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  identityAsContact,
  openSigncrypt,
  signcrypt,
  SigncryptRejectedError,
  type RejectReason,
} from '../../main/crypto/index';
import { craft, makeParties, signcryptXml, stamp, type Party } from '../support/crypto-fixtures';

let alice: Party, bob: Party, carol: Party, mallory: Party;
const now = new Date('2026-11-28T10:00:00Z');

beforeAll(async () => {
  [alice, bob, carol, mallory] = await makeParties(
    'alice@clinic.test',
    'bob@clinic.test',
    'carol@clinic.test',
    'mallory@clinic.test',
  );
});

const openAsBob = (base64: string, extra: { delayStamp?: Date; now?: Date; sender?: Party } = {}) =>
  openSigncrypt({
    identity: bob.identity,
    senderKey: (extra.sender ?? alice).contact,
    base64,
    ourJid: 'bob@clinic.test',
    now: extra.now ?? now,
    ...(extra.delayStamp ? { delayStamp: extra.delayStamp } : {}),
  });

async function expectReject(p: Promise<unknown>, reason: RejectReason): Promise<void> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SigncryptRejectedError);
  expect((err as SigncryptRejectedError).reason).toBe(reason);
}

const fromAlice = (body: string, opts: { now?: Date; to?: string } = {}) =>
  signcrypt({
    identity: alice.identity,
    recipients: [bob.contact],
    to: opts.to ?? 'bob@clinic.test',
    body,
    now: opts.now ?? now,
  });

describe('signcrypt round trip', () => {
  it('delivers the body and the sender time from one identity to another', async () => {
    const b64 = await fromAlice('Patient in room 4 is ready.');
    expect(b64).toMatch(/^[A-Za-z0-9+/]+=*$/);
    const out = await openAsBob(b64);
    expect(out.body).toBe('Patient in room 4 is ready.');
    expect(out.timestamp.toISOString()).toBe(now.toISOString());
    expect(out.to).toEqual(['bob@clinic.test']);
    expect(out.senderFingerprint).toBe(alice.contact.fingerprint);
  });

  it("lets the sender's other device read its own sent message (encrypted to self)", async () => {
    const b64 = await fromAlice('note to colleague');
    // Alice's second workstation has the same account key; it checks the carbon / archive
    // copy against the outer `to` (Bob) and her own key as the signer.
    const copy = await openSigncrypt({
      identity: alice.identity,
      senderKey: identityAsContact(alice.identity),
      base64: b64,
      ourJid: 'bob@clinic.test',
      now,
    });
    expect(copy.body).toBe('note to colleague');
    // Carol, who is neither recipient nor sender, cannot read it at all.
    const asCarol = openSigncrypt({
      identity: carol.identity,
      senderKey: alice.contact,
      base64: b64,
      ourJid: 'carol@clinic.test',
      now,
    });
    await expectReject(asCarol, 'decrypt-failed');
  });

  it('keeps XML special characters and script text literally', async () => {
    const nasty = `<script>alert("x")</script> & &amp; 'q' ]]> <![CDATA[y]]> </body><body>z\r\n\ttab é 😀`;
    const out = await openAsBob(await fromAlice(nasty));
    expect(out.body).toBe(nasty);
  });

  it('pads with random-length <rpad/> so equal bodies give different sizes', async () => {
    const sizes = new Set<number>();
    for (let i = 0; i < 8; i++) sizes.add((await fromAlice('same')).length);
    expect(sizes.size).toBeGreaterThan(1);
  });

  it('refuses to build a body XML cannot carry, or a <to/> that is not a bare JID', async () => {
    await expect(fromAlice('bell \u0007')).rejects.toThrow(RangeError);
    await expect(fromAlice('hi', { to: "bob'/><to jid='eve@x" })).rejects.toThrow(RangeError);
  });
});

describe('openSigncrypt rejects hostile input', () => {
  it('wrong signer: validly signed by a third key', async () => {
    const b64 = await signcrypt({
      identity: mallory.identity,
      recipients: [bob.contact],
      to: 'bob@clinic.test',
      body: 'hi',
      now,
    });
    await expectReject(openAsBob(b64), 'wrong-signer');
  });

  it('not signed: encrypted only', async () => {
    const xml = signcryptXml({ to: ['bob@clinic.test'], time: stamp(now), body: 'unsigned' });
    await expectReject(openAsBob(await craft({ plaintext: xml, encryptTo: [bob], date: now })), 'not-signed');
  });

  it("re-addressed: Bob re-encrypts Alice's signed message to Carol (surreptitious forwarding)", async () => {
    // Alice's signature covers only the literal data, so "Bob decrypts and re-encrypts her
    // signed packets to Carol" yields exactly this: Alice-signed plaintext addressed to Bob,
    // encrypted to Carol. (openpgp.js streams trailing signature packets, so re-encrypting
    // parsed packets directly is not possible with its public API.)
    const xml = signcryptXml({ to: ['bob@clinic.test'], time: stamp(now), body: 'for Bob only' });
    const fwd = await craft({ plaintext: xml, encryptTo: [carol], signedBy: alice, date: now });
    const opened = openSigncrypt({
      identity: carol.identity,
      senderKey: alice.contact,
      base64: fwd,
      ourJid: 'carol@clinic.test',
      now,
    });
    await expectReject(opened, 'bad-recipient');
  });

  it('inner <to/> naming someone else, even with a valid signature', async () => {
    const xml = signcryptXml({ to: ['carol@clinic.test', 'dave@clinic.test'], time: stamp(now), body: 'x' });
    await expectReject(
      openAsBob(await craft({ plaintext: xml, encryptTo: [bob], signedBy: alice, date: now })),
      'bad-recipient',
    );
  });

  it('not encrypted to us: decrypt-failed', async () => {
    const b64 = await signcrypt({
      identity: alice.identity,
      recipients: [carol.contact],
      to: 'bob@clinic.test',
      body: 'x',
      now,
    });
    await expectReject(openAsBob(b64), 'decrypt-failed');
  });

  it('replayed: a timestamp two days old without a matching delay stamp', async () => {
    const old = new Date(now.getTime() - 2 * 86_400_000);
    const b64 = await fromAlice('old news', { now: old });
    await expectReject(openAsBob(b64), 'bad-time');
    await expectReject(openAsBob(b64, { delayStamp: now }), 'bad-time');
    // The same message is fine when it comes with the archive's delay stamp from that day.
    expect((await openAsBob(b64, { delayStamp: new Date(old.getTime() + 2_000) })).body).toBe('old news');
  });

  it('a timestamp from the future', async () => {
    await expectReject(openAsBob(await fromAlice('soon', { now: new Date(now.getTime() + 3_600_000) })), 'bad-time');
  });

  it('reads a +0000 time zone (lenient) but rejects an unparsable or missing <time/>', async () => {
    const ok = signcryptXml({ to: ['bob@clinic.test'], time: '2026-11-28T10:00:00+0000', body: 'tz' });
    expect((await openAsBob(await craft({ plaintext: ok, encryptTo: [bob], signedBy: alice, date: now }))).body).toBe(
      'tz',
    );
    const bad = signcryptXml({ to: ['bob@clinic.test'], time: 'yesterday', body: 'tz' });
    await expectReject(
      openAsBob(await craft({ plaintext: bad, encryptTo: [bob], signedBy: alice, date: now })),
      'bad-time',
    );
  });

  it('truncated base64', async () => {
    const b64 = await fromAlice('cut short');
    await expectReject(openAsBob(b64.slice(0, b64.length - 3)), 'malformed');
    // Still valid base64, but the packets stop early:
    const cut = b64.slice(0, Math.floor(b64.length / 8) * 4);
    await expectReject(openAsBob(cut), 'malformed');
  });

  it('garbage base64 and base64 of garbage', async () => {
    await expectReject(openAsBob('this is not base64!!'), 'malformed');
    await expectReject(openAsBob(''), 'malformed');
    await expectReject(openAsBob(Buffer.from('hello world, not OpenPGP at all').toString('base64')), 'malformed');
  });

  it('oversized before decoding anything', async () => {
    await expectReject(openAsBob('A'.repeat(200_000)), 'too-large');
  });

  it('a compression bomb: small ciphertext, huge plaintext', async () => {
    const xml = signcryptXml({ to: ['bob@clinic.test'], time: stamp(now), body: 'a'.repeat(2_000_000) });
    const b64 = await craft({
      plaintext: xml,
      encryptTo: [bob],
      signedBy: alice,
      config: { preferredCompressionAlgorithm: openpgp.enums.compression.zlib },
      date: now,
    });
    expect(b64.length).toBeLessThan(64 * 1024);
    await expectReject(openAsBob(b64), 'too-large');
  });

  it('deeply nested XML', async () => {
    const deep = '<a>'.repeat(2_000) + '</a>'.repeat(2_000);
    const xml = signcryptXml({ to: ['bob@clinic.test'], time: stamp(now), body: 'x', extra: deep });
    await expectReject(
      openAsBob(await craft({ plaintext: xml, encryptTo: [bob], signedBy: alice, date: now })),
      'malformed',
    );
  });

  it('DTDs and entity expansion (billion laughs)', async () => {
    const xml =
      `<?xml version='1.0'?><!DOCTYPE s [<!ENTITY lol 'lol'>]>` +
      signcryptXml({ to: ['bob@clinic.test'], time: stamp(now), body: '&lol;' });
    await expectReject(
      openAsBob(await craft({ plaintext: xml, encryptTo: [bob], signedBy: alice, date: now })),
      'malformed',
    );
  });

  it('plaintext that is not UTF-8, or not a <signcrypt/>', async () => {
    const notUtf8 = new Uint8Array([0x3c, 0x61, 0xff, 0xfe, 0x3e]);
    await expectReject(
      openAsBob(await craft({ plaintext: notUtf8, encryptTo: [bob], signedBy: alice, date: now })),
      'malformed',
    );
    const wrongRoot = `<sign xmlns='urn:xmpp:openpgp:0'><to jid='bob@clinic.test'/><time stamp='${stamp(now)}'/></sign>`;
    await expectReject(
      openAsBob(await craft({ plaintext: wrongRoot, encryptTo: [bob], signedBy: alice, date: now })),
      'malformed',
    );
    const noBody = signcryptXml({ to: ['bob@clinic.test'], time: stamp(now), body: '' }).replace(
      /<body[^]*<\/body>/,
      '',
    );
    await expectReject(
      openAsBob(await craft({ plaintext: noBody, encryptTo: [bob], signedBy: alice, date: now })),
      'malformed',
    );
  });

  it('names the reason only: no plaintext in the error message', async () => {
    const b64 = await signcrypt({
      identity: mallory.identity,
      recipients: [bob.contact],
      to: 'bob@clinic.test',
      body: 'SECRET-PHI-123',
      now,
    });
    const err = (await openAsBob(b64).catch((e: unknown) => e)) as Error;
    expect(String(err.message)).not.toContain('SECRET-PHI-123');
    expect(String(err.stack)).not.toContain('SECRET-PHI-123');
  });
});
