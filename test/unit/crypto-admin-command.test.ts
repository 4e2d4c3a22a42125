/**
 * Signed admin commands (issue 15): every verdict of verifyAdminCommand and of the workstation's
 * acceptance check, with real OpenPGP keys. Time is a fixed date handed to openpgp and to the
 * checks, never the wall clock, so the file passes on any day (also under `faketime '+400d'`).
 */
import fc from 'fast-check';
import * as openpgp from 'openpgp';
import type { PrivateKey } from 'openpgp';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  adminCommandRejections,
  DEVICE_ID_RE,
  MAX_ADMIN_COMMAND_CHARS,
  newWipeCommand,
  signAdminCommand,
  verifyAdminCommand,
  type AdminCommand,
} from '../../main/crypto/admin-command';
import { checkAdminCommand } from '../../main/session/admin-command-check';
import { adminKey } from '../support/crypto-fixtures';
import { fuzz } from './fuzz-support';

const NOW = new Date('2026-06-01T12:00:00Z');
const DAY = 24 * 3600_000;
const MIN = 60_000;
const DEVICE = '0f8e2c1a-5b7d-4e3f-9a10-2b3c4d5e6f70';

let admin: PrivateKey;
let adminFpr: string;
let other: PrivateKey;
let command: AdminCommand;
let file: string;

/** Signs arbitrary bytes the way a hostile or buggy tool could, in the admin command file layout. */
async function signRaw(bytes: Uint8Array, key: PrivateKey, date = NOW, config?: openpgp.PartialConfig) {
  const message = await openpgp.createMessage({ binary: bytes, date });
  const signed = await openpgp.sign({
    message,
    signingKeys: key,
    date,
    format: 'armored',
    ...(config ? { config } : {}),
  });
  return `${key.toPublic().armor()}${signed}`;
}
const json = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));
const verify = (text: unknown, date = NOW, pinned = [adminFpr]) =>
  verifyAdminCommand(text, { pinnedFingerprints: pinned, date });

beforeAll(async () => {
  admin = await adminKey('Clinic IT admin');
  other = await adminKey('Someone else');
  adminFpr = admin.getFingerprint().toUpperCase();
  command = newWipeCommand({ account: 'Alice@Clinic.Test', device: DEVICE, now: NOW, validityMs: 7 * DAY });
  file = await signAdminCommand(command, admin, NOW);
}, 60_000);

describe('newWipeCommand', () => {
  it('lower-cases the account, sets a 128-bit nonce and the expiry', () => {
    expect(command).toMatchObject({ v: 1, type: 'wipe', account: 'alice@clinic.test', device: DEVICE });
    expect(command.nonce).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(Buffer.from(command.nonce, 'base64url')).toHaveLength(16);
    expect(command.issuedAt).toBe('2026-06-01T12:00:00Z');
    expect(command.expiresAt).toBe('2026-06-08T12:00:00Z');
    const again = newWipeCommand({ account: 'alice@clinic.test', device: null, now: NOW, validityMs: DAY });
    expect(again.nonce).not.toBe(command.nonce);
    expect(again.device).toBeNull();
  });
  it('refuses a full JID, a bad device id and a validity out of range', () => {
    const base = { device: null, now: NOW, validityMs: DAY };
    expect(() => newWipeCommand({ ...base, account: 'alice@clinic.test/laptop' })).toThrow(/bare JID/);
    expect(() => newWipeCommand({ ...base, account: 'alice' })).toThrow(/bare JID/);
    expect(() => newWipeCommand({ ...base, account: 'a@b', device: '../x' })).toThrow(RangeError);
    expect(() => newWipeCommand({ ...base, account: 'a@b', validityMs: 0 })).toThrow(/30 days/);
    expect(() => newWipeCommand({ ...base, account: 'a@b', validityMs: 31 * DAY })).toThrow(/30 days/);
  });
});

describe('the device id is the workstation profile id', () => {
  it('accepts what new-profile.ts makes, with the same pattern profiles.ts enforces', () => {
    // main/crypto does not import main/vault (admin/ uses main/crypto and stays out of the vault),
    // so the pattern is written twice: this fails when one copy changes without the other.
    expect(readFileSync('main/vault/profiles.ts', 'utf8')).toContain(`const PROFILE_ID = ${String(DEVICE_ID_RE)};`);
    expect(readFileSync('main/vault/new-profile.ts', 'utf8')).toContain('const id = randomUUID();');
    expect(DEVICE_ID_RE.test(randomUUID())).toBe(true);
  });
});

