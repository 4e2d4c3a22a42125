/**
 * An attachment inside the signed OX payload (issue 16): XEP-0447 stateless file sharing with
 * XEP-0448's <encrypted/> source, so the key, IV, size, SHA-256, type and name are signed and
 * end-to-end encrypted, and the server only ever holds ciphertext under a random name.
 *
 *   <file-sharing xmlns='urn:xmpp:sfs:0' disposition='attachment'>
 *     <file xmlns='urn:xmpp:file:metadata:0'>
 *       <media-type/> <name/> <size/> <hash xmlns='urn:xmpp:hashes:2' algo='sha-256'/>
 *       [<thumbnail xmlns='urn:xmpp:thumbs:1' uri='data:image/…;base64,…' media-type width height/>]
 *     </file>
 *     <sources>
 *       <encrypted xmlns='urn:xmpp:esfs:0' cipher='urn:xmpp:ciphers:aes-256-gcm-nopadding:0'>
 *         <key/> <iv/> <hash xmlns='urn:xmpp:hashes:2' algo='sha-256'/> (of the ciphertext)
 *         <sources xmlns='urn:xmpp:sfs:0'><url-data xmlns='http://jabber.org/protocol/url-data' target='https://…'/></sources>
 *       </encrypted>
 *     </sources>
 *   </file-sharing>
 *
 * Reading is strict and hostile-input safe: an attachment that is not exactly this (unknown
 * cipher, wrong key or IV length, no SHA-256, a size out of bounds, no https source) is refused
 * with a reason while the message's text stays good; a name is reduced to a safe display name
 * (no path, no control or bidi characters, no reserved device name); a bad media type becomes
 * application/octet-stream; a bad thumbnail is dropped. Pure: no I/O.
 */
import { childElements, escapeAttr, escapeText, textOf, type XmlElement } from './xml';

export const SFS_NS = 'urn:xmpp:sfs:0';
export const FILE_METADATA_NS = 'urn:xmpp:file:metadata:0';
export const ESFS_NS = 'urn:xmpp:esfs:0';
export const HASHES_NS = 'urn:xmpp:hashes:2';
export const URL_DATA_NS = 'http://jabber.org/protocol/url-data';
export const THUMBS_NS = 'urn:xmpp:thumbs:1';
/** The one cipher we send and accept (XEP-0448 §4): AES-256-GCM, 12-byte IV, tag appended. */
export const AES_256_GCM_CIPHER = 'urn:xmpp:ciphers:aes-256-gcm-nopadding:0';

export const fileSharingLimits = {
  /** Above every size the server or policy allows today; a bigger declaration is hostile. */
  maxSize: 4 * 1024 ** 3,
  maxNameChars: 120,
  maxUrlChars: 2048,
  maxThumbnailBytes: 12 * 1024,
  maxThumbnailSide: 512,
} as const;

export type ThumbnailType = 'image/png' | 'image/jpeg' | 'image/webp';
const THUMB_TYPES: readonly string[] = ['image/png', 'image/jpeg', 'image/webp'];

export interface Thumbnail {
  mediaType: ThumbnailType;
  width: number;
  height: number;
  data: Uint8Array;
}

export interface SharedFile {
  mediaType: string;
  name: string;
  size: number;
  /** SHA-256 of the plaintext. */
  sha256: Uint8Array;
  key: Uint8Array;
  iv: Uint8Array;
  /** SHA-256 of the uploaded ciphertext (XEP-0448's inner <hash/>). */
  cipherSha256: Uint8Array;
  url: string;
  thumbnail: Thumbnail | null;
}

export const fileRefusals = [
  'malformed', // missing or unreadable metadata, key, IV or hash
  'unknown-cipher', // only an <encrypted/> source with a cipher we do not speak
  'unencrypted', // no encrypted source at all: we never fetch a file the server could read
  'too-large', // a declared size over fileSharingLimits.maxSize
  'not-https', // the encrypted source has no https address
  'several', // more than one <file-sharing/> in one message
] as const;
export type FileRefusal = (typeof fileRefusals)[number];

export type ReadFileSharing = { ok: true; file: SharedFile } | { ok: false; reason: FileRefusal };

const b64 = (u: Uint8Array) => Buffer.from(u).toString('base64');

function thumbnailXml(t: Thumbnail): string {
  const uri = `data:${t.mediaType};base64,${b64(t.data)}`;
  return `<thumbnail xmlns='${THUMBS_NS}' uri='${escapeAttr(uri)}' media-type='${t.mediaType}' width='${t.width}' height='${t.height}'/>`;
}

