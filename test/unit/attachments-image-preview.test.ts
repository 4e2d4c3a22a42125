/**
 * Safe image previews (issue 16 §4, main/attachments/image-preview.ts) with the real sharp:
 * images are decoded and re-encoded without metadata, within pixel and size limits; hostile
 * files (a decompression bomb, content that is not its type or name, an SVG with script, a broken
 * image) are refused with words the UI shows and a reason, and nothing is decoded from them.
 */
import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../common/result';
import {
  IMAGE_MAX_PIXELS,
  makeThumbnail,
  nameAgreesWithType,
  reencodeImage,
  reencodeThumbnail,
} from '../../main/attachments/image-preview';
import { fileSharingLimits } from '../../main/crypto/file-sharing';
import {
  bombPng,
  exifPhoto,
  garbledPng,
  noisePng,
  noisePngWithText,
  PNG_SIGNATURE,
  SVG_WITH_SCRIPT,
} from '../support/image-fixtures';

const image = (width: number, height: number) =>
  sharp({ create: { width, height, channels: 3, background: { r: 200, g: 40, b: 40 } } });

/** A JPEG carrying EXIF with a GPS position and a camera make, as a phone writes it. */
async function jpegWithLocation(): Promise<Buffer> {
  return image(120, 80)
    .jpeg()
    .withExif({
      IFD0: { Make: 'ClinicPhone', Model: 'X1' },
      IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '51/1 30/1 0/1', GPSLongitudeRef: 'W', GPSLongitude: '0/1 7/1 0/1' },
    })
    .toBuffer();
}

async function refusal(p: Promise<unknown>): Promise<AppError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

