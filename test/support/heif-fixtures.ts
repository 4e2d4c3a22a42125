/**
 * Handmade HEIF files (no HEVC encoder is bundled to make real ones): the boxes a phone's HEIC
 * has — ftyp, meta (hdlr, pitm, iinf, iloc, optionally idat), mdat — with an EXIF item carrying a
 * GPS position and an XMP item naming a person. For strip-heif.ts's tests.
 */
const box = (type: string, ...parts: Buffer[]) => {
  const body = Buffer.concat(parts);
  const head = Buffer.alloc(8);
  head.writeUInt32BE(8 + body.length, 0);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, body]);
};
const full = (type: string, version: number, ...parts: Buffer[]) =>
  box(type, Buffer.from([version, 0, 0, 0]), ...parts);
const u16 = (n: number) => Buffer.from([n >> 8, n & 255]);
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const str = (s: string) => Buffer.from(`${s}\0`, 'latin1');

export const IMAGE = Buffer.from('HEVC-CODED-IMAGE-DATA-'.repeat(40), 'latin1');
export const GPS = 'GPS-47.6062N-122.3321W';
export const EXIF = Buffer.concat([u32(0), Buffer.from(`MM\0*\0\0\0\x08 ${GPS} iPhone 15 serial 1234`, 'latin1')]);
export const XMP = Buffer.from(`<x:xmpmeta><dc:creator>Jane Roe</dc:creator>${GPS}</x:xmpmeta>`, 'latin1');

export interface Layout {
  /** Where the EXIF item's bytes are: in mdat (method 0) or in meta's idat (method 1). */
  exifIn?: 'mdat' | 'idat';
  /** mdat before meta (its metadata bytes would have gone out before meta is read). */
  mdatFirst?: boolean;
}

/** A HEIC of boxes: ftyp, meta (hdlr, pitm, iinf, iloc v1, [idat]), mdat (image, [EXIF], XMP). */
export function heic({ exifIn = 'mdat', mdatFirst = false }: Layout = {}): Buffer {
  const ftyp = box('ftyp', Buffer.from('heic', 'latin1'), u32(0), Buffer.from('mif1heic', 'latin1'));
  const mdatPayload = exifIn === 'mdat' ? [IMAGE, EXIF, XMP] : [IMAGE, XMP];
  const mdat = box('mdat', ...mdatPayload);
  const metaFor = (mdatAt: number) => {
    const at = mdatAt + 8;
    const item = (id: number, method: number, offset: number, length: number) =>
      Buffer.concat([u16(id), u16(method), u16(0), u16(1), u32(offset), u32(length)]);
    const exif = exifIn === 'mdat' ? item(2, 0, at + IMAGE.length, EXIF.length) : item(2, 1, 0, EXIF.length);
    const xmpAt = at + IMAGE.length + (exifIn === 'mdat' ? EXIF.length : 0);
    return full(
      'meta',
      0,
      full('hdlr', 0, u32(0), Buffer.from('pict', 'latin1'), Buffer.alloc(12), str('')),
      full('pitm', 0, u16(1)),
      full(
        'iinf',
        0,
        u16(3),
        full('infe', 2, u16(1), u16(0), Buffer.from('hvc1', 'latin1'), str('')),
        full('infe', 2, u16(2), u16(0), Buffer.from('Exif', 'latin1'), str('')),
        full('infe', 2, u16(3), u16(0), Buffer.from('mime', 'latin1'), str(''), str('application/rdf+xml')),
      ),
      full(
        'iloc',
        1,
        Buffer.from([0x44, 0x00]),
        u16(3),
        item(1, 0, at, IMAGE.length),
        exif,
        item(3, 0, xmpAt, XMP.length),
      ),
      ...(exifIn === 'idat' ? [box('idat', EXIF)] : []),
    );
  };
  if (mdatFirst) return Buffer.concat([ftyp, mdat, metaFor(ftyp.length)]);
  // meta's size does not depend on the offsets inside it: measure once, then place mdat after it.
  const metaLength = metaFor(0).length;
  return Buffer.concat([ftyp, metaFor(ftyp.length + metaLength), mdat]);
}
