/**
 * The leading bytes that identify a file format from its content, one definition per format, for
 * every check that must not trust a name or a declared type: the preview's decode gate
 * (image-preview.ts), what may go to the renderer as bytes (xmpp/attachment-download.ts) and the
 * metadata stripper (strip-metadata.ts).
 */

/** PNG's 8-byte file signature. */
export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** A JPEG's start-of-image marker and the first byte of the marker after it. */
export const JPEG_SOI = Buffer.from([0xff, 0xd8, 0xff]);

const startsWith = (b: Buffer, sig: Buffer): boolean => b.length >= sig.length && b.subarray(0, sig.length).equals(sig);

export const isPng = (b: Buffer): boolean => startsWith(b, PNG_SIGNATURE);
export const isJpeg = (b: Buffer): boolean => startsWith(b, JPEG_SOI);
export const isWebp = (b: Buffer): boolean =>
  b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP';
export const isPdf = (b: Buffer): boolean => b.subarray(0, 5).toString('latin1') === '%PDF-';
