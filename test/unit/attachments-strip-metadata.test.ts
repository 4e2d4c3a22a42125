// Sent photos lose their metadata, losslessly (main/attachments/strip-metadata.ts): real JPEG and
// PNG files made by sharp (libvips) with EXIF, XMP and text, streamed through in chunks of every size.
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import fc from 'fast-check';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { exifOrientation, MetadataError, stripMetadata } from '../../main/attachments/strip-metadata';
import { exifPhoto, noisePng, pngChunk } from '../support/image-fixtures';

const NAME = 'Jane Roe, DOB 1950-02-03';

/** Streams `input` through the stripper in chunks of `size` bytes. */
async function strip(input: Buffer, size = 64 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for (let i = 0; i < input.length; i += size) chunks.push(input.subarray(i, i + size));
  return buffer(Readable.from(chunks).pipe(stripMetadata()));
}

const pixels = (img: Buffer) => sharp(img).raw().toBuffer();

const photo = (orientation: number) => exifPhoto(orientation, NAME);

/** noisePng(20, 10) with a text and a time chunk after IHDR, a private chunk, and data after IEND. */
async function pngWithText(): Promise<Buffer> {
  const base = await noisePng(20, 10);
  const ihdrEnd = 8 + 8 + 13 + 4; // signature + IHDR
  return Buffer.concat([
    base.subarray(0, ihdrEnd),
    pngChunk('tEXt', Buffer.from(`Author\0${NAME}`, 'latin1')),
    pngChunk('tIME', Buffer.from([7, 234, 11, 30, 12, 0, 0])),
    pngChunk('caMk', Buffer.from('kept')),
    base.subarray(ihdrEnd),
    Buffer.from(`after IEND ${NAME}`, 'latin1'),
  ]);
}

/** A WebP with EXIF (the name, a make, an orientation) and XMP naming the person, as sharp writes it. */
async function webpWithMetadata(orientation: number): Promise<Buffer> {
  const xmp =
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">' +
    `<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>${NAME}</dc:creator>` +
    '</rdf:Description></rdf:RDF></x:xmpmeta>';
  return sharp({ create: { width: 64, height: 48, channels: 3, background: '#c86432' } })
    .composite([{ input: Buffer.from([0, 0, 0]), raw: { width: 1, height: 1, channels: 3 }, left: 5, top: 7 }])
    .webp({ quality: 80 })
    .withExif({ IFD0: { Artist: NAME, Make: 'PhoneCo' } })
    .withXmp(xmp)
    .withMetadata({ orientation })
    .toBuffer();
}

/** A RIFF file's chunks as `type:size`. */
function riffChunks(b: Buffer): string[] {
  const out: string[] = [];
  for (let p = 12; p + 8 <= b.length;) {
    const n = b.readUInt32LE(p + 4);
    out.push(`${b.toString('latin1', p, p + 4)}:${n}`);
    p += 8 + n + (n & 1);
  }
  return out;
}

