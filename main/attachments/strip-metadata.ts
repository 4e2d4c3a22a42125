/**
 * Sent photos lose their metadata, losslessly (issue 16: "sent originals keep their EXIF"). A
 * phone photo of a wound carries where it was taken (GPS), when, the phone's make and serial, and
 * sometimes a caption or a person's name (XMP, IPTC, comments): none of that is the clinic's
 * business to send. The image data itself is not touched — no re-encoding, the file stays the
 * original pixels — only the metadata segments are left out while the file streams into the
 * profile's store on its way out (attachment-transfers.ts storeOutgoing).
 *
 * The format is found from the content (its signature), not from the name or declared type:
 *   - JPEG: APP1 (Exif, XMP), APP3–APP13 (IPTC/Photoshop among them), APP15 and comments are
 *     dropped; APP0 (JFIF), APP2 ICC profiles and APP14 (Adobe colour transform) are kept, as is
 *     everything from the frame and tables on. The EXIF orientation, when not upright, is kept in a
 *     minimal Exif segment of its own, so the photo is not shown sideways. Anything after the end
 *     of the image (MPF secondary images, appended data) is dropped, and with it the MPF index.
 *   - PNG: tEXt, zTXt, iTXt, eXIf and tIME chunks are dropped; anything after IEND too.
 *   - WebP: the RIFF size comes first and the EXIF and XMP chunks last, so to stream without
 *     rewriting the header their chunks keep their place and size but not their content: EXIF
 *     becomes a minimal TIFF holding only the orientation (upright when it had none), XMP an empty
 *     packet, both padded (zeros, spaces). ICC and the image chunks are kept; anything after the
 *     RIFF's end is dropped.
 *   - HEIF (HEIC, AVIF): the EXIF and XMP items are rewritten in place (strip-heif.ts).
 *   - Anything else (PDF, documents) passes unchanged.
 * A JPEG, PNG, WebP or HEIF whose structure breaks before its image data is refused with a clear
 * error (MetadataError) rather than sent with its metadata.
 *
 * It streams: memory is one segment header at most (an Exif segment, ≤ 64 KiB), whatever the size.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { isJpeg, isPng, isWebp, JPEG_SOI, PNG_SIGNATURE } from './signatures';
import { couldBeHeif, heifParser, isHeif } from './strip-heif';
import { orientationTiff } from './tiff';

const FORMAT_NAMES = { jpeg: 'JPEG', png: 'PNG', webp: 'WebP', heif: 'HEIF' } as const;

export class MetadataError extends Error {
  override name = 'MetadataError';
  constructor(readonly format: keyof typeof FORMAT_NAMES) {
    super(`this ${FORMAT_NAMES[format]} image is damaged: its metadata could not be removed`);
  }
}

const PNG_DROPPED = new Set(['tEXt', 'zTXt', 'iTXt', 'eXIf', 'tIME']);

/** A format's parser: consumes bytes, pushes what is kept; throws MetadataError on a broken structure. */
export interface MetadataParser {
  write(chunk: Buffer, push: (b: Buffer) => void): void;
  end(): void;
}

/** EXIF orientation (tag 0x0112 in IFD0) of an APP1 Exif payload; 1 (upright) when absent or unreadable. */
export function exifOrientation(payload: Buffer): number {
  if (payload.length < 14 || payload.toString('latin1', 0, 6) !== 'Exif\0\0') return 1;
  const tiff = payload.subarray(6);
  const order = tiff.toString('latin1', 0, 2);
  if (order !== 'II' && order !== 'MM') return 1;
  const le = order === 'II';
  const u16 = (at: number) => (le ? tiff.readUInt16LE(at) : tiff.readUInt16BE(at));
  const u32 = (at: number) => (le ? tiff.readUInt32LE(at) : tiff.readUInt32BE(at));
  if (u16(2) !== 42) return 1;
  const ifd = u32(4);
  if (ifd + 2 > tiff.length) return 1;
  const count = u16(ifd);
  for (let i = 0; i < count; i++) {
    const entry = ifd + 2 + i * 12;
    if (entry + 12 > tiff.length) return 1;
    if (u16(entry) === 0x0112 && u16(entry + 2) === 3) {
      const v = u16(entry + 8);
      return v >= 1 && v <= 8 ? v : 1;
    }
  }
  return 1;
}

