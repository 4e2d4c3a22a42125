/**
 * A deliberately small XML reader for the decrypted <signcrypt/> plaintext (XEP-0373 §3.1).
 * The plaintext is attacker-controlled until every check has passed, so this reader:
 * refuses DTDs, entity declarations and processing instructions (no XXE, no billion laughs);
 * knows only the five predefined entities and character references;
 * has no recursion (explicit stack) and caps depth and node count;
 * resolves namespaces (default and prefixed) because the checks are namespace-qualified.
 * Anything it does not understand throws XmlError; callers map that to 'malformed'.
 */

export interface XmlElement {
  /** Local name, without prefix. */
  name: string;
  /** Resolved namespace URI ('' when none). */
  ns: string;
  /** Un-prefixed attributes plus `xml:lang`; namespace declarations are not included. */
  attrs: Record<string, string>;
  children: XmlNode[];
}
export type XmlNode = XmlElement | string;

export interface XmlLimits {
  maxDepth: number;
  maxNodes: number;
}
export const defaultXmlLimits: XmlLimits = { maxDepth: 16, maxNodes: 2_000 };

export class XmlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'XmlError';
  }
}

const XML_NS = 'http://www.w3.org/XML/1998/namespace';
const NAME_RE = /^[A-Za-z_][-A-Za-z0-9_.]*(?::[A-Za-z_][-A-Za-z0-9_.]*)?$/;
// XML 1.0 §2.2 Char, minus what a JS string cannot hold anyway.
// eslint-disable-next-line no-control-regex
const BAD_CHAR_RE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;

// CR is written as a reference: XML 1.0 §2.11 makes every reader turn a literal CR LF into LF,
// and a body must come back byte-for-byte.
export const escapeText = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#13;');
export const escapeAttr = (s: string): string => escapeText(s).replace(/"/g, '&quot;').replace(/'/g, '&apos;');

/** True if the string can be carried in XML 1.0 at all (no C0 controls other than tab/CR/LF). */
export const isXmlSafe = (s: string): boolean => !BAD_CHAR_RE.test(s);

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** XML 1.0 §2.11 end-of-line handling, then references. */
function decodeEntities(input: string): string {
  const raw = input.includes('\r') ? input.replace(/\r\n?/g, '\n') : input;
  if (!raw.includes('&')) return raw;
  return raw.replace(/&([^;&]{0,10});?/g, (whole, ref: string) => {
    if (!whole.endsWith(';')) throw new XmlError('unterminated entity reference');
    // Own keys only: `in` would also find Object.prototype's (&toString; became its source text).
    if (Object.hasOwn(PREDEFINED, ref)) return PREDEFINED[ref]!;
    const m = /^#(?:x([0-9A-Fa-f]{1,6})|([0-9]{1,7}))$/.exec(ref);
    if (!m) throw new XmlError('unknown entity');
    const cp = m[1] !== undefined ? parseInt(m[1], 16) : parseInt(m[2]!, 10);
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) throw new XmlError('bad character reference');
    const ch = String.fromCodePoint(cp);
    if (!isXmlSafe(ch)) throw new XmlError('character not allowed in XML');
    return ch;
  });
}

interface Frame {
  qname: string;
  el: XmlElement;
  scope: Map<string, string>;
}

