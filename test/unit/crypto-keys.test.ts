import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as openpgp from 'openpgp';
import { describe, expect, it } from 'vitest';
import {
  generateIdentity,
  KeyRejectedError,
  loadIdentity,
  openSigncrypt,
  parseContactKey,
  signcrypt,
  type KeyRejectReason,
} from '../../main/crypto/index';
import { makeParty, stamp } from '../support/crypto-fixtures';

async function expectKeyReject(p: Promise<unknown>, reason: KeyRejectReason): Promise<void> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(KeyRejectedError);
  expect((err as KeyRejectedError).reason).toBe(reason);
}

const publicBinary = (k: openpgp.PrivateKey) => k.toPublic().write();

describe('generateIdentity', () => {
  it('makes a v4 EdDSA + ECDH key with user ID xmpp:<bare JID> and an upper-case v4 fingerprint', async () => {
    const g = await generateIdentity('Alice@Clinic.Test');
    expect(g.fingerprint).toMatch(/^[0-9A-F]{40}$/);
    expect(g.armoredSecretKey).toContain('-----BEGIN PGP PRIVATE KEY BLOCK-----');
    const key = await openpgp.readKey({ binaryKey: g.publicKeyBinary });
    expect(key.isPrivate()).toBe(false);
    expect(key.keyPacket.version).toBe(4);
    expect(key.getUserIDs()).toEqual(['xmpp:alice@clinic.test']);
    expect(key.getAlgorithmInfo()).toMatchObject({ algorithm: 'eddsaLegacy', curve: 'ed25519Legacy' });
    expect((await key.getEncryptionKey()).getAlgorithmInfo()).toMatchObject({
      algorithm: 'ecdh',
      curve: 'curve25519Legacy',
    });
    expect(key.getFingerprint().toUpperCase()).toBe(g.fingerprint);
  });

  it('stores the secret key unprotected (it lives inside the encrypted cache DB) and loads it back', async () => {
    const g = await generateIdentity('bob@clinic.test');
    const sk = await openpgp.readPrivateKey({ armoredKey: g.armoredSecretKey });
    expect(sk.isDecrypted()).toBe(true);
    const id = await loadIdentity(g.armoredSecretKey);
    expect(id.bareJid).toBe('bob@clinic.test');
    expect(id.fingerprint).toBe(g.fingerprint);
    expect(Buffer.from(id.publicKeyBinary).equals(Buffer.from(g.publicKeyBinary))).toBe(true);
  });

  it('loadIdentity refuses garbage and passphrase-protected keys', async () => {
    await expectKeyReject(loadIdentity('not a key'), 'malformed');
    const { privateKey } = await openpgp.generateKey({
      type: 'ecc',
      curve: 'curve25519Legacy',
      userIDs: [{ name: 'xmpp:bob@clinic.test' }],
      passphrase: 'pw-for-test',
      format: 'armored',
    });
    await expectKeyReject(loadIdentity(privateKey), 'locked');
  });
});

