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

  it('anything else passes byte for byte, however short', async () => {
    for (const input of [
      Buffer.from('%PDF-1.7\n% a referral letter\n'),
      Buffer.from([0xff]),
      Buffer.from([0x89, 0x50]),
      Buffer.alloc(0),
      Buffer.from('RIFF\0\0\0\0WEBPVP8 '),
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
    const whole = new Map([
      [jpeg, await strip(jpeg, jpeg.length)],
      [png, await strip(png, png.length)],
    ]);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(jpeg, png), fc.integer({ min: 1, max: 5000 }), async (input, size) => {
        expect((await strip(input, size)).equals(whole.get(input)!)).toBe(true);
      }),
      { numRuns: 40 },
    );
    // Random damage anywhere: either a clean result or MetadataError, never a hang or another error.
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(jpeg, png),
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
      { numRuns: 200 },
    );
  });
});