describe('reencodeImage', () => {
  it('re-encodes a JPEG without its EXIF (no location, no camera): new bytes, same picture size', async () => {
    const input = await jpegWithLocation();
    const before = await sharp(input).metadata();
    expect(before.exif?.includes(Buffer.from('ClinicPhone'))).toBe(true);
    const out = await reencodeImage(input, { mediaType: 'image/jpeg', name: 'wound.jpg' });
    expect(out.mediaType).toBe('image/jpeg');
    expect(out.data.equals(input)).toBe(false);
    const after = await sharp(out.data).metadata();
    expect(after.format).toBe('jpeg');
    expect([after.width, after.height]).toEqual([120, 80]);
    expect(after.exif).toBeUndefined();
    expect(after.xmp).toBeUndefined();
    expect(out.data.includes(Buffer.from('ClinicPhone'))).toBe(false);
  });

  it('re-encodes PNG and WebP as themselves, and turns a photo upright by its EXIF orientation', async () => {
    const png = await reencodeImage(await image(30, 20).png().toBuffer(), { mediaType: 'image/png', name: 'a.png' });
    expect((await sharp(png.data).metadata()).format).toBe('png');
    const webp = await reencodeImage(await image(30, 20).webp().toBuffer(), { mediaType: 'image/webp', name: 'b' });
    expect((await sharp(webp.data).metadata()).format).toBe('webp');
    // Orientation 6: stored 30 wide, shown 20 wide after a quarter turn; the tag itself is gone.
    const rotated = await image(30, 20).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const upright = await reencodeImage(rotated, { mediaType: 'image/jpeg', name: 'c.jpeg' });
    expect([upright.width, upright.height]).toEqual([20, 30]);
    expect((await sharp(upright.data).metadata()).orientation).toBeUndefined();
  });

  it('drops a PNG text chunk (metadata) and keeps the picture pixel for pixel', async () => {
    const marker = Buffer.from('PATIENT-NAME-IN-A-PNG-COMMENT');
    const input = await noisePngWithText(64, 48, marker);
    expect(input.includes(marker)).toBe(true);
    const out = await reencodeImage(input, { mediaType: 'image/png', name: 'scan.png' });
    expect(out.data.includes(marker)).toBe(false);
    expect((await sharp(out.data).raw().toBuffer()).equals(await sharp(input).raw().toBuffer())).toBe(true);
  });

  it('scales a large image down to the preview edge', async () => {
    const out = await reencodeImage(
      await image(400, 100).png().toBuffer(),
      { mediaType: 'image/png', name: 'wide.png' },
      {
        maxEdge: 200,
      },
    );
    expect([out.width, out.height]).toEqual([200, 50]);
  });

  it('refuses a decompression-bomb PNG on its header, before decoding it', async () => {
    const bomb = bombPng();
    expect(bomb.length).toBeLessThan(64 * 1024);
    const err = await refusal(reencodeImage(bomb, { mediaType: 'image/png', name: 'bomb.png' }));
    expect(err.code).toBe('FORBIDDEN');
    expect(err.message).toBe('This image has too many pixels to be shown safely.');
    expect(err.details).toMatchObject({ preview: 'too-many-pixels' });
    expect(100_000 * 100_000).toBeGreaterThan(IMAGE_MAX_PIXELS);
  });

  it('refuses an image over the pixel limit, and takes one at it', async () => {
    const png = await image(100, 100).png().toBuffer();
    const err = await refusal(reencodeImage(png, { mediaType: 'image/png', name: 'p.png' }, { maxPixels: 9_999 }));
    expect(err.details).toMatchObject({ preview: 'too-many-pixels' });
    const ok = await reencodeImage(png, { mediaType: 'image/png', name: 'p.png' }, { maxPixels: 10_000 });
    expect(ok.width).toBe(100);
  });

  it('refuses a file over the byte limit', async () => {
    const png = await image(10, 10).png().toBuffer();
    const err = await refusal(
      reencodeImage(png, { mediaType: 'image/png', name: 'p.png' }, { maxBytes: png.length - 1 }),
    );
    expect(err.code).toBe('TOO_LARGE');
  });

  it('refuses content that is not its declared type: a JPEG sent as PNG, an SVG with script sent as PNG', async () => {
    const jpeg = await image(10, 10).jpeg().toBuffer();
    const a = await refusal(reencodeImage(jpeg, { mediaType: 'image/png', name: 'scan' }));
    expect(a.message).toBe('This file is not what its type says, so it is not shown.');
    expect(a.details).toMatchObject({ preview: 'content-mismatch' });
    const b = await refusal(reencodeImage(SVG_WITH_SCRIPT, { mediaType: 'image/png', name: 'x' }));
    expect(b.details).toMatchObject({ preview: 'content-mismatch' });
  });

  it('never decodes an SVG, whatever it is called: it is not a previewable type', async () => {
    const err = await refusal(reencodeImage(SVG_WITH_SCRIPT, { mediaType: 'image/svg+xml', name: 'logo.svg' }));
    expect(err.code).toBe('FORBIDDEN');
    expect(err.details).toMatchObject({ preview: 'type-not-previewable' });
  });

  it('refuses a PNG signature in front of something else (an SVG with a PNG header)', async () => {
    const disguised = Buffer.concat([PNG_SIGNATURE, SVG_WITH_SCRIPT]);
    const err = await refusal(reencodeImage(disguised, { mediaType: 'image/png', name: 'x.png' }));
    expect(err.message).toBe('This image is damaged and cannot be shown.');
  });

  it('refuses a file whose name says another type than it is declared as', async () => {
    const png = await image(10, 10).png().toBuffer();
    const err = await refusal(reencodeImage(png, { mediaType: 'image/png', name: 'referral.svg' }));
    expect(err.message).toBe('This file is not what its name says, so it is not shown.');
    expect(err.details).toMatchObject({ preview: 'name-mismatch' });
    expect((await refusal(reencodeImage(png, { mediaType: 'image/png', name: 'photo.jpg' }))).details).toMatchObject({
      preview: 'name-mismatch',
    });
  });
});

describe('nameAgreesWithType', () => {
  it('checks known extensions only, case-insensitively', () => {
    expect(nameAgreesWithType('Photo.JPG', 'image/jpeg')).toBe(true);
    expect(nameAgreesWithType('scan.jfif', 'image/jpeg')).toBe(true);
    expect(nameAgreesWithType('lab.pdf', 'application/pdf')).toBe(true);
    expect(nameAgreesWithType('lab.pdf', 'image/png')).toBe(false);
    expect(nameAgreesWithType('page.html', 'application/pdf')).toBe(false);
    expect(nameAgreesWithType('noextension', 'image/png')).toBe(true);
    expect(nameAgreesWithType('.png', 'image/jpeg')).toBe(true);
    expect(nameAgreesWithType('report.v2', 'application/pdf')).toBe(true);
  });
});