export function parseXml(src: string, limits: XmlLimits = defaultXmlLimits): XmlElement {
  if (!isXmlSafe(src)) throw new XmlError('control character in document');
  let pos = src.charCodeAt(0) === 0xfeff ? 1 : 0;
  // XML declaration only at the very start; every other PI is refused (RFC 6120 §11.1).
  if (src.startsWith('<?xml', pos)) {
    const end = src.indexOf('?>', pos);
    if (end < 0) throw new XmlError('unterminated XML declaration');
    pos = end + 2;
  }
  const stack: Frame[] = [];
  let root: XmlElement | null = null;
  let nodes = 0;
  const rootScope = new Map<string, string>([['xml', XML_NS]]);

  while (pos < src.length) {
    const lt = src.indexOf('<', pos);
    const textEnd = lt < 0 ? src.length : lt;
    if (textEnd > pos) {
      const raw = src.slice(pos, textEnd);
      const top = stack[stack.length - 1];
      if (!top) {
        if (raw.trim() !== '') throw new XmlError('text outside the root element');
      } else {
        if (raw.includes(']]>')) throw new XmlError("']]>' in text");
        pushText(top.el, decodeEntities(raw));
      }
      pos = textEnd;
      continue;
    }
    // at '<'
    if (src.startsWith('<!--', pos)) {
      const end = src.indexOf('-->', pos + 4);
      if (end < 0) throw new XmlError('unterminated comment');
      pos = end + 3;
      continue;
    }
    if (src.startsWith('<![CDATA[', pos)) {
      const top = stack[stack.length - 1];
      if (!top) throw new XmlError('CDATA outside the root element');
      const end = src.indexOf(']]>', pos + 9);
      if (end < 0) throw new XmlError('unterminated CDATA');
      pushText(top.el, src.slice(pos + 9, end).replace(/\r\n?/g, '\n'));
      pos = end + 3;
      continue;
    }
    if (src.startsWith('<!', pos)) throw new XmlError('DTDs and declarations are not allowed');
    if (src.startsWith('<?', pos)) throw new XmlError('processing instructions are not allowed');
    const gt = findTagEnd(src, pos);
    if (src[pos + 1] === '/') {
      const qname = src.slice(pos + 2, gt).trim();
      const top = stack.pop();
      if (!top || top.qname !== qname) throw new XmlError('mismatched closing tag');
      pos = gt + 1;
      continue;
    }
    if (root && stack.length === 0) throw new XmlError('more than one root element');
    const selfClosing = src[gt - 1] === '/';
    const inner = src.slice(pos + 1, selfClosing ? gt - 1 : gt);
    const parent = stack[stack.length - 1];
    if (++nodes > limits.maxNodes) throw new XmlError('too many elements');
    if (stack.length + 1 > limits.maxDepth) throw new XmlError('nesting too deep');
    const { qname, el, scope } = parseStartTag(inner, parent ? parent.scope : rootScope);
    if (parent) parent.el.children.push(el);
    else root = el;
    if (!selfClosing) stack.push({ qname, el, scope });
    pos = gt + 1;
  }
  if (stack.length) throw new XmlError('unclosed element');
  if (!root) throw new XmlError('no root element');
  return root;
}

function pushText(el: XmlElement, text: string): void {
  const last = el.children[el.children.length - 1];
  if (typeof last === 'string') el.children[el.children.length - 1] = last + text;
  else el.children.push(text);
}

/** Index of the '>' ending the tag at `pos`, skipping quoted attribute values. */
function findTagEnd(src: string, pos: number): number {
  let quote: string | null = null;
  for (let i = pos + 1; i < src.length; i++) {
    const c = src[i];
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '<') throw new XmlError("'<' in attribute value");
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '>') return i;
    else if (c === '<') throw new XmlError("'<' inside a tag");
  }
  throw new XmlError('unterminated tag');
}

const ATTR_RE = /\s*([^\s=]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/y;

function parseStartTag(inner: string, parentScope: Map<string, string>) {
  const m = /^[^\s]+/.exec(inner);
  const qname = m ? m[0] : '';
  if (!NAME_RE.test(qname)) throw new XmlError('bad element name');
  const raw: [string, string][] = [];
  ATTR_RE.lastIndex = qname.length;
  while (ATTR_RE.lastIndex < inner.length) {
    if (/^\s*$/.test(inner.slice(ATTR_RE.lastIndex))) break;
    const a = ATTR_RE.exec(inner);
    if (!a) throw new XmlError('bad attribute syntax');
    const name = a[1]!;
    if (!NAME_RE.test(name)) throw new XmlError('bad attribute name');
    if (raw.some(([n]) => n === name)) throw new XmlError('duplicate attribute');
    raw.push([name, decodeEntities(a[2] ?? a[3] ?? '')]);
  }
  let scope = parentScope;
  for (const [name, value] of raw) {
    if (name === 'xmlns' || name.startsWith('xmlns:')) {
      if (scope === parentScope) scope = new Map(parentScope);
      scope.set(name === 'xmlns' ? '' : name.slice(6), value);
    }
  }
  // No prototype: an attribute named __proto__ is kept, and an absent `constructor` reads as undefined.
  const attrs: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [name, value] of raw) {
    if (name === 'xmlns' || name.startsWith('xmlns:')) continue;
    const colon = name.indexOf(':');
    if (colon < 0) attrs[name] = value;
    else if (name === 'xml:lang') attrs[name] = value;
    else if (!scope.has(name.slice(0, colon))) throw new XmlError('undeclared attribute prefix');
  }
  const colon = qname.indexOf(':');
  const prefix = colon < 0 ? '' : qname.slice(0, colon);
  const ns = scope.get(prefix);
  if (prefix && ns === undefined) throw new XmlError('undeclared element prefix');
  const el: XmlElement = { name: colon < 0 ? qname : qname.slice(colon + 1), ns: ns ?? '', attrs, children: [] };
  return { qname, el, scope };
}

/** Concatenated text children (not descendants). */
export const textOf = (el: XmlElement): string => el.children.filter((c) => typeof c === 'string').join('');

export const childElements = (el: XmlElement, name?: string, ns?: string): XmlElement[] =>
  el.children.filter(
    (c): c is XmlElement =>
      typeof c !== 'string' && (name === undefined || c.name === name) && (ns === undefined || c.ns === ns),
  );