describe('parseContactKey', () => {
  it('accepts the announced key, whatever the fingerprint spelling', async () => {
    const g = await generateIdentity('carol@clinic.test');
    const spaced = g.fingerprint.toLowerCase().replace(/(.{4})/g, '$1 ');
    const ck = await parseContactKey('carol@clinic.test', g.publicKeyBinary, spaced);
    expect(ck.fingerprint).toBe(g.fingerprint);
    expect(ck.bareJid).toBe('carol@clinic.test');
  });

  it('rejects a key whose fingerprint is not the announced one', async () => {
    const [a, b] = await Promise.all([generateIdentity('carol@clinic.test'), generateIdentity('carol@clinic.test')]);
    await expectKeyReject(
      parseContactKey('carol@clinic.test', a.publicKeyBinary, b.fingerprint),
      'fingerprint-mismatch',
    );
  });

  it('rejects a key whose user ID is not exactly xmpp:<that JID>', async () => {
    const other = await generateIdentity('mallory@clinic.test');
    await expectKeyReject(
      parseContactKey('carol@clinic.test', other.publicKeyBinary, other.fingerprint),
      'bad-user-id',
    );
    for (const userID of [{ name: 'Carol', email: 'carol@clinic.test' }, { name: 'xmpp:carol@clinic.test.evil' }]) {
      const { privateKey } = await openpgp.generateKey({
        type: 'ecc',
        curve: 'curve25519Legacy',
        userIDs: [userID],
        format: 'object',
      });
      await expectKeyReject(
        parseContactKey('carol@clinic.test', publicBinary(privateKey), privateKey.getFingerprint()),
        'bad-user-id',
      );
    }
  });

  it('rejects expired and revoked keys', async () => {
    const past = new Date(Date.now() - 10 * 86_400_000);
    const { privateKey: expired } = await openpgp.generateKey({
      type: 'ecc',
      curve: 'curve25519Legacy',
      userIDs: [{ name: 'xmpp:carol@clinic.test' }],
      keyExpirationTime: 86_400,
      date: past,
      format: 'object',
    });
    await expectKeyReject(
      parseContactKey('carol@clinic.test', publicBinary(expired), expired.getFingerprint()),
      'expired',
    );
    const { privateKey } = await openpgp.generateKey({
      type: 'ecc',
      curve: 'curve25519Legacy',
      userIDs: [{ name: 'xmpp:carol@clinic.test' }],
      format: 'object',
    });
    const { publicKey: revoked } = await openpgp.revokeKey({ key: privateKey, format: 'binary' });
    await expectKeyReject(parseContactKey('carol@clinic.test', revoked, privateKey.getFingerprint()), 'revoked');
  });

  it('rejects RSA and v6 keys (only v4 ECC, which GnuPG 2.2 peers read)', async () => {
    const { privateKey: rsa } = await openpgp.generateKey({
      type: 'rsa',
      rsaBits: 2048,
      userIDs: [{ name: 'xmpp:carol@clinic.test' }],
      format: 'object',
    });
    await expectKeyReject(
      parseContactKey('carol@clinic.test', publicBinary(rsa), rsa.getFingerprint()),
      'unsupported-algorithm',
    );
    const { privateKey: v6 } = await openpgp.generateKey({
      type: 'curve25519',
      userIDs: [{ name: 'xmpp:carol@clinic.test' }],
      format: 'object',
      config: { v6Keys: true },
    });
    await expectKeyReject(
      parseContactKey('carol@clinic.test', publicBinary(v6), v6.getFingerprint()),
      'unsupported-algorithm',
    );
  }, 20_000);

  it('rejects garbage and secret keys published as public keys', async () => {
    await expectKeyReject(
      parseContactKey('carol@clinic.test', new Uint8Array([1, 2, 3]), 'AB'.repeat(20)),
      'malformed',
    );
    const { privateKey } = await openpgp.generateKey({
      type: 'ecc',
      curve: 'curve25519Legacy',
      userIDs: [{ name: 'xmpp:carol@clinic.test' }],
      format: 'object',
    });
    await expectKeyReject(
      parseContactKey('carol@clinic.test', privateKey.write(), privateKey.getFingerprint()),
      'malformed',
    );
  });
});

const hasGpg = spawnSync('gpg', ['--version']).status === 0;

