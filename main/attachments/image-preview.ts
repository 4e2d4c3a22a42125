/**
 * Safe image previews (issue 16 §4): a received or sent image is decoded and re-encoded HERE, in
 * the main process, with sharp (libvips), so the renderer only ever gets a fresh bitmap that this
 * code produced — never the sender's bytes. On the way:
 *
 * - only PNG, JPEG and WebP are decoded (HEIC is not: sharp's prebuilt libheif has no HEVC
 *   decoder, so a HEIC photo is a file card). The declared type, the name's extension and the
 *   content's own signature and format must all agree, else the file is refused (an SVG, HTML or
 *   anything else named or typed as an image never reaches a decoder that would accept it);
 * - limits before decoding: the file's size (IMAGE_MAX_BYTES) and its pixel count as the header
 *   states it (IMAGE_MAX_PIXELS), so a decompression bomb is refused on its header; sharp's own
 *   limitInputPixels and failOn:'error' hold the same line inside the decoder;
 * - the result is auto-rotated by the EXIF orientation, scaled down to IMAGE_MAX_EDGE and encoded
 *   without any metadata (EXIF location, XMP, ICC comments: sharp writes none unless asked);
 * - only the first frame of an animation is used.
 *
 * Pure (no store, no logging): errors are AppError with words the UI can show.
 */
import sharp from 'sharp';
import { AppError } from '../../common/result';
import { isJpeg, isPng, isWebp } from './signatures';

// Decoded pixels must not outlive a preview in libvips' operation cache: they are PHI.
sharp.cache(false);

/** The largest image file decoded for a preview. */
export const IMAGE_MAX_BYTES = 50 * 1024 * 1024;
/** The most pixels an image may declare (8192 × 8192): a bigger one is refused before decoding. */
export const IMAGE_MAX_PIXELS = 8192 * 8192;
/** The long edge of the re-encoded preview (the viewer zooms within this). */
export const IMAGE_MAX_EDGE = 4096;

/** The decodable image types: the content's signature, sharp's format name and the usual extensions. */
const IMAGE_FORMATS = {
  'image/png': {
    format: 'png',
    exts: ['png'],
    sig: isPng,
  },
  'image/jpeg': {
    format: 'jpeg',
    exts: ['jpg', 'jpeg', 'jpe', 'jfif'],
    sig: isJpeg,
  },
  'image/webp': {
    format: 'webp',
    exts: ['webp'],
    sig: isWebp,
  },
} as const;
export type PreviewImageType = keyof typeof IMAGE_FORMATS;

export const isPreviewImageType = (mediaType: string): mediaType is PreviewImageType =>
  Object.hasOwn(IMAGE_FORMATS, mediaType);

/** Extensions whose type is known: a name with one of them must agree with the declared type. */
const KNOWN_EXTS: Record<string, string> = {
  pdf: 'application/pdf',
  svg: 'image/svg+xml',
  svgz: 'image/svg+xml',
  gif: 'image/gif',
  heic: 'image/heic',
  heif: 'image/heif',
  avif: 'image/avif',
  tif: 'image/tiff',
  tiff: 'image/tiff',
  bmp: 'image/bmp',
  html: 'text/html',
  htm: 'text/html',
  ...Object.fromEntries(
    Object.entries(IMAGE_FORMATS).flatMap(([type, f]) => f.exts.map((e) => [e, type] as [string, string])),
  ),
};

/**
 * True when the name's extension, if it is one whose type is known, names the declared type. A
 * name without an extension, or with an unknown one, says nothing and is left to the content.
 */
export function nameAgreesWithType(name: string, mediaType: string): boolean {
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return true;
  const known = KNOWN_EXTS[name.slice(dot + 1).toLowerCase()];
  return known === undefined || known === mediaType;
}

const refuse = (message: string, reason: string): AppError => new AppError('FORBIDDEN', message, { preview: reason });

export interface PreviewImage {
  mediaType: PreviewImageType;
  data: Buffer;
  width: number;
  height: number;
}

/**
 * Decodes an image of the declared type and re-encodes it without metadata. Refuses (FORBIDDEN,
 * details.preview says why) a file whose name, type and content disagree, that is not a
 * decodable image, that declares too many pixels, or that the decoder finds broken; TOO_LARGE
 * over IMAGE_MAX_BYTES.
 */