describe('metadata stripped from photos on send', () => {
  it('a JPEG keeps its pixels and its orientation, and loses EXIF, comments and what follows the image', async () => {
    const input = await photo(6);
    expect(input.includes(NAME, 0, 'latin1')).toBe(true);
    const out = await strip(input);
    expect(out.includes(NAME, 0, 'latin1')).toBe(false);
    expect(out.includes('PhoneCo', 0, 'latin1')).toBe(false);
    expect(out.subarray(-2)).toEqual(Buffer.from([0xff, 0xd9]));
    const meta = await sharp(out).metadata();
    expect(meta.orientation).toBe(6);
    expect(meta.exif && exifOrientation(meta.exif)).toBe(6);
    expect(meta.exif!.length).toBeLessThan(40);
    expect(meta.xmp).toBeUndefined();
    expect(meta.comments ?? []).toEqual([]);
    // The same compressed image: decoded, every pixel is equal.
    expect((await pixels(out)).equals(await pixels(input))).toBe(true);
  });

  it('finds the end of a JPEG also when its two bytes arrive in different chunks', async () => {
    const input = await photo(3);
    const eoi = input.lastIndexOf(Buffer.from([0xff, 0xd9]));
    const whole = await strip(input, input.length);
    expect(whole.subarray(-2)).toEqual(Buffer.from([0xff, 0xd9]));
    const split = await buffer(
      Readable.from([input.subarray(0, eoi + 1), input.subarray(eoi + 1)]).pipe(stripMetadata()),
    );
    expect(split.equals(whole)).toBe(true);
    expect(split.includes('trailer', 0, 'latin1')).toBe(false);
  });

  it('an upright JPEG gets no Exif segment at all', async () => {
    const out = await strip(await photo(1));
    const meta = await sharp(out).metadata();
    expect(meta.exif).toBeUndefined();
    expect(meta.orientation).toBeUndefined();
  });

  it('a PNG loses its text and time chunks and what follows IEND, and keeps its pixels', async () => {
    const input = await pngWithText();
    const out = await strip(input, 7);
    expect(out.includes(NAME, 0, 'latin1')).toBe(false);
    expect(out.includes('tIME', 0, 'latin1')).toBe(false);
    // Exactly the picture's own chunks and the private one, in their order.
    const base = await noisePng(20, 10);
    const ihdrEnd = 8 + 8 + 13 + 4;
    expect(
      out.equals(
        Buffer.concat([base.subarray(0, ihdrEnd), pngChunk('caMk', Buffer.from('kept')), base.subarray(ihdrEnd)]),
      ),
    ).toBe(true);
    expect((await pixels(out)).equals(await pixels(input))).toBe(true);
  });

  it('a WebP keeps its pixels, its chunks and its orientation, and loses what its EXIF and XMP said', async () => {
    const input = await webpWithMetadata(6);
    expect(input.includes(NAME, 0, 'latin1')).toBe(true);
    const withTrailer = Buffer.concat([input, Buffer.from(`after the RIFF ${NAME}`, 'latin1')]);
    const out = await strip(withTrailer, 100);
    // Streamed without rewriting the RIFF header: the same chunks at the same sizes, the trailer gone.
    expect(out.length).toBe(input.length);
    expect(riffChunks(out)).toEqual(riffChunks(input));
    expect(riffChunks(out)).toContain(
      'EXIF:' +
        riffChunks(input)
          .find((c) => c.startsWith('EXIF'))!
          .slice(5),
    );
    expect(out.includes(NAME, 0, 'latin1')).toBe(false);
    expect(out.includes('PhoneCo', 0, 'latin1')).toBe(false);
    const meta = await sharp(out).metadata();
    expect(meta.orientation).toBe(6);
    expect(meta.xmp?.toString('latin1')).toMatch(
      /^<\?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"\?><x:xmpmeta xmlns:x="adobe:ns:meta\/"\/> +<\?xpacket end="w"\?>$/,
    );
    expect((await pixels(out)).equals(await pixels(input))).toBe(true);
    // Upright: the EXIF says so and nothing else.
    const upright = await strip(await webpWithMetadata(1));
    expect((await sharp(upright).metadata()).orientation ?? 1).toBe(1);
    expect(upright.includes(NAME, 0, 'latin1')).toBe(false);
  });

  it('a WebP whose chunks run past its RIFF is refused, not sent with its metadata', async () => {
    const input = await webpWithMetadata(1);
    const bad = Buffer.from(input);
    bad.writeUInt32LE(input.length, 16); // the first chunk (VP8X, at 12) claims the whole file
    const err = await strip(bad).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MetadataError);
    expect((err as MetadataError).message).toBe('this WebP image is damaged: its metadata could not be removed');
  });

  it('anything else passes byte for byte, however short', async () => {
    for (const input of [
      Buffer.from('%PDF-1.7\n% a referral letter\n'),
      Buffer.from([0xff]),
      Buffer.from([0x89, 0x50]),
      Buffer.alloc(0),
      Buffer.from('RIFF\0\0\0\0WAVEfmt '), // RIFF, not WebP
      Buffer.from('RIFF\0\0\0\0WEB'),
    ])
      expect((await strip(input, 1)).equals(input)).toBe(true);
  });

  it('a JPEG broken before its image data is refused, not sent with its metadata', async () => {
    const good = await photo(3);
    const cut = good.subarray(0, 40); // inside the Exif segment
    await expect(strip(cut)).rejects.toBeInstanceOf(MetadataError);
    const bad = Buffer.concat([good.subarray(0, 3), Buffer.from([0x00, 0x11, 0x22, 0x33])]);
    await expect(strip(bad)).rejects.toThrow(/JPEG image is damaged/);
  });

  it('gives the same bytes whatever the chunk sizes (fuzzed), and fails only with MetadataError', async () => {
    const jpeg = await photo(8);
    const png = await pngWithText();
    const webp = await webpWithMetadata(3);
    const whole = new Map([
      [jpeg, await strip(jpeg, jpeg.length)],
      [png, await strip(png, png.length)],
      [webp, await strip(webp, webp.length)],
    ]);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(jpeg, png, webp), fc.integer({ min: 1, max: 5000 }), async (input, size) => {
        expect((await strip(input, size)).equals(whole.get(input)!)).toBe(true);
      }),
      { numRuns: 60 },
    );
    // Random damage anywhere: either a clean result or MetadataError, never a hang or another error.
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(jpeg, png, webp),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1, max: 300 }),
        async (input, flips, size) => {
          const damaged = Buffer.from(input);
          for (const [at, v] of flips) damaged[at % damaged.length] = v;
          const got = await strip(damaged, size).then(
            () => null,
            (e: unknown) => e,
          );
          if (got !== null) expect(got).toBeInstanceOf(MetadataError);
        },
      ),
      { numRuns: 300 },
    );
  });
});
