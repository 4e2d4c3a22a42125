/**
 * XML property lists → JSON-like values for the policy schema (issue 14 item 2): pure code, tested
 * on every platform. macos.ts turns binary plists into this form with plutil first.
 * dict → object, string → text, integer/real → number, true/false → boolean, array → list.
 * date and data have no place in the policy: they are refused with the key that holds them.
 * The reader is main/crypto/xml.ts (no DTDs, no entities beyond the predefined five); only Apple's
 * standard plist DOCTYPE line, which plutil always writes, is removed before it.
 */
import { childElements, parseXml, textOf, XmlError, type XmlElement } from '../crypto/xml';

export type PlistValue = string | number | boolean | PlistValue[] | { [k: string]: PlistValue };

export class PlistError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlistError';
  }
}

const APPLE_DOCTYPE =
  /<!DOCTYPE\s+plist\s+PUBLIC\s+"-\/\/Apple\/\/DTD PLIST 1\.0\/\/EN"\s+"http:\/\/www\.apple\.com\/DTDs\/PropertyList-1\.0\.dtd"\s*>/;
const LIMITS = { maxDepth: 16, maxNodes: 20_000 };

function at(path: string): string {
  return path === '' ? 'the top level' : `"${path}"`;
}

function value(el: XmlElement, path: string): PlistValue {
  switch (el.name) {
    case 'string':
      return textOf(el);
    case 'integer':
    case 'real': {
      const text = textOf(el).trim();
      const n = Number(text);
      if (text === '' || !Number.isFinite(n)) throw new PlistError(`${at(path)} is not a number (${text})`);
      return n;
    }
    case 'true':
      return true;
    case 'false':
      return false;
    case 'array':
      return childElements(el).map((c, i) => value(c, `${path}[${i}]`));
    case 'dict':
      return dict(el, path);
    case 'date':
    case 'data':
      throw new PlistError(`${at(path)} holds a plist ${el.name}, which no policy setting takes`);
    default:
      throw new PlistError(`${at(path)} holds an unknown plist element <${el.name}>`);
  }
}

function dict(el: XmlElement, path: string): { [k: string]: PlistValue } {
  const out: { [k: string]: PlistValue } = {};
  const kids = childElements(el);
  for (let i = 0; i < kids.length; i += 2) {
    const k = kids[i] as XmlElement;
    const v = kids[i + 1];
    if (k.name !== 'key' || !v) throw new PlistError(`a dictionary in ${at(path)} is not <key>/value pairs`);
    const name = textOf(k);
    const sub = path === '' ? name : `${path}.${name}`;
    // Own property only: a key named __proto__ must stay data.
    Object.defineProperty(out, name, { value: value(v, sub), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** Parses XML plist text. Throws PlistError with the offending key, or for XML that is not a plist. */
export function parsePlistXml(text: string): PlistValue {
  let root: XmlElement;
  try {
    root = parseXml(text.replace(APPLE_DOCTYPE, ''), LIMITS);
  } catch (err) {
    if (err instanceof XmlError) throw new PlistError(`it is not a readable XML property list (${err.message})`);
    throw err;
  }
  if (root.name !== 'plist') throw new PlistError(`its root element is <${root.name}>, not <plist>`);
  const [top, ...rest] = childElements(root);
  if (!top || rest.length) throw new PlistError('a property list holds exactly one value');
  return value(top, '');
}
