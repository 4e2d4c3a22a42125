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
 *   - Anything else (PDF, WebP, HEIC, documents) passes unchanged.
 * A JPEG or PNG whose structure breaks before its image data is refused with a clear error
 * (MetadataError) rather than sent with its metadata.
 *
 * It streams: memory is one segment header at most (an Exif segment, ≤ 64 KiB), whatever the size.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { isJpeg, isPng, JPEG_SOI, PNG_SIGNATURE } from './signatures';

export class MetadataError extends Error {
  override name = 'MetadataError';
  constructor(readonly format: 'jpeg' | 'png') {
    super(`this ${format === 'jpeg' ? 'JPEG' : 'PNG'} image is damaged: its metadata could not be removed`);
  }
}

const PNG_DROPPED = new Set(['tEXt', 'zTXt', 'iTXt', 'eXIf', 'tIME']);

/** A format's parser: consumes bytes, pushes what is kept; throws MetadataError on a broken structure. */
interface Parser {
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
  const tiff = Buffer.alloc(26);
  tiff.write('MM', 0, 'latin1');
  tiff.writeUInt16BE(42, 2);
  tiff.writeUInt32BE(8, 4); // IFD0 right after the header
  tiff.writeUInt16BE(1, 8); // one entry
  tiff.writeUInt16BE(0x0112, 10); // Orientation
  tiff.writeUInt16BE(3, 12); // SHORT
  tiff.writeUInt32BE(1, 14); // count
  tiff.writeUInt16BE(orientation, 18); // value, left-justified in the 4-byte field
  // 20..21 padding, 22..25 next IFD offset 0
  const payload = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
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
function jpegParser(): Parser {
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

function pngParser(): Parser {
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

/**
 * The stream a file to send goes through: JPEG and PNG lose their metadata, anything else passes
 * unchanged. The format is decided on the first bytes.
 */
export function stripMetadata(): Transform {
  let parser: Parser | 'pass' | null = null;
  let pending = Buffer.alloc(0);
  const choose = (head: Buffer): Parser | 'pass' | null => {
    if (isJpeg(head)) return jpegParser();
    if (isPng(head)) return pngParser();
    const couldBe = (sig: Buffer) => head.length < sig.length && sig.subarray(0, head.length).equals(head);
    return couldBe(JPEG_SOI) || couldBe(PNG_SIGNATURE) ? null : 'pass';
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