describe('verifyAdminCommand', () => {
  it('accepts a command signed by a pinned key and names the signer', async () => {
    const r = await verify(file);
    expect(r).toEqual({ ok: true, command, signer: adminFpr });
    // Pins are compared normalised (lower case, spaced groups as people paste them).
    const spaced = adminFpr.toLowerCase().replace(/(.{4})/g, '$1 ');
    expect((await verify(file, NOW, [spaced])).ok).toBe(true);
  });

  it('unpinned-signer: a valid signature by a key the policy does not pin', async () => {
    expect(await verify(file, NOW, [other.getFingerprint().toUpperCase()])).toEqual({
      ok: false,
      reason: 'unpinned-signer',
    });
    expect(await verify(file, NOW, [])).toEqual({ ok: false, reason: 'unpinned-signer' });
  });

  it('forged: signed by another key but carrying the pinned public key', async () => {
    const byOther = await signAdminCommand(command, other, NOW);
    const swapped = byOther.replace(/^[\s\S]*?-----END PGP PUBLIC KEY BLOCK-----/, admin.toPublic().armor().trim());
    expect(swapped).not.toBe(byOther);
    expect(await verify(swapped)).toEqual({ ok: false, reason: 'forged' });
  });

  it('forged: the signed JSON edited after signing', async () => {
    // One character of the nonce inside the literal packet, same length: still our schema.
    const { data } = await openpgp.unarmor(file.slice(file.indexOf('-----BEGIN PGP MESSAGE')));
    const bytes = Buffer.from(data as unknown as Uint8Array); // non-streamed input: bytes
    const at = bytes.indexOf(`"nonce":"${command.nonce}"`) + 9;
    expect(at).toBeGreaterThan(8);
    bytes[at] = bytes[at] === 0x41 ? 0x42 : 0x41;
    const edited = `${admin.toPublic().armor()}${openpgp.armor(openpgp.enums.armor.message, new Uint8Array(bytes))}`;
    expect(await verify(edited)).toEqual({ ok: false, reason: 'forged' });
  });

  it('forged: an unsigned message', async () => {
    const unsigned = (await openpgp.createMessage({ binary: json(command), date: NOW })).armor();
    expect(await verify(`${admin.toPublic().armor()}${unsigned}`)).toEqual({ ok: false, reason: 'forged' });
  });

  it('expired: at and after expiresAt; valid just before', async () => {
    const expires = new Date(command.expiresAt).getTime();
    expect((await verify(file, new Date(expires - 1000))).ok).toBe(true);
    expect(await verify(file, new Date(expires))).toEqual({ ok: false, reason: 'expired' });
    expect(await verify(file, new Date(expires + 400 * DAY))).toEqual({ ok: false, reason: 'expired' });
  });

  it('not-yet-valid: issued more than 5 minutes ahead of this clock; within the skew it passes', async () => {
    expect((await verify(file, new Date(NOW.getTime() - 4 * MIN))).ok).toBe(true);
    expect(await verify(file, new Date(NOW.getTime() - 6 * MIN))).toEqual({ ok: false, reason: 'not-yet-valid' });
    const later = newWipeCommand({
      account: 'a@b.c',
      device: null,
      now: new Date(NOW.getTime() + DAY),
      validityMs: DAY,
    });
    const signedLater = await signAdminCommand(later, admin, new Date(NOW.getTime() + DAY));
    expect(await verify(signedLater)).toEqual({ ok: false, reason: 'not-yet-valid' });
  });

  it('malformed: the JSON outside the schema, though validly signed by the pinned key', async () => {
    const cases: unknown[] = [
      { ...command, extra: 1 },
      { ...command, v: 2 },
      { ...command, type: 'format-disk' },
      { ...command, account: 'alice@clinic.test/desk' },
      { ...command, device: 'UPPER-CASE-ID' },
      { ...command, nonce: 'short' },
      { ...command, issuedAt: '2026-06-01 12:00' },
      { ...command, expiresAt: command.issuedAt },
      { ...command, expiresAt: '2026-08-01T12:00:00Z' }, // over 30 days
      [command],
      'wipe',
    ];
    for (const c of cases)
      expect(await verify(await signRaw(json(c), admin)), JSON.stringify(c)).toMatchObject({
        reason: 'malformed',
      });
    expect(await verify(await signRaw(new Uint8Array([0xff, 0xfe, 0x7b]), admin))).toMatchObject({
      reason: 'malformed',
    });
  });

  it('malformed: not an admin command file, before openpgp parses anything large', async () => {
    const pub = admin.toPublic().armor();
    const msg = file.slice(file.indexOf('-----BEGIN PGP MESSAGE'));
    // What GnuPG writes by default: the signed message inside a compressed packet (RFC 4880
    // §5.6, algorithm 2 = ZLIB), built by hand: openpgp only hands its compressed output out as a stream.
    const signed = await openpgp.sign({
      message: await openpgp.createMessage({ binary: json(command), date: NOW }),
      signingKeys: admin,
      date: NOW,
      format: 'binary',
    });
    const body = Buffer.concat([Buffer.from([2]), deflateSync(signed)]);
    expect(body.length).toBeLessThan(8384);
    const len = body.length < 192 ? [body.length] : [((body.length - 192) >> 8) + 192, (body.length - 192) & 0xff];
    const packet = new Uint8Array(Buffer.concat([Buffer.from([0xc8, ...len]), body]));
    const compressed = `${pub}${openpgp.armor(openpgp.enums.armor.message, packet)}`;
    const cases: unknown[] = [
      undefined,
      42,
      '',
      'wipe alice@clinic.test',
      msg, // the key block missing
      pub, // the message missing
      `${msg}${pub}`, // wrong order
      `note: ${file}`, // text outside the blocks
      `${file}${msg}`, // a third block
      `${admin.armor()}${msg}`, // a PRIVATE key block
      file.replace(/\n[A-Za-z0-9+/]{20}/, '\n!!!!!!!!!!!!!!!!!!!!'), // armor that does not decode
      file + ' '.repeat(MAX_ADMIN_COMMAND_CHARS), // over the size limit
      compressed, // compression: refused, no decompression bomb
    ];
    for (const c of cases) expect(await verify(c), String(c).slice(0, 40)).toEqual({ ok: false, reason: 'malformed' });
  });
});

