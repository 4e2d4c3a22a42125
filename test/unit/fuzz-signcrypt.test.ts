/**
 * Fuzzing the OX opener (main/crypto/signcrypt.ts): whatever arrives in <openpgp/>, the only
 * failure is SigncryptRejectedError with a known reason, and anything accepted is exactly what
 * the pinned sender signed for us. Real keys and real OpenPGP throughout; one fixed clock is
 * both the signing date and the opener's `now`, so the tests pass on any day.
 */
import fc from 'fast-check';
import * as openpgp from 'openpgp';
import { beforeAll, describe, expect, it } from 'vitest';
import { isRejectReason, SigncryptRejectedError, type RejectReason } from '../../main/crypto/errors';
import {
  buildSigncryptXml,
  checkSigncryptPlaintext,
  decodeBase64Strict,
  defaultOxLimits,
  openSigncrypt,
  signcrypt,
  type OpenedSigncrypt,
} from '../../main/crypto/signcrypt';
import { craft, makeParties, signcryptXml, stamp, type Party } from '../support/crypto-fixtures';
import { fuzz, hostileWords, xmlSafeString } from './fuzz-support';

const NOW = new Date('2026-11-28T10:00:00Z');
const OUR_JID = 'bob@clinic.test';
let alice: Party, bob: Party, mallory: Party;
/** Genuine messages from Alice to Bob, mutated by the properties below. */
let genuine: { base64: string; body: string }[];

beforeAll(async () => {
  [alice, bob, mallory] = await makeParties('alice@clinic.test', OUR_JID, 'mallory@clinic.test');
  const bodies = ['Room 4 is ready.', '', 'x'.repeat(3000), 'line\r\nbreak & <markup> ]]> 😀'];
  genuine = await Promise.all(
    bodies.map(async (body) => ({
      body,
      base64: await signcrypt({ identity: alice.identity, recipients: [bob.contact], to: OUR_JID, body, now: NOW }),
    })),
  );
});

/** The whole contract of a failure: the typed error with a reason from the closed list. Anything else is rethrown. */
function reasonOf(err: unknown): RejectReason {
  if (err instanceof SigncryptRejectedError && isRejectReason(err.reason)) return err.reason;
  throw err;
}
async function outcome(p: Promise<OpenedSigncrypt>): Promise<OpenedSigncrypt | RejectReason> {
  try {
    return await p;
  } catch (err) {
    return reasonOf(err);
  }
}

const openAsBob = (base64: string, sender: Party = alice) =>
  openSigncrypt({ identity: bob.identity, senderKey: sender.contact, base64, ourJid: OUR_JID, now: NOW });

const ctx = { ourJid: OUR_JID, now: NOW, limits: defaultOxLimits, senderFingerprint: 'F'.repeat(40) };
function checkBytes(data: Uint8Array): OpenedSigncrypt | RejectReason {
  try {
    return checkSigncryptPlaintext(data, ctx);
  } catch (err) {
    return reasonOf(err);
  }
}
const utf8 = (s: string) => new TextEncoder().encode(s);

/** What every accepted message must satisfy, whatever produced it. */
function checkAccepted(r: OpenedSigncrypt): void {
  expect(r.to).toContain(OUR_JID);
  const delta = r.timestamp.getTime() - NOW.getTime();
  expect(delta).toBeLessThanOrEqual(defaultOxLimits.maxFutureMs);
  expect(-delta).toBeLessThanOrEqual(defaultOxLimits.maxPastMs);
  expect(typeof r.body).toBe('string');
}

// --- hostile <signcrypt/> documents, built from the parts the checks look at --------------------