/** A complete APP1 segment holding only the orientation (big-endian TIFF, one IFD0 entry). */
export function orientationSegment(orientation: number): Buffer {
  const payload = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), orientationTiff(orientation)]);
  const head = Buffer.from([0xff, 0xe1, 0, 0]);
  head.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([head, payload]);
}

/** Which JPEG segments (by marker and the start of their payload) go out. */
function keepJpegSegment(marker: number, start: Buffer): boolean {
  if (marker === 0xfe) return false; // COM
  if (marker < 0xe0 || marker > 0xef) return true; // tables, frame, restart interval…
  if (marker === 0xe0 || marker === 0xee) return true; // JFIF/JFXX, Adobe
  if (marker === 0xe2) return start.toString('latin1', 0, 12) === 'ICC_PROFILE\0'; // not MPF, not FlashPix
  return false; // APP1 Exif/XMP, APP3–13 (IPTC…), APP15
}

/** Up to the first scan: segment by segment; from the scan on, bytes pass until the end of the image. */
function jpegParser(): MetadataParser {
  type State =
    | { at: 'marker'; head: Buffer }
    | { at: 'payload'; marker: number; left: number; keep: boolean | null; seen: Buffer; length: number }
    | { at: 'scan'; lastFF: boolean }
    | { at: 'done' };
  let state: State = { at: 'marker', head: Buffer.alloc(0) };
  let started = false;
  let orientationWritten = false;
  const fail = (): never => {
    throw new MetadataError('jpeg');
  };

  function segmentStart(push: (b: Buffer) => void, marker: number, length: number, start: Buffer): boolean {
    const keep = keepJpegSegment(marker, start);
    if (!keep && marker === 0xe1 && !orientationWritten) {
      const o = exifOrientation(start);
      if (o !== 1) {
        push(orientationSegment(o));
        orientationWritten = true;
      }
    }
    if (keep) {
      const head = Buffer.from([0xff, marker, 0, 0]);
      head.writeUInt16BE(length, 2);
      push(head);
      push(start);
    }
    return keep;
  }

  return {
    write(chunk, push) {
      let buf = chunk;
      while (buf.length > 0) {
        if (state.at === 'done') return; // after EOI: dropped
        if (state.at === 'scan') {
          // Entropy-coded data: 0xFF is followed by 0x00 (stuffing), RSTn, or a marker; EOI ends it.
          // The search for 0xD9 is native (Buffer.indexOf); only its hits are checked in JS.
          let end = state.lastFF && buf[0] === 0xd9 ? 1 : -1;
          for (let i = buf.indexOf(0xd9, 1); end < 0 && i >= 0; i = buf.indexOf(0xd9, i + 1)) {
            if (buf[i - 1] === 0xff) end = i + 1;
          }
          if (end < 0) {
            push(buf);
            state = { at: 'scan', lastFF: buf[buf.length - 1] === 0xff };
            return;
          }
          push(buf.subarray(0, end));
          state = { at: 'done' };
          return;
        }
        if (state.at === 'marker') {
          const head: Buffer = Buffer.concat([state.head, buf]);
          if (!started) {
            if (head.length < 2) return void (state = { at: 'marker', head });
            if (head[0] !== 0xff || head[1] !== 0xd8) fail();
            push(head.subarray(0, 2));
            started = true;
            buf = head.subarray(2);
            state = { at: 'marker', head: Buffer.alloc(0) };
            continue;
          }
          // Fill bytes (0xFF repeated) may precede a marker.
          let i = 0;
          while (i + 1 < head.length && head[i] === 0xff && head[i + 1] === 0xff) i++;
          if (head.length - i < 4) return void (state = { at: 'marker', head: head.subarray(i) });
          if (head[i] !== 0xff) fail();
          const marker = head[i + 1]!;
          if (
            marker === 0x00 ||
            marker === 0xd8 ||
            marker === 0xd9 ||
            marker === 0x01 ||
            (marker >= 0xd0 && marker <= 0xd7)
          )
            fail();
          const length = head.readUInt16BE(i + 2);
          if (length < 2) fail();
          if (marker === 0xda) {
            // Start of scan: kept whole, and from here the image data passes through.
            push(head.subarray(i, i + 4));
            state = { at: 'payload', marker, left: length - 2, keep: true, seen: Buffer.alloc(0), length };
            buf = head.subarray(i + 4);
            continue;
          }
          state = { at: 'payload', marker, left: length - 2, keep: null, seen: Buffer.alloc(0), length };
          buf = head.subarray(i + 4);
          continue;
        }
        // state.at === 'payload'
        const s = state;
        if (s.keep === null) {
          // Decide on the whole payload for APP segments (≤ 64 KiB), on nothing for the others.
          const want = s.marker >= 0xe0 && s.marker <= 0xef ? s.left : 0;
          const seen = Buffer.concat([s.seen, buf.subarray(0, want - s.seen.length)]);
          buf = buf.subarray(Math.max(0, want - s.seen.length));
          if (seen.length < want) return void (state = { ...s, seen });
          const keep = segmentStart(push, s.marker, s.length, seen);
          state = { ...s, keep, left: s.left - seen.length, seen: Buffer.alloc(0) };
          continue;
        }
        const take = Math.min(s.left, buf.length);
        if (s.keep) push(buf.subarray(0, take));
        buf = buf.subarray(take);
        const left = s.left - take;
        if (left > 0) return void (state = { ...s, left });
        state = s.marker === 0xda ? { at: 'scan', lastFF: false } : { at: 'marker', head: Buffer.alloc(0) };
      }
    },
    end() {
      // A file cut off inside its image data is sent as it is (the receiver's preview says so); one
      // cut off before it has no image to send.
      if (state.at !== 'scan' && state.at !== 'done') fail();
    },
  };
}