describe('checkAdminCommand (this workstation)', () => {
  const here = { account: 'alice@clinic.test', deviceId: DEVICE, seen: () => false };
  it('accepts a command for this account and device, or for all devices', () => {
    expect(checkAdminCommand(command, here)).toEqual({ accept: true });
    expect(checkAdminCommand({ ...command, device: null }, { ...here, deviceId: 'another-device-id' })).toEqual({
      accept: true,
    });
    expect(checkAdminCommand(command, { ...here, account: 'ALICE@clinic.TEST' })).toEqual({ accept: true });
  });
  it('wrong-account and wrong-device, without consulting the nonce store', () => {
    const seen = () => {
      throw new Error('the nonce store must not be read for a command addressed elsewhere');
    };
    expect(checkAdminCommand(command, { ...here, account: 'bob@clinic.test', seen })).toEqual({
      accept: false,
      reason: 'wrong-account',
    });
    expect(checkAdminCommand(command, { ...here, deviceId: 'another-device-id', seen })).toEqual({
      accept: false,
      reason: 'wrong-device',
    });
  });
  it('replayed: a nonce already seen', () => {
    const nonces = new Set([command.nonce]);
    expect(checkAdminCommand(command, { ...here, seen: (n) => nonces.has(n) })).toEqual({
      accept: false,
      reason: 'replayed',
    });
  });
});

describe('fuzz: verifyAdminCommand never throws and never accepts an altered command', () => {
  const reasons = new Set<string>(adminCommandRejections);
  const outcomeOk = (r: Awaited<ReturnType<typeof verify>>): void => {
    if (r.ok) expect(r.command).toEqual(command);
    else expect(reasons.has(r.reason)).toBe(true);
  };
  fuzz(
    'arbitrary text',
    fc.asyncProperty(fc.string({ maxLength: 4000 }), async (s) => outcomeOk(await verify(s))),
    { numRuns: 200 },
  );
  fuzz(
    'the real file with characters replaced, inserted or removed',
    fc.asyncProperty(
      fc.array(
        fc.tuple(fc.nat(), fc.constantFrom('replace', 'insert', 'delete'), fc.string({ minLength: 1, maxLength: 1 })),
        {
          minLength: 1,
          maxLength: 4,
        },
      ),
      async (edits) => {
        let s = file;
        for (const [at, op, ch] of edits) {
          const i = at % s.length;
          s = s.slice(0, i) + (op === 'delete' ? '' : ch) + s.slice(op === 'insert' ? i : i + 1);
        }
        outcomeOk(await verify(s));
      },
    ),
    { numRuns: 150 },
  );
});
