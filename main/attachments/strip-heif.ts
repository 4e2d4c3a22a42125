/**
 * HEIF photos (HEIC from phones, AVIF) lose their EXIF and XMP on the way out, losslessly, as
 * JPEG, PNG and WebP do (strip-metadata.ts). A phone's HEIC carries where it was taken (GPS), when
 * and with which phone. Nothing here decodes the image (no HEVC decoder is bundled): the file is
 * ISOBMFF boxes, and the metadata are items named in the `meta` box (ISO/IEC 23008-12 §6):
 *   - `iinf` says which items are metadata: type `Exif`, or type `mime` with content type
 *     `application/rdf+xml` (XMP);
 *   - `iloc` says where their bytes are: extents at file offsets (construction method 0, usually
 *     inside `mdat` after `meta`) or inside the `meta` box's own `idat` (method 1).
 * Those bytes are overwritten in place, same size, so every offset in the file stays right: EXIF
 * becomes a minimal TIFF holding only an upright orientation (a HEIF's rotation is its `irot`
 * property, kept), the rest zeros; XMP becomes spaces. Every other byte passes unchanged.
 *
 * It streams: `meta` (at most META_MAX) is held until it is read whole, the rest passes as it
 * comes. A file whose metadata bytes come before its `meta` box (already gone out), sit in
 * another item (method 2) or run to the end of the file unbounded is refused (MetadataError)
 * rather than sent with its metadata, as is a broken box structure.
 */
import type { MetadataParser } from './strip-metadata';
import { orientationTiff } from './tiff';