function pngParser(): MetadataParser {
  type State =
    | { at: 'signature'; head: Buffer }
    | { at: 'chunk'; head: Buffer }
    | { at: 'body'; left: number; keep: boolean; last: boolean }
    | { at: 'done' };
  let state: State = { at: 'signature', head: Buffer.alloc(0) };
  const fail = (): never => {
    throw new MetadataError('png');
  };
  return {
    write(chunk, push) {
      let buf = chunk;
      while (buf.length > 0) {
        if (state.at === 'done') return;
        if (state.at === 'signature') {
          const head: Buffer = Buffer.concat([state.head, buf]);
          if (head.length < 8) return void (state = { at: 'signature', head });
          if (!isPng(head)) fail();
          push(head.subarray(0, 8));
          buf = head.subarray(8);
          state = { at: 'chunk', head: Buffer.alloc(0) };
          continue;
        }
        if (state.at === 'chunk') {
          const head: Buffer = Buffer.concat([state.head, buf]);
          if (head.length < 8) return void (state = { at: 'chunk', head });
          const length = head.readUInt32BE(0);
          const type = head.toString('latin1', 4, 8);
          if (length > 0x7fffffff || !/^[A-Za-z]{4}$/.test(type)) fail();
          const keep = !PNG_DROPPED.has(type);
          if (keep) push(head.subarray(0, 8));
          buf = head.subarray(8);
          state = { at: 'body', left: length + 4, keep, last: type === 'IEND' }; // data + CRC
          continue;
        }
        const s = state;
        const take = Math.min(s.left, buf.length);
        if (s.keep) push(buf.subarray(0, take));
        buf = buf.subarray(take);
        if (s.left - take > 0) return void (state = { ...s, left: s.left - take });
        state = s.last ? { at: 'done' } : { at: 'chunk', head: Buffer.alloc(0) };
      }
    },
    end() {
      if (state.at === 'signature') fail();
    },
  };
}

