/**
 * Attachments in the signed payload (main/crypto/file-sharing.ts, issue 16): XEP-0447 stateless
 * file sharing with the XEP-0448 <encrypted/> source inside <signcrypt><payload>. Round trip
 * through real OpenPGP; strict, hostile-input-safe reading (fuzzed).
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AES_256_GCM_CIPHER,
  fileSharingLimits,
  fileSharingXml,
  safeDisplayName,
  type FileRefusal,
  type SharedFile,
} from '../../main/crypto/file-sharing';
import { openSigncrypt, signcrypt } from '../../main/crypto/signcrypt';
import { bodyXml, makeParty, openPayload, type Party } from '../support/crypto-fixtures';

const now = new Date('2026-11-28T10:00:00Z');

function sampleFile(over: Partial<SharedFile> = {}): SharedFile {
  return {
    mediaType: 'image/jpeg',
    name: 'wound-left-knee.jpg',
    size: 3_032_449,
    sha256: new Uint8Array(randomBytes(32)),
    key: new Uint8Array(randomBytes(32)),
    iv: new Uint8Array(randomBytes(12)),
    cipherSha256: new Uint8Array(randomBytes(32)),
    url: 'https://upload.clinic.test:5281/file_share/0f8a/5e1c.bin',
    thumbnail: { mediaType: 'image/png', width: 128, height: 96, data: new Uint8Array(randomBytes(300)) },
    ...over,
  };
}

const attachmentOf = (payload: string) => openPayload(bodyXml('') + payload, now).attachment;
const refusalOf = (payload: string): FileRefusal | 'ok' | null => {
  const a = attachmentOf(payload);
  return a === null ? null : a.ok ? 'ok' : a.reason;
};

/** Names a file system or a screen reader could be fooled by. */
function isSafeName(n: string): boolean {
  // eslint-disable-next-line no-control-regex
  const hiding = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/;
  return (
    n.length > 0 &&
    [...n].length <= fileSharingLimits.maxNameChars &&
    !/[/\\<>:"|?*]/.test(n) &&
    !hiding.test(n) &&
    !n.startsWith('.') &&
    !/[.\s]$/.test(n) &&
    !/^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i.test(n)
  );
}

describe('attachments in the signed payload', () => {
  let alice: Party, bob: Party;
  beforeAll(async () => {
    [alice, bob] = await Promise.all([makeParty('alice@clinic.test'), makeParty('bob@clinic.test')]);
  });

  it('round-trips the file, its key, IV, hashes, address and thumbnail through signcrypt', async () => {
    const file = sampleFile();
    const base64 = await signcrypt({
      identity: alice.identity,
      recipients: [bob.contact],
      to: 'bob@clinic.test',
      body: 'left knee, day 3',
      now,
      attachment: file,
    });
    const opened = await openSigncrypt({
      identity: bob.identity,
      senderKey: alice.contact,
      base64,
      ourJid: 'bob@clinic.test',
      now,
    });
    expect(opened.body).toBe('left knee, day 3');
    expect(opened.attachment).toEqual({ ok: true, file });
  });

  it('writes the exact XEP-0447/0448 elements', () => {
    const xml = fileSharingXml(sampleFile({ thumbnail: null }));
    expect(xml).toMatch(
      /^<file-sharing xmlns='urn:xmpp:sfs:0' disposition='attachment'><file xmlns='urn:xmpp:file:metadata:0'>/,
    );
    expect(xml).toContain('<media-type>image/jpeg</media-type><name>wound-left-knee.jpg</name><size>3032449</size>');
    expect(xml).toMatch(/<hash xmlns='urn:xmpp:hashes:2' algo='sha-256'>[A-Za-z0-9+/]{43}=<\/hash><\/file>/);
    expect(xml).toContain(`<sources><encrypted xmlns='urn:xmpp:esfs:0' cipher='${AES_256_GCM_CIPHER}'><key>`);
    expect(xml).toMatch(/<iv>[A-Za-z0-9+/]{16}<\/iv>/);
    expect(xml).toContain(
      "<sources xmlns='urn:xmpp:sfs:0'><url-data xmlns='http://jabber.org/protocol/url-data' target='https://upload.clinic.test:5281/file_share/0f8a/5e1c.bin'/></sources></encrypted></sources></file-sharing>",
    );
    expect(() => fileSharingXml(sampleFile({ url: 'http://upload.clinic.test/x' }))).toThrow(RangeError);
    expect(() => fileSharingXml(sampleFile({ key: new Uint8Array(16) }))).toThrow(RangeError);
  });

  it('a message without an attachment has none', () => {
    expect(attachmentOf('')).toBeNull();
  });

  it('neutralises names with path separators, control and bidi characters, and device names', () => {
    expect(safeDisplayName('../../etc/passwd')).toBe('passwd');
    expect(safeDisplayName('C:\\Users\\amy\\Desktop\\scan.pdf')).toBe('scan.pdf');
    expect(safeDisplayName('invoice\u202Efdp.exe')).toBe('invoicefdp.exe');
    expect(safeDisplayName('a\u0000b\u0007c\r\n.txt')).toBe('abc.txt');
    expect(safeDisplayName('..')).toBe('file');
    expect(safeDisplayName('.bashrc')).toBe('bashrc');
    expect(safeDisplayName('report.pdf. . ')).toBe('report.pdf');
    expect(safeDisplayName('CON.txt')).toBe('_CON.txt');
    expect(safeDisplayName('what?<is>"this"|*.png')).toBe('what__is__this___.png');
    expect(isSafeName(safeDisplayName(`${'x'.repeat(119)}. and more`))).toBe(true);
    const long = safeDisplayName(`${'x'.repeat(500)}.pdf`);
    expect([...long]).toHaveLength(fileSharingLimits.maxNameChars);
    expect(long.endsWith('.pdf')).toBe(true);
    const xml = fileSharingXml(sampleFile({ name: '../secret/\u0001referral.pdf' }));
    const read = attachmentOf(xml);
    expect(read?.ok && read.file.name).toBe('referral.pdf');
  });

  it('refuses what is not exactly an encrypted file we can fetch, keeping the text', () => {
    const good = fileSharingXml(sampleFile());
    expect(refusalOf(good)).toBe('ok');
    expect(refusalOf(good.replace(AES_256_GCM_CIPHER, 'urn:xmpp:ciphers:aes-256-cbc-pkcs7:0'))).toBe('unknown-cipher');
    const plainSource =
      "<file-sharing xmlns='urn:xmpp:sfs:0'><file xmlns='urn:xmpp:file:metadata:0'><size>5</size>" +
      `<hash xmlns='urn:xmpp:hashes:2' algo='sha-256'>${Buffer.alloc(32).toString('base64')}</hash></file>` +
      "<sources><url-data xmlns='http://jabber.org/protocol/url-data' target='https://upload.clinic.test/a'/></sources></file-sharing>";
    expect(refusalOf(plainSource)).toBe('unencrypted');
    expect(refusalOf(good.replace(/<key>[^<]*<\/key>/, `<key>${Buffer.alloc(16).toString('base64')}</key>`))).toBe(
      'malformed',
    );
    expect(refusalOf(good.replace(/<iv>[^<]*<\/iv>/, '<iv>!!!!</iv>'))).toBe('malformed');
    expect(refusalOf(good.replace("algo='sha-256'", "algo='sha3-256'"))).toBe('malformed');
    expect(refusalOf(good.replace('<size>3032449</size>', `<size>${fileSharingLimits.maxSize + 1}</size>`))).toBe(
      'too-large',
    );
    expect(refusalOf(good.replace('<size>3032449</size>', '<size>-1</size>'))).toBe('malformed');
    expect(refusalOf(good.replace("target='https:", "target='http:"))).toBe('not-https');
    expect(refusalOf(good.replace("target='https://", "target='https://user:pw@"))).toBe('not-https');
    expect(refusalOf(good + good)).toBe('several');
    expect(openPayload(bodyXml('still here') + good.replace(AES_256_GCM_CIPHER, 'x'), now).body).toBe('still here');
  });

  it('an unknown media type becomes octet-stream and a bad thumbnail is dropped, not the file', () => {
    const xml = fileSharingXml(sampleFile())
      .replace('<media-type>image/jpeg</media-type>', '<media-type>text/html; charset=x"</media-type>')
      .replace("media-type='image/png'", "media-type='image/svg+xml'");
    const read = attachmentOf(xml);
    expect(read?.ok).toBe(true);
    if (!read?.ok) return;
    expect(read.file.mediaType).toBe('application/octet-stream');
    expect(read.file.thumbnail).toBeNull();
    const huge = fileSharingXml(
      sampleFile({ thumbnail: { mediaType: 'image/png', width: 4000, height: 10, data: new Uint8Array(10) } }),
    );
    const r2 = attachmentOf(huge);
    expect(r2?.ok && r2.file.thumbnail).toBeNull();
  });

  it('fuzz: any name is reduced to a safe display name', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (raw) => {
        expect(isSafeName(safeDisplayName(raw))).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('fuzz: hostile values in every field never throw, and what is accepted is within bounds', () => {
    const field = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 80 }),
      fc.constantFrom('', '-1', '1e9', '99999999999999999999', '0', 'AAAA', '../../x', 'http://a/b', 'javascript:x'),
    );
    const xmlSafe = (s: string) =>
      s
        // eslint-disable-next-line no-control-regex
        .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff\ud800-\udfff]/g, '')
        .replace(/&/g, '&amp;')
        .replace(/</g, '&lt;')
        .replace(/'/g, '&apos;');
    fc.assert(
      fc.property(
        fc.record({ name: field, size: field, type: field, key: field, iv: field, url: field, cipher: field }),
        fc.boolean(),
        (v, keepGood) => {
          // Replaced by functions: a value such as "$'" must stay literal, not be a replacement pattern.
          let xml = fileSharingXml(sampleFile());
          xml = xml.replace(/<name>[^<]*<\/name>/, () => `<name>${xmlSafe(v.name)}</name>`);
          xml = xml.replace(/<media-type>[^<]*<\/media-type>/, () => `<media-type>${xmlSafe(v.type)}</media-type>`);
          if (!keepGood) {
            xml = xml.replace(/<size>[^<]*<\/size>/, () => `<size>${xmlSafe(v.size)}</size>`);
            xml = xml.replace(/<key>[^<]*<\/key>/, () => `<key>${xmlSafe(v.key)}</key>`);
            xml = xml.replace(/<iv>[^<]*<\/iv>/, () => `<iv>${xmlSafe(v.iv)}</iv>`);
            xml = xml.replace(/target='[^']*'/, () => `target='${xmlSafe(v.url)}'`);
            xml = xml.replace(`cipher='${AES_256_GCM_CIPHER}'`, () => `cipher='${xmlSafe(v.cipher)}'`);
          }
          const read = attachmentOf(xml);
          expect(read).not.toBeNull();
          if (keepGood) expect(read?.ok).toBe(true);
          if (!read?.ok) return;
          const f = read.file;
          expect(isSafeName(f.name)).toBe(true);
          expect(f.mediaType).toMatch(/^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/);
          expect(Number.isSafeInteger(f.size) && f.size >= 0 && f.size <= fileSharingLimits.maxSize).toBe(true);
          expect(f.key).toHaveLength(32);
          expect(f.iv).toHaveLength(12);
          expect(new URL(f.url).protocol).toBe('https:');
        },
      ),
      { numRuns: 1500 },
    );
  });
});