describe.skipIf(!hasGpg)('GnuPG 2.2 interop (skipped when gpg is not installed)', () => {
  it('gpg reads our key (user ID, EdDSA/cv25519) and its sign+encrypt output opens here', async () => {
    const home = mkdtempSync(join(tmpdir(), 'ox-gnupg-'));
    const env = { ...process.env, GNUPGHOME: home, LC_ALL: 'C' };
    try {
      const alice = await makeParty('alice@clinic.test');
      const bob = await makeParty('bob@clinic.test');
      writeFileSync(join(home, 'alice.pub'), alice.identity.publicKeyBinary);
      writeFileSync(join(home, 'alice.sec'), alice.identity.armoredSecretKey, { mode: 0o600 });
      writeFileSync(join(home, 'bob.pub'), bob.identity.publicKeyBinary);
      execFileSync('gpg', ['--batch', '--quiet', '--import', join(home, 'alice.pub'), join(home, 'bob.pub')], {
        env,
        stdio: 'pipe',
      });
      const listing = execFileSync('gpg', ['--batch', '--with-colons', '--list-keys', alice.identity.fingerprint], {
        env,
      }).toString();
      const rows = listing.split('\n').map((l) => l.split(':'));
      const pub = rows.find((r) => r[0] === 'pub')!;
      expect(pub[3]).toBe('22'); // EdDSA
      expect(pub[16]).toBe('ed25519');
      expect(rows.find((r) => r[0] === 'fpr')![9]).toBe(alice.identity.fingerprint);
      // --with-colons escapes ':' in field values as \x3a.
      const uid = rows
        .find((r) => r[0] === 'uid')![9]!
        .replace(/\\x([0-9a-f]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
      expect(uid).toBe('xmpp:alice@clinic.test');
      const sub = rows.find((r) => r[0] === 'sub')!;
      expect(sub[3]).toBe('18'); // ECDH
      expect(sub[16]).toBe('cv25519');

      // A GnuPG-based OX client (e.g. Profanity) signing as Alice and encrypting to Bob:
      // zlib compression and GnuPG's packet choices must open cleanly here.
      execFileSync('gpg', ['--batch', '--quiet', '--import', join(home, 'alice.sec')], { env, stdio: 'pipe' });
      const now = new Date();
      const xml =
        `<signcrypt xmlns='urn:xmpp:openpgp:0'><to jid='bob@clinic.test'/><time stamp='${stamp(now)}'/>` +
        `<rpad>xyz</rpad><payload><body xmlns='jabber:client'>from gpg &amp; back</body></payload></signcrypt>`;
      const ct = execFileSync(
        'gpg',
        [
          '--batch',
          '--quiet',
          '--trust-model',
          'always',
          '-u',
          alice.identity.fingerprint,
          '-r',
          bob.identity.fingerprint,
          '--sign',
          '--encrypt',
        ],
        { env, input: xml },
      );
      const out = await openSigncrypt({
        identity: bob.identity,
        senderKey: alice.contact,
        base64: ct.toString('base64'),
        ourJid: 'bob@clinic.test',
        now,
      });
      expect(out.body).toBe('from gpg & back');

      // And the other way: GnuPG (as Bob) decrypts our signcrypt and reports Alice's good signature.
      writeFileSync(join(home, 'bob.sec'), bob.identity.armoredSecretKey, { mode: 0o600 });
      execFileSync('gpg', ['--batch', '--quiet', '--import', join(home, 'bob.sec')], { env, stdio: 'pipe' });
      const ours = await signcrypt({
        identity: alice.identity,
        recipients: [bob.contact],
        to: 'bob@clinic.test',
        body: 'to gpg',
        now,
      });
      const res = spawnSync('gpg', ['--batch', '--status-fd', '2', '--trust-model', 'always', '--decrypt'], {
        env,
        input: Buffer.from(ours, 'base64'),
      });
      expect(res.status).toBe(0);
      expect(res.stderr.toString()).toMatch(new RegExp(`VALIDSIG ${alice.identity.fingerprint}`));
      expect(res.stdout.toString()).toMatch(/^<signcrypt xmlns='urn:xmpp:openpgp:0'><to jid='bob@clinic.test'\/>/);
      expect(res.stdout.toString()).toContain(`<body xmlns='jabber:client'>to gpg</body>`);
    } finally {
      spawnSync('gpgconf', ['--kill', 'gpg-agent'], { env });
      rmSync(home, { recursive: true, force: true });
    }
  }, 30_000);
});