const RIFF = Buffer.from('RIFF', 'latin1');
const WEBP = Buffer.from('WEBP', 'latin1');

/** An XMP packet that says nothing, for a WebP's XMP chunk (its size is kept: spaces follow). */
const EMPTY_XMP = Buffer.from(
  '<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"/>',
  'latin1',
);
const XMP_END = Buffer.from('<?xpacket end="w"?>', 'latin1');
/** How much of a WebP EXIF chunk is read for its orientation (IFD0 is at its start). */
const WEBP_EXIF_READ = 64 * 1024;

/**
 * A WebP EXIF or XMP payload of the same size that says nothing but the orientation: EXIF a
 * minimal TIFF then zeros, XMP an empty packet, spaces and its end mark (too small for that: all
 * zeros / spaces). `at(from, to)` gives its bytes in that range, the RIFF pad byte included, so a
 * huge chunk never needs a buffer of its size.
 */
function neutralWebpMeta(kind: 'EXIF' | 'XMP ', size: number, start: Buffer): (from: number, to: number) => Buffer {
  let prefix: Buffer = Buffer.alloc(0);
  let suffix: Buffer = Buffer.alloc(0);
  if (kind === 'EXIF') {
    // libwebp writes the TIFF bare; some writers put JPEG's "Exif\0\0" in front.
    const bare = start.toString('latin1', 0, 6) !== 'Exif\0\0';
    const tiff = orientationTiff(exifOrientation(bare ? Buffer.concat([Buffer.from('Exif\0\0'), start]) : start));
    if (size >= tiff.length) prefix = tiff;
  } else if (size >= EMPTY_XMP.length + XMP_END.length) {
    prefix = EMPTY_XMP;
    suffix = XMP_END;
  }
  const fill = kind === 'EXIF' ? 0 : 0x20;
  return (from, to) => {
    const out = Buffer.alloc(to - from, fill);
    if (from < prefix.length) prefix.copy(out, 0, from, Math.min(prefix.length, to));
    const sStart = size - suffix.length;
    if (suffix.length > 0 && to > sStart && from < size)
      suffix.copy(out, Math.max(0, sStart - from), Math.max(0, from - sStart), Math.min(suffix.length, to - sStart));
    if (to > size) out.fill(0, Math.max(0, size - from)); // the RIFF pad byte
    return out;
  };
}