export async function reencodeImage(
  input: Buffer,
  declared: { mediaType: string; name: string },
  limits: { maxBytes?: number; maxPixels?: number; maxEdge?: number; webpQuality?: number } = {},
): Promise<PreviewImage> {
  const maxBytes = limits.maxBytes ?? IMAGE_MAX_BYTES;
  const maxPixels = limits.maxPixels ?? IMAGE_MAX_PIXELS;
  const maxEdge = limits.maxEdge ?? IMAGE_MAX_EDGE;
  if (!isPreviewImageType(declared.mediaType))
    throw refuse('This kind of file cannot be previewed.', 'type-not-previewable');
  const f = IMAGE_FORMATS[declared.mediaType];
  if (input.length > maxBytes)
    throw new AppError('TOO_LARGE', 'This image is too large to preview.', { maxBytes, preview: 'bytes' });
  if (!nameAgreesWithType(declared.name, declared.mediaType))
    throw refuse('This file is not what its name says, so it is not shown.', 'name-mismatch');
  if (!f.sig(input)) throw refuse('This file is not what its type says, so it is not shown.', 'content-mismatch');
  const open = (limitInputPixels: number | false) =>
    sharp(input, { limitInputPixels, failOn: 'error', animated: false, pages: 1 });
  let meta: sharp.Metadata;
  try {
    // The header only (no pixels decoded): its own dimensions are checked below, with their own words.
    meta = await open(false).metadata();
  } catch {
    throw refuse('This image is damaged and cannot be shown.', 'undecodable');
  }
  if (meta.format !== f.format)
    throw refuse('This file is not what its type says, so it is not shown.', 'content-mismatch');
  const { width, height } = meta;
  if (!width || !height) throw refuse('This image is damaged and cannot be shown.', 'undecodable');
  if (width * height > maxPixels) throw refuse('This image has too many pixels to be shown safely.', 'too-many-pixels');
  let pipeline = open(maxPixels)
    .autoOrient()
    .resize({ width: maxEdge, height: maxEdge, fit: 'inside', withoutEnlargement: true });
  // Re-encoded as the same kind of image (or as WebP at the quality asked, for a thumbnail); no
  // withMetadata()/keepMetadata(): nothing of EXIF, XMP or ICC is written.
  const as: PreviewImageType = limits.webpQuality !== undefined ? 'image/webp' : declared.mediaType;
  pipeline =
    as === 'image/png'
      ? pipeline.png()
      : as === 'image/webp'
        ? pipeline.webp({ quality: limits.webpQuality ?? 90 })
        : pipeline.jpeg({ quality: 90 });
  try {
    const { data, info } = await pipeline.toBuffer({ resolveWithObject: true });
    return { mediaType: as, data, width: info.width, height: info.height };
  } catch {
    throw refuse('This image is damaged and cannot be shown.', 'undecodable');
  }
}

/** The sizes a sender's thumbnail is tried at, largest first, until one fits the payload's limit. */
const THUMBNAIL_STEPS = [
  { maxEdge: 256, webpQuality: 60 },
  { maxEdge: 160, webpQuality: 50 },
  { maxEdge: 96, webpQuality: 40 },
] as const;

/**
 * The sender's thumbnail of an image it sends (issue 16 §1: "a thumbnail for images" in the signed
 * payload), so the receiver shows the picture before anyone downloads the file: a WebP of at most
 * 256 px a side and at most `maxBytes`, made by the same checked decode as a preview (from the
 * stored copy, whose metadata is already gone). Null when the file is not a previewable image or
 * cannot be decoded: it is then sent as a card, as before. The first try decodes the original; a
 * smaller one starts from that small WebP.
 */
export async function makeThumbnail(
  input: Buffer,
  declared: { mediaType: string; name: string },
  maxBytes: number,
): Promise<PreviewImage | null> {
  let from = { input, declared };
  for (const step of THUMBNAIL_STEPS) {
    let image: PreviewImage;
    try {
      image = await reencodeImage(from.input, from.declared, step);
    } catch (err) {
      if (err instanceof AppError) return null;
      throw err;
    }
    if (image.data.length <= maxBytes) return image;
    from = { input: image.data, declared: { mediaType: image.mediaType, name: 'thumbnail' } };
  }
  return null;
}

/**
 * A received thumbnail as the renderer may see it: the sender's bytes are hostile like any file's,
 * so they go through the same checked decode and re-encode, within the payload's own limits (bytes
 * and side, file-sharing.ts), never to the renderer as sent.
 */
export function reencodeThumbnail(
  t: { mediaType: string; data: Uint8Array },
  limits: { maxBytes: number; maxSide: number },
): Promise<PreviewImage> {
  return reencodeImage(
    Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength),
    { mediaType: t.mediaType, name: 'thumbnail' },
    { maxBytes: limits.maxBytes, maxPixels: limits.maxSide * limits.maxSide, maxEdge: limits.maxSide },
  );
}
