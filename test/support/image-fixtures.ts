/**
 * Image files for attachment tests (issue 16): real PNGs and JPEGs made with sharp, with metadata
 * (a PNG text chunk, a photo's EXIF) that neither a sent file nor a preview may carry on, and
 * hostile ones built chunk by chunk.
 */
import { randomBytes } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export const SVG_WITH_SCRIPT = Buffer.from(
  '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script><rect width="10" height="10"/></svg>',
);

function crc32(b: Buffer): number {
  let c = ~0;
  for (const byte of b) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

/** A PNG chunk: length, type, data, CRC-32. */
export function pngChunk(type: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/**
 * A damaged PNG: well-formed chunks (so it is sent as it is: nothing to strip, nothing broken in its
 * structure) around `size` random bytes of image data that no decoder can inflate.
 */
export function garbledPng(size: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(16, 0);
  ihdr.writeUInt32BE(16, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // truecolour
  return Buffer.concat([
    PNG_SIGNATURE,
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', randomBytes(size)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A decompression bomb: a few KB of PNG whose header says `side` × `side` pixels of zeros. */
export function bombPng(side = 100_000): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(side, 0);
  ihdr.writeUInt32BE(side, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // greyscale
  const rows = deflateSync(Buffer.alloc(4 * 1024 * 1024), { level: 9 });
  return Buffer.concat([
    PNG_SIGNATURE,
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', rows),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A real PNG of noise (it does not compress: about width × height × 3 bytes), without metadata. */
export async function noisePng(width: number, height: number): Promise<Buffer> {
  const pixels = Buffer.alloc(width * height * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 2654435761) >>> 24;
  return sharp(pixels, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

/**
 * noisePng with `text` in a chunk before IEND: a tEXt comment (metadata: stripped when sent,
 * main/attachments/strip-metadata.ts), or a private ancillary chunk ('caMk'), which travels as it is
 * and so stands for known plaintext inside the file (a preview's re-encoding drops it either way).
 */
export async function noisePngWithText(
  width: number,
  height: number,
  text: Buffer,
  chunk: 'tEXt' | 'caMk' = 'tEXt',
): Promise<Buffer> {
  const png = await noisePng(width, height);
  const iend = png.length - 12;
  const data = chunk === 'tEXt' ? Buffer.concat([Buffer.from('Comment\0', 'latin1'), text]) : text;
  return Buffer.concat([png.subarray(0, iend), pngChunk(chunk, data), png.subarray(iend)]);
}

/**
 * A phone photo: a JPEG with EXIF naming a person (Artist, ImageDescription) and the phone (Make),
 * a comment segment, `orientation`, and data appended after the image (as MPF secondary images are).
 */
export async function exifPhoto(orientation: number, name: string): Promise<Buffer> {
  const base = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#c86432' } })
    .composite([{ input: Buffer.from([0, 0, 0]), raw: { width: 1, height: 1, channels: 3 }, left: 5, top: 7 }])
    .jpeg({ quality: 90 })
    .withExif({ IFD0: { Artist: name, ImageDescription: name, Make: 'PhoneCo' } })
    .withMetadata({ orientation })
    .toBuffer();
  const comment = Buffer.concat([Buffer.from([0xff, 0xfe, 0, name.length + 2]), Buffer.from(name, 'latin1')]);
  return Buffer.concat([base.subarray(0, 2), comment, base.subarray(2), Buffer.from(`trailer ${name}`, 'latin1')]);
}

/** The decoded pixels of an image, to compare two encodings of the same picture. */
export const pixelsOf = async (img: Buffer | Uint8Array): Promise<Buffer> => sharp(img).raw().toBuffer();