describe('thumbnails in the signed payload', () => {
  const MAX = fileSharingLimits.maxThumbnailBytes;
  const limits = { maxBytes: MAX, maxSide: fileSharingLimits.maxThumbnailSide };

  it("the sender's thumbnail is a small WebP of the picture, upright, without the photo's metadata", async () => {
    const photo = await exifPhoto(6, 'Jane Roe'); // 64 × 48, shown rotated: 48 × 64
    const t = (await makeThumbnail(photo, { mediaType: 'image/jpeg', name: 'wound.jpg' }, MAX))!;
    expect(t.mediaType).toBe('image/webp');
    expect([t.width, t.height]).toEqual([48, 64]);
    const meta = await sharp(t.data).metadata();
    expect(meta).toMatchObject({ format: 'webp', width: 48, height: 64 });
    expect(meta.exif).toBeUndefined();
    expect(t.data.includes('Jane Roe', 0, 'latin1')).toBe(false);
  });

  it('a big photo becomes at most 256 px a side, in its proportions, within the byte limit', async () => {
    const big = await image(4000, 3000).jpeg().toBuffer();
    const t = (await makeThumbnail(big, { mediaType: 'image/jpeg', name: 'scan.jpg' }, MAX))!;
    expect([t.width, t.height]).toEqual([256, 192]);
    expect(t.data.length).toBeLessThanOrEqual(MAX);
  });

  it('a picture that does not fit the byte limit at 256 px is made smaller until it does', async () => {
    const noise = await noisePng(600, 600);
    const declared = { mediaType: 'image/png', name: 'noise.png' };
    const first = (await makeThumbnail(noise, declared, MAX))!;
    expect(first.width).toBe(256);
    const bound = first.data.length - 1;
    const t = (await makeThumbnail(noise, declared, bound))!;
    expect(t.data.length).toBeLessThanOrEqual(bound);
    expect(t.width).toBeLessThan(256);
    expect((await sharp(t.data).metadata()).width).toBe(t.width);
    // With no step small enough there is no thumbnail, rather than one over the limit.
    expect(await makeThumbnail(noise, declared, 10)).toBeNull();
  });

  it('no thumbnail for what is not a previewable image, or does not decode: the file goes as a card', async () => {
    const pdf = Buffer.from('%PDF-1.7\n%…');
    expect(await makeThumbnail(pdf, { mediaType: 'application/pdf', name: 'lab.pdf' }, MAX)).toBeNull();
    expect(await makeThumbnail(garbledPng(4096), { mediaType: 'image/png', name: 'x.png' }, MAX)).toBeNull();
    expect(await makeThumbnail(bombPng(), { mediaType: 'image/png', name: 'x.png' }, MAX)).toBeNull();
    expect(await makeThumbnail(SVG_WITH_SCRIPT, { mediaType: 'image/svg+xml', name: 'x.svg' }, MAX)).toBeNull();
  });

  it('a received thumbnail is re-encoded, never passed on as sent; a hostile one is refused', async () => {
    const webp = await image(200, 100)
      .webp()
      .withExif({ IFD0: { Artist: 'Jane Roe' } })
      .toBuffer();
    const out = await reencodeThumbnail({ mediaType: 'image/webp', data: webp }, limits);
    expect(out).toMatchObject({ mediaType: 'image/webp', width: 200, height: 100 });
    expect(out.data.equals(webp)).toBe(false);
    expect(out.data.includes('Jane Roe', 0, 'latin1')).toBe(false);
    // Small on the wire, huge when decoded: refused on its header.
    const bomb = bombPng(4096);
    expect(bomb.length).toBeLessThan(MAX);
    expect((await refusal(reencodeThumbnail({ mediaType: 'image/png', data: bomb }, limits))).details).toMatchObject({
      preview: 'too-many-pixels',
    });
    // Declared as one type, another inside.
    expect((await refusal(reencodeThumbnail({ mediaType: 'image/jpeg', data: webp }, limits))).details).toMatchObject({
      preview: 'content-mismatch',
    });
    // Over the payload's byte limit.
    const random = await sharp(randomBytes(200 * 200 * 3), { raw: { width: 200, height: 200, channels: 3 } })
      .png()
      .toBuffer();
    expect(random.length).toBeGreaterThan(MAX);
    expect((await refusal(reencodeThumbnail({ mediaType: 'image/png', data: random }, limits))).code).toBe('TOO_LARGE');
  });
});