const OX = 'urn:xmpp:openpgp:0';
const jidValue = fc.oneof(
  fc.constantFrom(
    OUR_JID,
    'BOB@Clinic.Test',
    `${OUR_JID}/desk`,
    'alice@clinic.test',
    '',
    ' bob@clinic.test',
    'bob@clinic.test.evil',
  ),
  xmlSafeString(20),
);
const stampValue = fc.oneof(
  fc.integer({ min: -3 * 3_600_000, max: 3 * 3_600_000 }).map((ms) => stamp(new Date(NOW.getTime() + ms))),
  fc.constantFrom(
    '',
    'yesterday',
    '2026-11-28T10:00:00',
    '2026-02-30T00:00:00Z',
    '0026-11-28T10:00:00Z',
    '2026-11-28T10:00:00+25:00',
  ),
  xmlSafeString(30),
);
const nsAttr = fc.oneof(
  fc.constantFrom(` xmlns='${OX}'`, '', " xmlns='jabber:client'", " xmlns=''", " xmlns='urn:xmpp:openpgp:1'"),
);
const escaped = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/'/g, '&apos;').replace(/\r/g, '&#13;');
const bodyEl = fc
  .record({
    ns: fc.constantFrom(" xmlns='jabber:client'", '', ` xmlns='${OX}'`),
    lang: fc.option(fc.constantFrom('en', 'de', ''), { nil: undefined }),
    text: xmlSafeString(40),
    child: fc.boolean(),
  })
  .map(
    (b) =>
      `<body${b.ns}${b.lang !== undefined ? ` xml:lang='${b.lang}'` : ''}>${escaped(b.text)}${b.child ? '<b/>' : ''}</body>`,
  );
const part = fc.oneof(
  jidValue.map((j) => `<to jid='${escaped(j)}'/>`),
  fc.tuple(nsAttr, jidValue).map(([ns, j]) => `<to${ns} jid='${escaped(j)}'/>`),
  fc.constant('<to/>'),
  stampValue.map((s) => `<time stamp='${escaped(s)}'/>`),
  fc.constant('<time/>'),
  xmlSafeString(20).map((s) => `<rpad>${escaped(s)}</rpad>`),
  fc.array(bodyEl, { maxLength: 3 }).map((bs) => `<payload>${bs.join('')}</payload>`),
  fc.constantFrom(...hostileWords.filter((w) => /^[a-z_]+$/i.test(w))).map((w) => `<${w} ${w}='x'/>`),
);
const signcryptDoc = fc
  .record({
    root: fc.constantFrom('signcrypt', 'sign', 'crypt', 'p:signcrypt'),
    ns: fc.constantFrom(` xmlns='${OX}'`, " xmlns:p='urn:xmpp:openpgp:0'", '', " xmlns='urn:xmpp:openpgp:1'"),
    parts: fc.array(part, { maxLength: 8 }),
  })
  .map((d) => `<${d.root}${d.ns}>${d.parts.join('')}</${d.root}>`);

// A few parts that make a document likely to pass, so the fuzzer also reaches the later checks.
const likelyValid = fc
  .tuple(fc.integer({ min: -3 * 3_600_000, max: 3 * 3_600_000 }), xmlSafeString(60), fc.array(part, { maxLength: 3 }))
  .map(([ms, body, extra]) =>
    signcryptXml({
      to: [OUR_JID],
      time: stamp(new Date(NOW.getTime() + ms)),
      body: escaped(body),
      extra: extra.join(''),
    }),
  );

describe('fuzz: checkSigncryptPlaintext (the decrypted, verified payload)', () => {
  fuzz(
    'any bytes are refused with a typed reason, or accepted only when they name us at a sane time',
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 300 }),
        signcryptDoc.map(utf8),
        likelyValid.map(utf8),
        fc.tuple(likelyValid, fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 4 })).map(([doc, at, junk]) => {
          const bytes = utf8(doc);
          const i = at % bytes.length;
          return new Uint8Array([...bytes.subarray(0, i), ...junk, ...bytes.subarray(i + 1)]);
        }),
      ),
      (data) => {
        const r = checkBytes(data);
        if (typeof r === 'string') expect(['malformed', 'bad-recipient', 'bad-time']).toContain(r);
        else checkAccepted(r);
      },
    ),
    { numRuns: 500 },
  );

  fuzz(
    'every body we can send comes back byte-for-byte',
    fc.property(
      xmlSafeString(200),
      fc.array(fc.constantFrom('carol@clinic.test', 'Dave@Clinic.Test'), { maxLength: 2 }),
      (body, others) => {
        const xml = buildSigncryptXml([OUR_JID, ...others], body, NOW);
        expect(checkBytes(utf8(xml))).toMatchObject({
          body,
          timestamp: NOW,
          to: [OUR_JID, ...others.map((o) => o.toLowerCase())],
        });
      },
    ),
    { numRuns: 300 },
  );
});

