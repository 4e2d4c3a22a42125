/**
 * The patient reply's wire format (issue 17 item 3): common/patient-reply.ts parses and validates
 * the <reply/> the gateway builds (gateway/xmpp/protocol.ts replyMessage), for the desktop. What
 * the gateway writes comes back exactly; a stanza without a reply is not this parser's; anything
 * malformed — a foreign sender, a second <reply/>, bad ids, times or types, plaintext or a
 * password message instead of public-key ciphertext, bytes after it, an oversized payload — is a
 * problem, never an exception (fast-check: random attributes, random and truncated packets).
 */
import { xml } from '@xmpp/client';
import fc from 'fast-check';
import * as openpgp from 'openpgp';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  checkEncryptedMessage,
  decodeBase64,
  parsePatientReply,
  PATIENT_GATEWAY_NS,
  type ElementLike,
} from '../../common/patient-reply';
import type { ReplyDelivery } from '../../gateway/service';
import { replyMessage } from '../../gateway/xmpp/protocol';
import { fuzz } from './fuzz-support';

const DOMAIN = 'patients.clinic.test';
const PATIENT = `p-${'0123456789abcdef01234567'}`;
const ID = 'AbCdEfGhIjKlMnOpQrStUv';
const MSG = 'ZyXwVuTsRqPoNmLkJiHgFe';

/** Real replies as the page makes them: to two public keys; and what must not pass. */
const sealed: Uint8Array[] = [];
let literal: Uint8Array;
let passwordOnly: Uint8Array;
let signedOnly: Uint8Array;

beforeAll(async () => {
  const keys = await Promise.all(
    ['staff', 'archive'].map(async (name) => {
      const { privateKey } = await openpgp.generateKey({
        type: 'ecc',
        curve: 'curve25519Legacy',
        userIDs: [{ name }],
        format: 'object',
      });
      return privateKey;
    }),
  );
  const publics = keys.map((k) => k.toPublic());
  for (const text of ['Yes.', 'x'.repeat(3000), 'Ünïcødé ✓ reply'])
    sealed.push(
      await openpgp.encrypt({
        message: await openpgp.createMessage({ text }),
        encryptionKeys: publics,
        format: 'binary',
      }),
    );
  literal = (await openpgp.createMessage({ text: 'plain' })).write() as Uint8Array;
  passwordOnly = await openpgp.encrypt({
    message: await openpgp.createMessage({ text: 'pw' }),
    passwords: ['pw'],
    format: 'binary',
  });
  signedOnly = await openpgp.sign({
    message: await openpgp.createMessage({ text: 'signed' }),
    signingKeys: keys[0]!,
    format: 'binary',
  });
});

const delivery = (over: Partial<ReplyDelivery> = {}): ReplyDelivery => ({
  id: ID,
  messageId: MSG,
  staffJid: 'rita@clinic.test',
  patient: PATIENT,
  verified: 'dob',
  at: Date.parse('2027-01-15T08:00:00.000Z'),
  ciphertext: Buffer.from(sealed[0]!),
  ...over,
});

/** A reply stanza with some attributes or children changed by hand. */
function stanza(
  o: { from?: string; type?: string; attrs?: Record<string, string>; ciphertexts?: string[]; replies?: number } = {},
): ElementLike {
  const replyAttrs = {
    xmlns: PATIENT_GATEWAY_NS,
    id: ID,
    message: MSG,
    verified: 'code',
    at: '2027-01-15T08:00:00Z',
    ...o.attrs,
  };
  const cts = o.ciphertexts ?? [Buffer.from(sealed[0]!).toString('base64')];
  const reply = () => xml('reply', replyAttrs, ...cts.map((c) => xml('ciphertext', {}, c)));
  return xml(
    'message',
    { from: o.from ?? `${PATIENT}@${DOMAIN}`, to: 'rita@clinic.test', type: o.type ?? 'chat' },
    ...Array.from({ length: o.replies ?? 1 }, reply),
  );
}

const parse = (el: ElementLike, maxBytes?: number) => parsePatientReply(el, { gatewayDomain: DOMAIN, maxBytes });