/** The <file-sharing/> element for the payload; throws on what a reader would refuse. */
export function fileSharingXml(f: SharedFile): string {
  if (f.key.length !== 32 || f.iv.length !== 12) throw new RangeError('attachment key / IV of the wrong length');
  if (f.sha256.length !== 32 || f.cipherSha256.length !== 32) throw new RangeError('a SHA-256 is 32 bytes');
  if (!Number.isSafeInteger(f.size) || f.size < 0 || f.size > fileSharingLimits.maxSize)
    throw new RangeError('attachment size out of range');
  if (!/^https:\/\//.test(f.url) || f.url.length > fileSharingLimits.maxUrlChars)
    throw new RangeError('attachment address must be https');
  const hash = (h: Uint8Array) => `<hash xmlns='${HASHES_NS}' algo='sha-256'>${b64(h)}</hash>`;
  return (
    `<file-sharing xmlns='${SFS_NS}' disposition='attachment'><file xmlns='${FILE_METADATA_NS}'>` +
    `<media-type>${escapeText(safeMediaType(f.mediaType))}</media-type><name>${escapeText(safeDisplayName(f.name))}</name>` +
    `<size>${f.size}</size>${hash(f.sha256)}${f.thumbnail ? thumbnailXml(f.thumbnail) : ''}</file>` +
    `<sources><encrypted xmlns='${ESFS_NS}' cipher='${AES_256_GCM_CIPHER}'><key>${b64(f.key)}</key><iv>${b64(f.iv)}</iv>` +
    `${hash(f.cipherSha256)}<sources xmlns='${SFS_NS}'><url-data xmlns='${URL_DATA_NS}' target='${escapeAttr(f.url)}'/></sources>` +
    `</encrypted></sources></file-sharing>`
  );
}

/** Strict base64 of exactly `bytes` bytes, else null. */
function exactBase64(text: string, bytes: number): Uint8Array | null {
  const s = text.trim();
  if (s.length !== Math.ceil(bytes / 3) * 4 || !/^[A-Za-z0-9+/]+={0,2}$/.test(s)) return null;
  const out = Buffer.from(s, 'base64');
  return out.length === bytes && out.toString('base64') === s ? new Uint8Array(out) : null;
}

/** The one sha-256 <hash/> child of `el` (other algorithms are ignored), else null. */
function sha256Of(el: XmlElement): Uint8Array | null {
  const hs = childElements(el, 'hash', HASHES_NS).filter((h) => h.attrs.algo === 'sha-256');
  return hs.length === 1 ? exactBase64(textOf(hs[0]!), 32) : null;
}

const one = (el: XmlElement, name: string, ns: string): XmlElement | null => {
  const found = childElements(el, name, ns);
  return found.length === 1 ? found[0]! : null;
};

// Control characters, bidi overrides / isolates and zero-width marks: they hide or reorder what a name shows.
// eslint-disable-next-line no-control-regex
const HIDING = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;

/**
 * A name that is safe to show and to save under: the last path segment only, no control or
 * bidi characters, none of <>:"/\|?*, no leading dots (no hidden file, no "..") and no
 * trailing dots or spaces, not a Windows device name, at most maxNameChars code points (the
 * extension kept). Nothing usable left: "file".
 */
export function safeDisplayName(raw: string): string {
  const lastSegment = raw.split(/[/\\]/).pop() ?? '';
  let name = lastSegment
    .replace(HIDING, '')
    .replace(/[<>:"|?*]/g, '_')
    .replace(/\s+/g, ' ')
    .replace(/^[.\s]+/, '')
    .replace(/[.\s]+$/, '');
  if (WINDOWS_RESERVED.test(name)) name = `_${name}`;
  const cps = [...name];
  if (cps.length > fileSharingLimits.maxNameChars) {
    const dot = name.lastIndexOf('.');
    const ext = dot > 0 ? [...name.slice(dot)] : [];
    const keep = ext.length > 0 && ext.length <= 16 ? ext : [];
    const stem = cps
      .slice(0, fileSharingLimits.maxNameChars - keep.length)
      .join('')
      .replace(/[.\s]+$/, '');
    name = stem + keep.join('');
  }
  return name.length > 0 ? name : 'file';
}

/** RFC 6838 type/subtype, lower case, no parameters; anything else is application/octet-stream. */
export function safeMediaType(raw: string): string {
  const t = raw.trim().toLowerCase();
  return /^[a-z0-9][a-z0-9!#$&^_.+-]{0,62}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,62}$/.test(t) ? t : 'application/octet-stream';
}

function readThumbnail(file: XmlElement): Thumbnail | null {
  const t = one(file, 'thumbnail', THUMBS_NS);
  if (!t) return null;
  const mediaType = t.attrs['media-type'] ?? '';
  const width = Number(t.attrs.width);
  const height = Number(t.attrs.height);
  const side = (n: number) => Number.isInteger(n) && n > 0 && n <= fileSharingLimits.maxThumbnailSide;
  if (!THUMB_TYPES.includes(mediaType) || !side(width) || !side(height)) return null;
  const prefix = `data:${mediaType};base64,`;
  const uri = t.attrs.uri ?? '';
  if (!uri.startsWith(prefix) || uri.length > prefix.length + (fileSharingLimits.maxThumbnailBytes / 3) * 4 + 4)
    return null;
  const body = uri.slice(prefix.length);
  if (body.length === 0 || body.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(body)) return null;
  return { mediaType: mediaType as ThumbnailType, width, height, data: new Uint8Array(Buffer.from(body, 'base64')) };
}

function readEncrypted(
  sources: XmlElement,
): ReadFileSharing | Omit<SharedFile, 'mediaType' | 'name' | 'size' | 'sha256' | 'thumbnail'> {
  const encs = childElements(sources, 'encrypted', ESFS_NS);
  if (encs.length === 0) return { ok: false, reason: 'unencrypted' };
  const enc = encs.find((e) => e.attrs.cipher === AES_256_GCM_CIPHER);
  if (!enc) return { ok: false, reason: 'unknown-cipher' };
  const keyEl = one(enc, 'key', ESFS_NS);
  const ivEl = one(enc, 'iv', ESFS_NS);
  const key = keyEl ? exactBase64(textOf(keyEl), 32) : null;
  const iv = ivEl ? exactBase64(textOf(ivEl), 12) : null;
  const cipherSha256 = sha256Of(enc);
  if (!key || !iv || !cipherSha256) return { ok: false, reason: 'malformed' };
  const inner = one(enc, 'sources', SFS_NS);
  const urls = inner ? childElements(inner, 'url-data', URL_DATA_NS).map((u) => u.attrs.target ?? '') : [];
  const url = urls.find((u) => isHttpsUrl(u));
  if (!url) return { ok: false, reason: urls.length ? 'not-https' : 'malformed' };
  return { key, iv, cipherSha256, url };
}

function isHttpsUrl(u: string): boolean {
  if (u.length > fileSharingLimits.maxUrlChars) return false;
  try {
    const url = new URL(u);
    return url.protocol === 'https:' && !url.username && !url.password && url.hostname.length > 0;
  } catch {
    return false;
  }
}

/** The payload's attachment: null when it has none, else the file or why it was refused. */
export function readFileSharing(payload: XmlElement): ReadFileSharing | null {
  const all = childElements(payload, 'file-sharing', SFS_NS);
  if (all.length === 0) return null;
  if (all.length > 1) return { ok: false, reason: 'several' };
  const fs = all[0]!;
  const file = one(fs, 'file', FILE_METADATA_NS);
  const sources = one(fs, 'sources', SFS_NS);
  if (!file || !sources) return { ok: false, reason: 'malformed' };
  const sizeEl = one(file, 'size', FILE_METADATA_NS);
  const sizeText = sizeEl ? textOf(sizeEl).trim() : '';
  if (!/^\d{1,16}$/.test(sizeText)) return { ok: false, reason: 'malformed' };
  const size = Number(sizeText);
  if (size > fileSharingLimits.maxSize) return { ok: false, reason: 'too-large' };
  const sha256 = sha256Of(file);
  if (!sha256) return { ok: false, reason: 'malformed' };
  const enc = readEncrypted(sources);
  if ('ok' in enc) return enc;
  const nameEl = one(file, 'name', FILE_METADATA_NS);
  const typeEl = one(file, 'media-type', FILE_METADATA_NS);
  return {
    ok: true,
    file: {
      mediaType: safeMediaType(typeEl ? textOf(typeEl) : ''),
      name: safeDisplayName(nameEl ? textOf(nameEl) : ''),
      size,
      sha256,
      ...enc,
      thumbnail: readThumbnail(file),
    },
  };
}
