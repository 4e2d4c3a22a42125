/**
 * A sent HEIF photo (HEIC from a phone, AVIF) leaves without its EXIF and XMP (strip-heif.ts):
 * the items' bytes are rewritten in place, every other byte and offset stays. Handmade HEICs
 * (no HEVC encoder is bundled) for the layouts, and a real AVIF from sharp/libheif for a file
 * that a decoder still reads, pixel for pixel.
 */
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import fc from 'fast-check';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { MetadataError, stripMetadata } from '../../main/attachments/strip-metadata';
import { EXIF, GPS, heic, IMAGE, XMP } from '../support/heif-fixtures';

async function strip(file: Buffer, chunk = 64 * 1024): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let i = 0; i < file.length; i += chunk) parts.push(file.subarray(i, i + chunk));
  return buffer(Readable.from(parts).pipe(stripMetadata()));
}

async function refusal(file: Buffer): Promise<unknown> {
  return strip(file).then(
    () => null,
    (e: unknown) => e,
  );
}

describe('HEIF metadata', () => {
  it('a phone HEIC: EXIF and XMP rewritten in place, every other byte kept', async () => {
    const file = heic();
    expect(file.includes(GPS, 0, 'latin1')).toBe(true);
    const out = await strip(file);
    expect(out.length).toBe(file.length);
    expect(out.includes(GPS, 0, 'latin1')).toBe(false);
    expect(out.includes('Jane Roe', 0, 'latin1')).toBe(false);
    expect(out.includes('iPhone', 0, 'latin1')).toBe(false);
    // Only the two items' bytes differ; the image data and every box header are where they were.
    const exifAt = file.indexOf(EXIF);
    const xmpAt = file.indexOf(XMP);
    const changed = [...file.keys()].filter((i) => file[i] !== out[i]);
    expect(
      changed.every((i) => (i >= exifAt && i < exifAt + EXIF.length) || (i >= xmpAt && i < xmpAt + XMP.length)),
    ).toBe(true);
    expect(out.indexOf(IMAGE)).toBe(file.indexOf(IMAGE));
    // EXIF: a TIFF right after the 4-byte offset, holding only an upright orientation.
    expect(out.readUInt32BE(exifAt)).toBe(0);
    expect(out.toString('latin1', exifAt + 4, exifAt + 6)).toBe('MM');
    expect(out.readUInt16BE(exifAt + 4 + 18)).toBe(1);
    expect(out.subarray(xmpAt, xmpAt + XMP.length).equals(Buffer.alloc(XMP.length, 0x20))).toBe(true);
  });

  it('the same output whatever the chunk sizes', async () => {
    const file = heic();
    const whole = await strip(file, file.length);
    for (const size of [1, 7, 13, 4096])
      expect((await strip(file, size)).equals(whole), `chunks of ${size}`).toBe(true);
  });

  it("EXIF inside meta's idat is rewritten there", async () => {
    const file = heic({ exifIn: 'idat' });
    const out = await strip(file, 5);
    expect(out.length).toBe(file.length);
    expect(out.includes(GPS, 0, 'latin1')).toBe(false);
    expect(out.indexOf(IMAGE)).toBe(file.indexOf(IMAGE));
  });

  it('metadata that would go out before meta is read is refused, not sent', async () => {
    const err = await refusal(heic({ mdatFirst: true }));
    expect(err).toBeInstanceOf(MetadataError);
    expect((err as Error).message).toBe('this HEIF image is damaged: its metadata could not be removed');
  });

  it('a real AVIF (sharp/libheif) loses its EXIF and decodes to the same pixels', async () => {
    const png = await sharp({ create: { width: 48, height: 32, channels: 3, background: { r: 200, g: 40, b: 90 } } })
      .png()
      .toBuffer();
    const avif = await sharp(png)
      .withExif({ IFD0: { Copyright: GPS, Make: 'PhoneCo', Model: 'iPhone 15' } })
      .avif({ lossless: true })
      .toBuffer();
    expect(avif.includes(GPS, 0, 'latin1')).toBe(true);
    const out = await strip(avif, 333);
    expect(out.length).toBe(avif.length);
    expect(out.includes(GPS, 0, 'latin1')).toBe(false);
    expect(out.includes('PhoneCo', 0, 'latin1')).toBe(false);
    const meta = await sharp(out).metadata();
    expect(meta.format).toBe('heif');
    expect(meta.exif?.includes(GPS, 0, 'latin1') ?? false).toBe(false);
    expect((await sharp(out).raw().toBuffer()).equals(await sharp(avif).raw().toBuffer())).toBe(true);
  });

  it('fuzz: a damaged or cut HEIC is refused with MetadataError or passes without its metadata', async () => {
    const file = heic();
    const metaStart = 24; // after ftyp
    const metaEnd = file.indexOf('mdat', 0, 'latin1') - 4;
    await fc.assert(
      fc.asyncProperty(
        fc.nat(file.length - 1),
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 1, max: file.length }),
        async (at, value, cut) => {
          const damaged = Buffer.from(file.subarray(0, cut));
          if (at < damaged.length) damaged[at] = value;
          const out = await strip(damaged, 97).catch((e: unknown) => e);
          if (out instanceof Buffer) {
            expect(out.length).toBeLessThanOrEqual(damaged.length);
            // Not a HEIF any more (its signature hit): it passes as any other file, as a decoder
            // would not read it as an image either. A byte changed inside meta may make the file
            // declare no metadata item at all (an EXIF item typed otherwise); outside meta its
            // metadata is always gone.
            const hit = at < damaged.length;
            if (!hit || at < 4 || (at >= 12 && at < metaStart) || at >= metaEnd)
              expect(out.includes(GPS, 0, 'latin1')).toBe(false);
          } else expect(out).toBeInstanceOf(MetadataError);
        },
      ),
      { numRuns: 400 },
    );
  });
});