describe('patient reply wire format', () => {
  it('reads back exactly what the gateway writes', () => {
    const built = replyMessage(delivery(), DOMAIN) as unknown as ElementLike;
    expect(parse(built)).toEqual({
      ok: true,
      reply: {
        patientJid: `${PATIENT}@${DOMAIN}`,
        replyId: ID,
        messageId: MSG,
        verified: 'dob',
        at: Date.parse('2027-01-15T08:00:00.000Z'),
        ciphertext: new Uint8Array(sealed[0]!),
      },
    });
    expect(parse(stanza())).toMatchObject({ ok: true, reply: { verified: 'code' } });
  });

  it('a message without a reply, or not a message, is not for this parser', () => {
    expect(
      parse(xml('message', { from: `${PATIENT}@${DOMAIN}` }, xml('body', {}, 'hi')) as unknown as ElementLike),
    ).toBeNull();
    expect(parse(xml('iq', {}, xml('reply', { xmlns: PATIENT_GATEWAY_NS })) as unknown as ElementLike)).toBeNull();
    expect(parse(xml('message', {}, xml('reply', { xmlns: 'urn:other' })) as unknown as ElementLike)).toBeNull();
  });

  it.each([
    ['a staff sender', { from: `rita@clinic.test` }, 'from'],
    ['another domain', { from: `${PATIENT}@patients.evil.test` }, 'from'],
    ['a longer local part', { from: `${PATIENT}0@${DOMAIN}` }, 'from'],
    ['a resource', { from: `${PATIENT}@${DOMAIN}/x` }, 'from'],
    ['groupchat', { type: 'groupchat' }, 'type'],
    ['an error', { type: 'error' }, 'type'],
    ['two replies', { replies: 2 }, 'more than one'],
    ['no ciphertext', { ciphertexts: [] }, 'exactly one'],
    ['two ciphertexts', { ciphertexts: ['AAAA', 'AAAA'] }, 'exactly one'],
    ['a short id', { attrs: { id: 'abc' } }, 'id'],
    ['a bad message id', { attrs: { message: `${MSG}/` } }, 'message'],
    ['verified by something else', { attrs: { verified: 'sms' } }, 'verified'],
    ['a local time', { attrs: { at: '2027-01-15T08:00:00+01:00' } }, 'at'],
    ['an impossible date', { attrs: { at: '2027-13-45T08:00:00Z' } }, 'at'],
    ['not base64', { ciphertexts: ['***'] }, 'base64'],
  ] as const)('refuses %s', (_what, o, problem) => {
    const out = parse(stanza(o as Parameters<typeof stanza>[0]));
    expect(out?.ok).toBe(false);
    expect((out as { problem: string }).problem).toContain(problem);
  });

  it('refuses plaintext, a password-only message, a signed message, bytes after the ciphertext, and too many bytes', () => {
    const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
    for (const [what, bytes] of [
      ['literal', literal],
      ['password', passwordOnly],
      ['signed', signedOnly],
      ['trailing', Buffer.concat([sealed[0]!, literal])],
      ['truncated', sealed[0]!.subarray(0, sealed[0]!.length - 1)],
    ] as const) {
      const out = parse(stanza({ ciphertexts: [b64(bytes)] }));
      expect(out?.ok, what).toBe(false);
      expect((out as { problem: string }).problem, what).toMatch(/^ciphertext: /);
    }
    expect(parse(stanza({ ciphertexts: [b64(sealed[1]!)] }), 1024)).toMatchObject({
      ok: false,
      problem: 'ciphertext: larger than 1024 bytes',
    });
    expect(parse(stanza({ ciphertexts: [b64(sealed[1]!)] }))).toMatchObject({ ok: true });
  });

  it('walks both header formats and partial body lengths', () => {
    const pkesk = [0xc1, 3, 1, 2, 3]; // new format, tag 1, 3 bytes
    const oldPkesk = [0x84, 2, 9, 9]; // old format, tag 1, one-byte length 2
    const chunk = (n: number) => Array.from({ length: n }, (_, i) => i & 0xff);
    // SEIPD (tag 18) in a 512-byte partial chunk, a 2-byte partial chunk, then a final 10 bytes.
    const partial = [0xd2, 0xe9, ...chunk(512), 0xe1, ...chunk(2), 10, ...chunk(10)];
    expect(checkEncryptedMessage(Uint8Array.from([...pkesk, ...oldPkesk, ...partial]))).toBeNull();
    expect(checkEncryptedMessage(Uint8Array.from([...pkesk, ...partial.slice(0, -1)]))).toBe(
      'a packet runs past the end',
    );
    expect(checkEncryptedMessage(Uint8Array.from([...pkesk, ...partial, 0x01]))).toBe('not an OpenPGP packet');
    expect(checkEncryptedMessage(Uint8Array.from([...pkesk, ...partial, ...pkesk]))).toBe(
      'a session key after the encrypted data',
    );
    expect(checkEncryptedMessage(Uint8Array.from(partial))).toBe('no public-key recipient');
    expect(checkEncryptedMessage(Uint8Array.from(pkesk))).toBe('no encrypted data');
  });

  fuzz(
    'what the gateway writes always parses back the same',
    fc.property(
      fc.stringMatching(/^[A-Za-z0-9_-]{22}$/),
      fc.stringMatching(/^[A-Za-z0-9_-]{22}$/),
      fc.constantFrom('dob' as const, 'code' as const),
      fc.integer({ min: 0, max: 4102444800000 }),
      fc.nat({ max: 2 }),
      fc.stringMatching(/^p-[0-9a-f]{24}$/),
      (id, messageId, verified, at, which, patient) => {
        const el = replyMessage(
          delivery({ id, messageId, verified, at, patient, ciphertext: Buffer.from(sealed[which]!) }),
          DOMAIN,
        ) as unknown as ElementLike;
        const out = parse(el);
        expect(out).toEqual({
          ok: true,
          reply: {
            patientJid: `${patient}@${DOMAIN}`,
            replyId: id,
            messageId,
            verified,
            at,
            ciphertext: new Uint8Array(sealed[which]!),
          },
        });
      },
    ),
    { numRuns: 200 },
  );

  fuzz(
    'random attributes and payloads give a reply or a problem, never an exception',
    fc.property(
      fc.record({
        from: fc.oneof(fc.string(), fc.constant(`${PATIENT}@${DOMAIN}`)),
        type: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('chat', 'normal')),
        id: fc.oneof(fc.string(), fc.constant(ID)),
        message: fc.oneof(fc.string(), fc.constant(MSG)),
        verified: fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('dob', 'code')),
        at: fc.oneof(
          fc.string(),
          fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
        ),
        payload: fc.oneof(
          fc.string({ maxLength: 200 }),
          fc.base64String({ maxLength: 400 }),
          fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('base64')),
        ),
      }),
      (r) => {
        const out = parse(
          stanza({
            from: r.from,
            type: r.type,
            attrs: { id: r.id, message: r.message, verified: r.verified, at: r.at },
            ciphertexts: [r.payload],
          }),
        );
        if (!out) throw new Error('a reply stanza was not recognised');
        if (out.ok) {
          expect(out.reply.patientJid).toBe(`${PATIENT}@${DOMAIN}`);
          expect(checkEncryptedMessage(out.reply.ciphertext)).toBeNull();
        } else expect(typeof out.problem).toBe('string');
      },
    ),
    { numRuns: 500 },
  );

  fuzz(
    'the packet walk never throws, and cutting or flipping a real reply is caught or still well-formed',
    fc.property(
      fc.uint8Array({ maxLength: 600 }),
      fc.nat({ max: 2 }),
      fc.nat(),
      fc.integer({ min: 1, max: 255 }),
      (random, which, at, flip) => {
        const r = checkEncryptedMessage(random);
        expect(r === null || typeof r === 'string').toBe(true);
        const real = sealed[which]!;
        expect(checkEncryptedMessage(real)).toBeNull();
        const cut = real.subarray(0, at % real.length);
        expect(checkEncryptedMessage(cut)).not.toBeNull();
        const flipped = Uint8Array.from(real);
        flipped[at % real.length] = flipped[at % real.length]! ^ flip;
        const f = checkEncryptedMessage(flipped);
        expect(f === null || typeof f === 'string').toBe(true);
      },
    ),
    { numRuns: 500 },
  );

  fuzz(
    'base64 decodes as Node does, and non-base64 is refused',
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 300 }), fc.string({ maxLength: 40 }), (bytes, junk) => {
      expect(decodeBase64(Buffer.from(bytes).toString('base64'))).toEqual(new Uint8Array(bytes));
      const d = decodeBase64(junk);
      if (d !== null) expect(Buffer.from(d).toString('base64').length).toBe(junk.length);
    }),
    { numRuns: 300 },
  );
});