// --- the base64 wrapper ------------------------------------------------------------------------

const whitespace = fc.constantFrom(' ', '\n', '\r\n', '\t', '');
describe('fuzz: decodeBase64Strict', () => {
  fuzz(
    'valid base64 of any bytes, wrapped with any XML whitespace, decodes to those bytes',
    fc.property(
      fc.uint8Array({ maxLength: 200 }).filter((b) => b.length > 0),
      fc.array(fc.tuple(fc.nat(), whitespace), { maxLength: 6 }),
      (bytes, ws) => {
        let text = Buffer.from(bytes).toString('base64');
        for (const [at, w] of ws) text = text.slice(0, at % (text.length + 1)) + w + text.slice(at % (text.length + 1));
        expect(decodeBase64Strict(text, 10_000)).toEqual(new Uint8Array(bytes));
      },
    ),
    { numRuns: 200 },
  );

  fuzz(
    'anything else is refused as malformed or too-large, never decoded leniently',
    fc.property(
      fc.oneof(
        fc.string({ unit: 'binary', maxLength: 60 }),
        fc.base64String({ maxLength: 60 }),
        fc.stringMatching(/^[A-Za-z0-9+/=\-_ .]{0,60}$/),
      ),
      fc.integer({ min: 0, max: 80 }),
      (text, maxChars) => {
        let result: Uint8Array | RejectReason;
        try {
          result = decodeBase64Strict(text, maxChars);
        } catch (err) {
          if (!(err instanceof SigncryptRejectedError)) throw err;
          result = err.reason;
        }
        const compact = text.replace(/[\t\n\r ]+/g, '');
        const canonical = compact.length > 0 && compact.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(compact);
        if (compact.length > maxChars) expect(result).toBe('too-large');
        else if (!canonical) expect(result).toBe('malformed');
        else expect(result).toEqual(new Uint8Array(Buffer.from(compact, 'base64')));
      },
    ),
    { numRuns: 300 },
  );
});

// --- the whole opener, with real OpenPGP ---------------------------------------------------------

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'append'; bytes: Uint8Array }
  | { kind: 'splice'; at: number; bytes: Uint8Array };
const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('append' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 40 }) }),
  fc.record({ kind: fc.constant('splice' as const), at: fc.nat(), bytes: fc.uint8Array({ maxLength: 8 }) }),
);

function mutate(input: Uint8Array, ms: Mutation[]): Uint8Array {
  let b = new Uint8Array(input);
  for (const m of ms) {
    if (m.kind === 'flip' && b.length > 0) b[m.at % b.length]! ^= 1 << m.bit;
    else if (m.kind === 'truncate') b = b.subarray(0, m.at % (b.length + 1));
    else if (m.kind === 'append') b = new Uint8Array([...b, ...m.bytes]);
    else if (m.kind === 'splice') {
      const at = m.at % (b.length + 1);
      b = new Uint8Array([...b.subarray(0, at), ...m.bytes, ...b.subarray(at)]);
    }
  }
  return b;
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

/** Signed (not yet encrypted) packet streams: one-pass signature, literal data, signature. */
const signedBy: Record<'alice1' | 'alice2' | 'mallory1', Uint8Array> = {
  alice1: new Uint8Array(),
  alice2: new Uint8Array(),
  mallory1: new Uint8Array(),
};
beforeAll(async () => {
  const sign = async (who: Party, body: string) =>
    openpgp.sign({
      message: await openpgp.createMessage({ binary: utf8(buildSigncryptXml([OUR_JID], body, NOW)) }),
      signingKeys: who.identity.privateKey,
      format: 'binary',
      date: NOW,
    });
  signedBy.alice1 = await sign(alice, 'Room 4 is ready.');
  signedBy.alice2 = await sign(alice, 'Room 5 is ready.');
  signedBy.mallory1 = await sign(mallory, 'Room 4 is ready.');
});

/** Splits new-format OpenPGP packets (RFC 9580 §4.2.1; no partial lengths in these small fixtures). */
function splitPackets(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length;) {
    const l0 = bytes[i + 1]!;
    if ((bytes[i]! & 0xc0) !== 0xc0 || (l0 >= 224 && l0 < 255)) throw new Error('fixture: unexpected packet header');
    const [hdr, len] =
      l0 < 192
        ? [2, l0]
        : l0 < 224
          ? [3, ((l0 - 192) << 8) + bytes[i + 2]! + 192]
          : [6, Buffer.from(bytes).readUInt32BE(i + 2)];
    out.push(bytes.subarray(i, i + hdr + len));
    i += hdr + len;
  }
  return out;
}
const packetPool = () => [signedBy.alice1, signedBy.alice2, signedBy.mallory1].flatMap(splitPackets);