/** RIFF chunk by chunk: EXIF and XMP are rewritten in place (same size), the rest passes. */
function webpParser(): MetadataParser {
  type State =
    | { at: 'header'; head: Buffer }
    | { at: 'chunk'; head: Buffer }
    | { at: 'body'; left: number }
    | {
        at: 'meta';
        kind: 'EXIF' | 'XMP ';
        size: number;
        padded: number;
        done: number;
        seen: Buffer;
        neutral: ((from: number, to: number) => Buffer) | null;
      }
    | { at: 'done' };
  let state: State = { at: 'header', head: Buffer.alloc(0) };
  /** Where the RIFF ends (8 + its declared size), and how far the chunks read so far reach. */
  let riffEnd = 0;
  let pos = 0;
  const fail = (): never => {
    throw new MetadataError('webp');
  };
  return {
    write(chunk, push) {
      let buf = chunk;
      while (buf.length > 0) {
        if (state.at === 'done') return; // after the RIFF: dropped
        if (state.at === 'header' || state.at === 'chunk') {
          const head: Buffer = Buffer.concat([state.head, buf]);
          const need = state.at === 'header' ? 12 : 8;
          if (head.length < need) return void (state = { at: state.at, head });
          buf = head.subarray(need);
          if (state.at === 'header') {
            if (!isWebp(head)) fail();
            riffEnd = 8 + head.readUInt32LE(4);
            if (riffEnd < 20) fail(); // not even one chunk header
            pos = 12;
            push(head.subarray(0, 12));
          } else {
            const type = head.toString('latin1', 0, 4);
            const size = head.readUInt32LE(4);
            const padded = size + (size & 1);
            if (!/^[\x20-\x7e]{4}$/.test(type) || pos + 8 + padded > riffEnd) fail();
            pos += 8 + padded;
            push(head.subarray(0, 8));
            if (type === 'EXIF' || type === 'XMP ') {
              state = { at: 'meta', kind: type, size, padded, done: 0, seen: Buffer.alloc(0), neutral: null };
              if (padded > 0) continue;
            }
            state = { at: 'body', left: padded };
            if (padded > 0) continue;
          }
          state = pos >= riffEnd ? { at: 'done' } : { at: 'chunk', head: Buffer.alloc(0) };
          continue;
        }
        if (state.at === 'meta') {
          const s = state;
          const take = Math.min(s.padded - s.done, buf.length);
          let { seen, neutral } = s;
          if (neutral) push(neutral(s.done, s.done + take));
          else {
            // The EXIF orientation is in IFD0, at the start: decided on the first bytes, then the
            // neutral payload goes out as the original's bytes go by. XMP is not read at all.
            const want = s.kind === 'EXIF' ? Math.min(s.size, WEBP_EXIF_READ) : 0;
            seen = Buffer.concat([seen, buf.subarray(0, Math.max(0, want - seen.length))]);
            if (seen.length >= want) {
              neutral = neutralWebpMeta(s.kind, s.size, seen);
              push(neutral(0, s.done + take));
            }
          }
          buf = buf.subarray(take);
          const done = s.done + take;
          if (done < s.padded) return void (state = { ...s, done, seen, neutral });
          state = pos >= riffEnd ? { at: 'done' } : { at: 'chunk', head: Buffer.alloc(0) };
          continue;
        }
        const s = state;
        const take = Math.min(s.left, buf.length);
        push(buf.subarray(0, take));
        buf = buf.subarray(take);
        if (s.left - take > 0) return void (state = { left: s.left - take, at: 'body' });
        state = pos >= riffEnd ? { at: 'done' } : { at: 'chunk', head: Buffer.alloc(0) };
      }
    },
    end() {
      if (state.at === 'header') fail();
    },
  };
}

/**
 * The stream a file to send goes through: JPEG, PNG and WebP lose their metadata, anything else passes
 * unchanged. The format is decided on the first bytes.
 */
export function stripMetadata(): Transform {
  let parser: MetadataParser | 'pass' | null = null;
  let pending = Buffer.alloc(0);
  const choose = (head: Buffer): MetadataParser | 'pass' | null => {
    if (isJpeg(head)) return jpegParser();
    if (isPng(head)) return pngParser();
    if (isWebp(head)) return webpParser();
    if (isHeif(head))
      return heifParser(() => {
        throw new MetadataError('heif');
      });
    const couldBe = (sig: Buffer) => head.length < sig.length && sig.subarray(0, head.length).equals(head);
    // RIFF, 4 bytes of size, WEBP.
    const couldBeWebp =
      head.length < 12 &&
      RIFF.subarray(0, Math.min(4, head.length)).equals(head.subarray(0, 4)) &&
      (head.length <= 8 || WEBP.subarray(0, head.length - 8).equals(head.subarray(8)));
    return couldBe(JPEG_SOI) || couldBe(PNG_SIGNATURE) || couldBeWebp || couldBeHeif(head) ? null : 'pass';
  };
  return new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
      try {
        if (parser === null) {
          pending = Buffer.concat([pending, chunk]);
          parser = choose(pending);
          if (parser === null) return cb();
          chunk = pending;
          pending = Buffer.alloc(0);
        }
        if (parser === 'pass') return cb(null, chunk);
        parser.write(chunk, (b) => this.push(b));
        cb();
      } catch (err) {
        cb(err as Error);
      }
    },
    flush(cb: TransformCallback) {
      try {
        if (parser === null) {
          // Shorter than any signature: not an image, sent as it is.
          if (pending.length > 0) this.push(pending);
        } else if (parser !== 'pass') parser.end();
        cb();
      } catch (err) {
        cb(err as Error);
      }
    },
  });
}