/** ftyp major brands of HEIF images and sequences (HEVC, AV1 and the generic ones). */
const HEIF_BRANDS = new Set(['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'mif1', 'msf1', 'avif', 'avis']);
/** The largest `meta` box held whole (a phone's is a few KiB; thumbnails' item data lives in mdat). */
const META_MAX = 4 * 1024 * 1024;
/** The largest ftyp box (a brand list; a few dozen bytes in practice). */
const FTYP_MAX = 4096;
/** The most metadata bytes rewritten (an EXIF item is at most 64 KiB in practice). */
const SCRUB_MAX = 16 * 1024 * 1024;

/** ftyp first, with a HEIF major brand (12 bytes decide). */
export const isHeif = (b: Buffer): boolean =>
  b.length >= 12 && b.toString('latin1', 4, 8) === 'ftyp' && HEIF_BRANDS.has(b.toString('latin1', 8, 12));

/** Whether `b`, shorter than 12 bytes, could still begin a HEIF file. */
export function couldBeHeif(b: Buffer): boolean {
  if (b.length >= 12) return false;
  if (b.length <= 4) return true;
  const type = b.toString('latin1', 4, Math.min(8, b.length));
  if (!'ftyp'.startsWith(type)) return false;
  if (b.length <= 8) return true;
  const brand = b.toString('latin1', 8);
  return [...HEIF_BRANDS].some((x) => x.startsWith(brand));
}

class Broken extends Error {}
const broken = (): never => {
  throw new Broken();
};

/** A range of the file to overwrite, with its new bytes. */
interface Scrub {
  start: number;
  end: number;
  bytes: Buffer;
}

/** An item's new content, `length` bytes: HEIF's EXIF item is a 4-byte TIFF header offset, then TIFF. */
function neutralItem(kind: 'exif' | 'xmp', length: number): Buffer {
  if (kind === 'xmp') return Buffer.alloc(length, 0x20);
  const out = Buffer.alloc(length, 0);
  if (length >= 30) orientationTiff(1).copy(out, 4); // offset 0: the TIFF starts right after it; 1: upright
  return out;
}

/** Reads boxes inside a buffer: [start, end) of each child's payload, by type. */
function* boxes(buf: Buffer, from: number, to: number): Generator<{ type: string; start: number; end: number }> {
  let at = from;
  while (at + 8 <= to) {
    let size = buf.readUInt32BE(at);
    const type = buf.toString('latin1', at + 4, at + 8);
    let head = 8;
    if (size === 1) {
      if (at + 16 > to) broken();
      size = Number(buf.readBigUInt64BE(at + 8));
      head = 16;
    } else if (size === 0) size = to - at;
    if (size < head || at + size > to) broken();
    yield { type, start: at + head, end: at + size };
    at += size;
  }
  if (at !== to) broken();
}

/** Reads an unsigned integer of 0, 4 or 8 bytes (iloc's field sizes). */
function uint(buf: Buffer, at: number, size: number): number {
  if (size === 0) return 0;
  if (size === 4) return buf.readUInt32BE(at);
  if (size === 8) {
    const v = buf.readBigUInt64BE(at);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) broken();
    return Number(v);
  }
  return broken();
}

/** The metadata items of an `iinf` box: item id → kind. */
function metadataItems(buf: Buffer, start: number, end: number): Map<number, 'exif' | 'xmp'> {
  const version = buf.readUInt8(start);
  const count = version === 0 ? buf.readUInt16BE(start + 4) : buf.readUInt32BE(start + 4);
  let at = start + 4 + (version === 0 ? 2 : 4);
  const items = new Map<number, 'exif' | 'xmp'>();
  const entries = [...boxes(buf, at, end)];
  // Exactly its entry_count ItemInfoEntry boxes: anything else and which items are metadata is unknown.
  if (entries.length !== count || entries.some((b) => b.type !== 'infe')) broken();
  for (const infe of entries) {
    const v = buf.readUInt8(infe.start);
    if (v < 2) continue; // no item_type before version 2
    at = infe.start + 4;
    const id = v === 2 ? buf.readUInt16BE(at) : buf.readUInt32BE(at);
    at += (v === 2 ? 2 : 4) + 2; // item_ID, item_protection_index
    const type = buf.toString('latin1', at, at + 4);
    at += 4;
    if (type === 'Exif') items.set(id, 'exif');
    else if (type === 'mime') {
      const nameEnd = buf.indexOf(0, at);
      if (nameEnd < 0 || nameEnd >= infe.end) broken();
      const ctEnd = buf.indexOf(0, nameEnd + 1);
      const contentType = buf.toString('latin1', nameEnd + 1, ctEnd < 0 || ctEnd > infe.end ? infe.end : ctEnd);
      if (contentType.trim().toLowerCase().startsWith('application/rdf+xml')) items.set(id, 'xmp');
    }
  }
  return items;
}

interface Extent {
  method: number;
  offset: number;
  length: number;
}

/** The extents of the given items in an `iloc` box. */
function extentsOf(buf: Buffer, start: number, end: number, wanted: Set<number>): Map<number, Extent[]> {
  const version = buf.readUInt8(start);
  if (version > 2) broken();
  let at = start + 4;
  const sizes = buf.readUInt8(at);
  const more = buf.readUInt8(at + 1);
  at += 2;
  const offsetSize = sizes >> 4;
  const lengthSize = sizes & 15;
  const baseSize = more >> 4;
  const indexSize = version === 0 ? 0 : more & 15;
  const count = version < 2 ? buf.readUInt16BE(at) : buf.readUInt32BE(at);
  at += version < 2 ? 2 : 4;
  const out = new Map<number, Extent[]>();
  for (let i = 0; i < count; i++) {
    if (at > end) broken();
    const id = version < 2 ? buf.readUInt16BE(at) : buf.readUInt32BE(at);
    at += version < 2 ? 2 : 4;
    let method = 0;
    if (version > 0) {
      method = buf.readUInt16BE(at) & 15;
      at += 2;
    }
    const dataRef = buf.readUInt16BE(at);
    at += 2;
    const base = uint(buf, at, baseSize);
    at += baseSize;
    const extents = buf.readUInt16BE(at);
    at += 2;
    const list: Extent[] = [];
    for (let e = 0; e < extents; e++) {
      at += indexSize;
      const offset = uint(buf, at, offsetSize);
      at += offsetSize;
      const length = uint(buf, at, lengthSize);
      at += lengthSize;
      list.push({ method, offset: base + offset, length });
    }
    // Data in another file (data_reference_index): not in this one, nothing to rewrite here.
    if (wanted.has(id) && dataRef === 0) out.set(id, list);
  }
  if (at > end) broken();
  return out;
}

/**
 * The `meta` box (held whole, starting at file offset `metaAt`): its metadata items' bytes inside
 * it (idat) are rewritten in `meta`; those elsewhere in the file are returned to rewrite as they
 * pass. Throws Broken when they cannot be.
 */
function scrubsOf(meta: Buffer, metaAt: number, headLength: number): Scrub[] {
  const children = [...boxes(meta, headLength + 4, meta.length)];
  const iinf = children.find((b) => b.type === 'iinf');
  const iloc = children.find((b) => b.type === 'iloc');
  if (!iinf) return [];
  const items = metadataItems(meta, iinf.start, iinf.end);
  if (items.size === 0) return [];
  if (!iloc) broken();
  const idat = children.find((b) => b.type === 'idat');
  const located = extentsOf(meta, iloc!.start, iloc!.end, new Set(items.keys()));
  const scrubs: Scrub[] = [];
  let total = 0;
  for (const [id, extents] of located) {
    const length = extents.reduce((n, e) => n + e.length, 0);
    total += length;
    if (total > SCRUB_MAX || extents.some((e) => e.length === 0 || e.method > 1)) broken();
    const content = neutralItem(items.get(id)!, length);
    let from = 0;
    for (const e of extents) {
      const bytes = content.subarray(from, from + e.length);
      from += e.length;
      if (e.method === 1) {
        if (!idat || e.offset + e.length > idat.end - idat.start) broken();
        bytes.copy(meta, idat!.start + e.offset);
      } else if (e.offset >= metaAt && e.offset + e.length <= metaAt + meta.length) {
        bytes.copy(meta, e.offset - metaAt);
      } else if (e.offset < metaAt + meta.length) {
        broken(); // before `meta`, already sent as it was
      } else scrubs.push({ start: e.offset, end: e.offset + e.length, bytes });
    }
  }
  return scrubs;
}

/** Top-level box by box: `meta` held and rewritten, everything else streamed with the scrubs applied. */
export function heifParser(fail: () => never): MetadataParser {
  type State =
    | { at: 'head'; head: Buffer }
    | { at: 'meta'; parts: Buffer[]; have: number; size: number; headLength: number }
    | { at: 'body'; left: number };
  let state: State = { at: 'head', head: Buffer.alloc(0) };
  let pos = 0;
  let scrubs: Scrub[] = [];
  let first = true;
  /** A `meta` box was read (an image's items are in it), or a `moov` (a sequence may have no meta). */
  let described = false;

  const emit = (b: Buffer, push: (b: Buffer) => void) => {
    let out = b;
    for (const s of scrubs) {
      if (s.end <= pos || s.start >= pos + b.length) continue;
      if (out === b) out = Buffer.from(b);
      const from = Math.max(s.start, pos);
      const to = Math.min(s.end, pos + b.length);
      s.bytes.copy(out, from - pos, from - s.start, to - s.start);
    }
    pos += b.length;
    push(out);
  };

  function write(chunk: Buffer, push: (b: Buffer) => void): void {
    let buf = chunk;
    while (buf.length > 0) {
      if (state.at === 'head') {
        const head = Buffer.concat([state.head, buf]);
        if (head.length < 8 || (head.readUInt32BE(0) === 1 && head.length < 16))
          return void (state = { at: 'head', head });
        const type = head.toString('latin1', 4, 8);
        const large = head.readUInt32BE(0) === 1;
        const headLength = large ? 16 : 8;
        const declared = large ? Number(head.readBigUInt64BE(8)) : head.readUInt32BE(0);
        if (first && (type !== 'ftyp' || declared > FTYP_MAX)) fail();
        first = false;
        if (type === 'meta' || type === 'moov') described = true;
        if (declared !== 0 && declared < headLength) fail();
        buf = head.subarray(headLength);
        if (type === 'meta') {
          if (declared === 0 || declared > META_MAX) fail();
          state = { at: 'meta', parts: [head.subarray(0, headLength)], have: headLength, size: declared, headLength };
          continue;
        }
        emit(head.subarray(0, headLength), push);
        // Size 0: the box runs to the end of the file.
        state = { at: 'body', left: declared === 0 ? Number.POSITIVE_INFINITY : declared - headLength };
        if (state.left === 0) state = { at: 'head', head: Buffer.alloc(0) };
        continue;
      }
      if (state.at === 'meta') {
        const s = state;
        const take = Math.min(s.size - s.have, buf.length);
        s.parts.push(buf.subarray(0, take));
        s.have += take;
        buf = buf.subarray(take);
        if (s.have < s.size) return;
        const meta = Buffer.concat(s.parts);
        try {
          scrubs = [...scrubs.filter((x) => x.end > pos), ...scrubsOf(meta, pos, s.headLength)];
        } catch (err) {
          if (err instanceof Broken || err instanceof RangeError) fail();
          throw err;
        }
        emit(meta, push);
        state = { at: 'head', head: Buffer.alloc(0) };
        continue;
      }
      const s = state;
      const take = Math.min(s.left, buf.length);
      emit(buf.subarray(0, take), push);
      buf = buf.subarray(take);
      state = s.left - take > 0 ? { at: 'body', left: s.left - take } : { at: 'head', head: Buffer.alloc(0) };
    }
  }

  return {
    write,
    end() {
      // Cut inside the ftyp, `meta` or a box header: nothing of its metadata went, but the file is broken.
      if (first || state.at === 'meta' || (state.at === 'head' && state.head.length > 0)) fail();
      // A box that claims more than the file holds: its size is wrong, so where the boxes after it
      // (and their metadata) begin is unknown. No meta at all: nothing says where the metadata is.
      if ((state.at === 'body' && Number.isFinite(state.left)) || !described) fail();
    },
  };
}