/** The parts of openpgp's SEIPD packet class that its type declarations leave out. */
interface RawSeipd {
  version: number;
  packets: { write(): Uint8Array };
  encrypt(algorithm: number, key: Uint8Array): Promise<boolean>;
}

/**
 * Encrypts an arbitrary inner packet stream to Bob, as a hostile peer holding only Bob's public
 * key can: openpgp.encrypt would only ever wrap well-formed literal data.
 */
async function encryptPacketsToBob(inner: Uint8Array): Promise<string> {
  const { data, algorithm } = await openpgp.generateSessionKey({ encryptionKeys: bob.identity.publicKey, date: NOW });
  const pkesk = await openpgp.encryptSessionKey({
    data,
    algorithm,
    encryptionKeys: bob.identity.publicKey,
    format: 'binary',
    date: NOW,
  });
  const seipd = new openpgp.SymEncryptedIntegrityProtectedDataPacket() as unknown as RawSeipd;
  seipd.version = 1;
  seipd.packets = { write: () => inner };
  await seipd.encrypt(openpgp.enums.symmetric[algorithm], data);
  const list = new openpgp.PacketList();
  list.push(seipd as unknown as openpgp.SymEncryptedIntegrityProtectedDataPacket);
  return b64(new Uint8Array([...pkesk, ...list.write()]));
}

