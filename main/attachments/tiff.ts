/**
 * The one EXIF block the app writes into a photo it sends: nothing but the orientation, so a
 * picture whose metadata was removed still shows upright (strip-metadata.ts for JPEG, PNG and
 * WebP; strip-heif.ts for HEIF, where the block keeps the item's length).
 */
/** A minimal TIFF (EXIF) block: big-endian, one IFD0 entry, the orientation; 26 bytes. */
export function orientationTiff(orientation: number): Buffer {
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
  return tiff;
}