describe('fuzz: openSigncrypt (real keys, real OpenPGP)', () => {
  fuzz(
    'arbitrary text in <openpgp/> is refused with a typed reason',
    fc.asyncProperty(
      fc.oneof(
        fc.base64String({ maxLength: 400 }),
        fc.string({ maxLength: 100 }),
        fc.uint8Array({ maxLength: 300 }).map(b64),
      ),
      async (text) => {
        expect(['malformed', 'too-large', 'decrypt-failed']).toContain(await outcome(openAsBob(text)));
      },
    ),
    { numRuns: 150 },
  );

  fuzz(
    'a damaged genuine message is refused, or opens to exactly what Alice sent',
    fc.asyncProperty(fc.nat(), fc.array(mutationArb, { minLength: 1, maxLength: 3 }), async (which, ms) => {
      const msg = genuine[which % genuine.length]!;
      const r = await outcome(openAsBob(b64(mutate(Buffer.from(msg.base64, 'base64'), ms))));
      // A flip in the session-key packet for Alice's own key leaves Bob's intact: that still opens.
      if (typeof r !== 'string')
        expect(r).toMatchObject({ body: msg.body, timestamp: NOW, senderFingerprint: alice.contact.fingerprint });
    }),
    { numRuns: 120 },
  );

  fuzz(
    "a well-encrypted message opens only if it is Alice's signature, for Bob, and its payload passes the checks",
    fc.asyncProperty(
      fc.oneof(likelyValid, signcryptDoc, xmlSafeString(40)),
      fc.constantFrom('alice', 'mallory', 'nobody'),
      fc.constantFrom('bob', 'mallory'),
      fc.constantFrom(0, 60 * 60_000, -2 * 60 * 60_000),
      fc.boolean(),
      async (plaintext, signer, recipient, skewMs, compress) => {
        const signedBy = signer === 'alice' ? alice : signer === 'mallory' ? mallory : undefined;
        const base64 = await craft({
          plaintext,
          encryptTo: [recipient === 'bob' ? bob : mallory],
          ...(signedBy ? { signedBy } : {}),
          date: new Date(NOW.getTime() + skewMs),
          ...(compress ? { config: { preferredCompressionAlgorithm: openpgp.enums.compression.zlib } } : {}),
        });
        const r = await outcome(openAsBob(base64));
        if (recipient !== 'bob') expect(r).toBe('decrypt-failed');
        else if (signer === 'nobody') expect(r).toBe('not-signed');
        // A signature dated in the future is refused as such before the signer is looked at.
        else if (skewMs > defaultOxLimits.maxFutureMs) expect(r).toBe('bad-time');
        else if (signer === 'mallory') expect(r).toBe('wrong-signer');
        else {
          // The signature holds: what remains is exactly the payload checks, run on the same bytes.
          const direct = checkBytes(utf8(plaintext));
          expect(r).toEqual(
            typeof direct === 'string' ? direct : { ...direct, senderFingerprint: alice.contact.fingerprint },
          );
        }
      },
    ),
    { numRuns: 60 },
  );

  it('refuses as malformed a signature whose type is not one openpgp knows (found by the random seed)', async () => {
    // openpgp's verify threw a plain "Invalid enum value." for it, not a typed refusal (the
    // +400-day unit run of CI, 2026-12-05, seed 443581678). Byte 3 of the signature packet is its
    // type (RFC 9580 §5.2.3: a 2-byte header, the version, then the type).
    const [ops, literal, signature] = splitPackets(signedBy.alice1);
    for (const bad of [0x77, 0xee]) {
      const damaged = Uint8Array.from(signature!);
      damaged[3] = bad;
      const inner = new Uint8Array([...ops!, ...literal!, ...damaged]);
      expect(await outcome(openAsBob(await encryptPacketsToBob(inner)))).toBe('malformed');
    }
  });

  it('the raw-packet harness opens an undamaged signed stream (the control for the next property)', async () => {
    expect(await outcome(openAsBob(await encryptPacketsToBob(signedBy.alice1)))).toMatchObject({
      body: 'Room 4 is ready.',
    });
  });

  fuzz(
    'any packet stream inside a ciphertext Bob can decrypt is refused with a typed reason, or opens to a body Alice signed',
    fc.asyncProperty(
      // Thunks: the genuine packets exist only once beforeAll has run.
      fc.oneof(
        // packet level: genuine packets of Alice and Mallory, reordered, dropped, repeated, mixed
        fc.array(fc.nat(), { maxLength: 6 }).map((picks) => () => {
          const pool = packetPool();
          return new Uint8Array(picks.flatMap((i) => [...pool[i % pool.length]!]));
        }),
        // shaped like a signed message (one-pass signatures, literal data, signatures), parts from any source
        fc
          .tuple(fc.array(fc.nat(), { minLength: 1, maxLength: 2 }), fc.nat(), fc.array(fc.nat(), { maxLength: 2 }))
          .map(([ops, lit, sigs]) => () => {
            const pool = packetPool(); // per source: [one-pass signature, literal data, signature]
            const pick = (i: number, slot: number) => [...pool[(i % 3) * 3 + slot]!];
            return new Uint8Array([
              ...ops.flatMap((i) => pick(i, 0)),
              ...pick(lit, 1),
              ...sigs.flatMap((i) => pick(i, 2)),
            ]);
          }),
        // byte level: a genuine signed stream, damaged
        fc.array(mutationArb, { minLength: 1, maxLength: 3 }).map((ms) => () => mutate(signedBy.alice1, ms)),
        fc.uint8Array({ maxLength: 200 }).map((b) => () => b),
      ),
      async (inner) => {
        const r = await outcome(openAsBob(await encryptPacketsToBob(inner())));
        if (typeof r !== 'string') expect(['Room 4 is ready.', 'Room 5 is ready.']).toContain(r.body);
      },
    ),
    { numRuns: 150 },
  );
});
