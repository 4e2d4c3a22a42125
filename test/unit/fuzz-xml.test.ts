/**
 * Fuzzing the reader for decrypted <signcrypt/> plaintext (main/crypto/xml.ts) and the
 * XEP-0082 time parser (main/crypto/time.ts). Both read attacker-controlled text after
 * decryption: any input gives a tree within the limits or XmlError (null for a time), never
 * another exception, and what we write comes back exactly.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatXmppDateTime, parseXmppDateTime } from '../../main/crypto/time';
import {
  defaultXmlLimits,
  escapeAttr,
  escapeText,
  isXmlSafe,
  parseXml,
  XmlError,
  type XmlElement,
  type XmlLimits,
  type XmlNode,
} from '../../main/crypto/xml';
import { fuzz, hostileWords, xmlSafeString } from './fuzz-support';

const NAME_RE = /^[A-Za-z_][-A-Za-z0-9_.]*$/;

/** parseXml's whole contract: a tree, or XmlError. Anything else propagates and fails the case. */
function parseOrNull(src: string, limits: XmlLimits = defaultXmlLimits): XmlElement | null {
  try {
    return parseXml(src, limits);
  } catch (err) {
    if (err instanceof XmlError) return null;
    throw err;
  }
}

/** A returned tree is within the limits and holds only names, strings and XML-safe text. */
function checkTree(root: XmlElement, limits: XmlLimits): void {
  let nodes = 0;
  const stack: [XmlElement, number][] = [[root, 1]];
  while (stack.length > 0) {
    const [el, depth] = stack.pop()!;
    nodes++;
    expect(depth).toBeLessThanOrEqual(limits.maxDepth);
    expect(el.name).toMatch(NAME_RE);
    expect(typeof el.ns).toBe('string');
    for (const v of Object.values(el.attrs)) expect(typeof v).toBe('string');
    for (const c of el.children) {
      if (typeof c === 'string') expect(isXmlSafe(c)).toBe(true);
      else stack.push([c, depth + 1]);
    }
  }
  expect(nodes).toBeLessThanOrEqual(limits.maxNodes);
}

// --- a generator of well-formed documents, with the tree each must parse to -----------------

interface Text {
  text: string;
  cdata: boolean;
}
interface Tree {
  name: string;
  ns: string;
  prefixed: boolean;
  attrs: [string, string][];
  children: (Tree | Text)[];
  quote: '"' | "'";
  space: string;
  comments: boolean;
}

const elementName = fc.oneof(
  fc.constantFrom('signcrypt', 'to', 'time', 'rpad', 'payload', 'body', '_', 'a.b-c'),
  fc.constantFrom(...hostileWords.filter((w) => NAME_RE.test(w))),
  fc.stringMatching(/^[A-Za-z_][-A-Za-z0-9_.]{0,6}$/),
);
const attrName = fc.oneof(elementName, fc.constant('xml:lang')).filter((n) => n !== 'xmlns');
const namespace = fc.oneof(fc.constantFrom('', 'urn:xmpp:openpgp:0', 'jabber:client', 'urn:x'), xmlSafeString(12));

const treeArb = fc.letrec<{ tree: Tree; child: Tree | Text }>((tie) => ({
  tree: fc.record({
    name: elementName,
    ns: namespace,
    prefixed: fc.boolean(),
    attrs: fc.uniqueArray(fc.tuple(attrName, xmlSafeString(16)), { selector: (a) => a[0], maxLength: 4 }),
    children: fc.array(tie('child'), { maxLength: 5, depthIdentifier: 'tree' }),
    quote: fc.constantFrom('"' as const, "'" as const),
    space: fc.constantFrom(' ', '\n\t ', '  '),
    comments: fc.boolean(),
  }),
  child: fc.oneof(
    { depthSize: 'small', depthIdentifier: 'tree', withCrossShrink: true },
    fc.record({ text: xmlSafeString(24), cdata: fc.boolean() }),
    tie('tree'),
  ),
}));

const isText = (c: Tree | Text): c is Text => 'text' in c;

function serialize(t: Tree, defaultNs: string): string {
  const qname = t.prefixed ? `p:${t.name}` : t.name;
  const q = t.quote;
  const attr = (name: string, value: string) => `${t.space}${name}=${q}${escapeAttr(value)}${q}`;
  let decl = '';
  let childNs = defaultNs;
  if (t.prefixed) decl = attr('xmlns:p', t.ns);
  else if (t.ns !== defaultNs) {
    decl = attr('xmlns', t.ns);
    childNs = t.ns;
  }
  const attrs = t.attrs.map(([n, v]) => attr(n, v)).join('');
  const kids = t.children
    .map((c) => {
      if (!isText(c)) return serialize(c, childNs);
      // CDATA cannot hold ']]>' and, like all text, has its CR LF turned into LF by the reader.
      if (c.cdata && !c.text.includes(']]>') && !c.text.includes('\r')) return `<![CDATA[${c.text}]]>`;
      return escapeText(c.text);
    })
    .join(t.comments ? '<!-- - < & -->' : '');
  return kids === '' ? `<${qname}${decl}${attrs}${t.space}/>` : `<${qname}${decl}${attrs}${t.space}>${kids}</${qname}>`;
}

function expected(t: Tree): XmlElement {
  const children: XmlNode[] = [];
  for (const c of t.children) {
    if (!isText(c)) children.push(expected(c));
    else if (c.text === '') continue;
    else if (typeof children.at(-1) === 'string')
      children[children.length - 1] = `${children.at(-1) as string}${c.text}`;
    else children.push(c.text);
  }
  // Object.fromEntries defines own properties, so an attribute named __proto__ is kept.
  return { name: t.name, ns: t.ns, attrs: Object.fromEntries(t.attrs), children };
}

/** Drops empty text nodes (an empty CDATA section) so the comparison is about content. */
function withoutEmptyText(el: XmlElement): XmlElement {
  return {
    ...el,
    attrs: { ...el.attrs },
    children: el.children.filter((c) => c !== '').map((c) => (typeof c === 'string' ? c : withoutEmptyText(c))),
  };
}

const deepLimits: XmlLimits = { maxDepth: 64, maxNodes: 10_000 };
const document = treeArb.tree.map((t) => serialize(t, ''));

// --- hostile input: token soup and mutated documents ------------------------------------------

const token = fc.constantFrom(
  '<',
  '>',
  '/',
  '</',
  '/>',
  '<a>',
  '</a>',
  '<a/>',
  '<p:a>',
  '="',
  "='",
  '"',
  "'",
  '=',
  ':',
  '&',
  ';',
  '&amp;',
  '&#',
  '&#x',
  '&#0;',
  '&#xD800;',
  '&#1114112;',
  '&toString;',
  '&__proto__;',
  '<!--',
  '-->',
  '<![CDATA[',
  ']]>',
  '<!DOCTYPE a [<!ENTITY e "x">]>',
  '<!ENTITY e SYSTEM "file:///etc/passwd">',
  '<?xml version="1.0"?>',
  '<?pi x?>',
  'xmlns',
  'xmlns:p="u"',
  'xml:lang',
  ' ',
  '\n',
  '\r',
  '\r\n',
  '\t',
  '\u0000',
  '\u0001',
  '\uFEFF',
  '\uD800',
  '\uFFFF',
  '😀',
);
const soup = fc
  .array(fc.oneof(token, fc.constantFrom(...hostileWords), fc.string({ unit: 'binary', maxLength: 4 })), {
    maxLength: 40,
  })
  .map((parts) => parts.join(''));

type Mutation = { at: number; del: number; insert: string };
const mutation: fc.Arbitrary<Mutation> = fc.record({
  at: fc.nat(),
  del: fc.nat({ max: 8 }),
  insert: fc.oneof(token, fc.string({ unit: 'binary', maxLength: 3 }), fc.constant('')),
});
const mutatedDocument = fc.tuple(document, fc.array(mutation, { minLength: 1, maxLength: 4 })).map(([doc, ms]) =>
  ms.reduce((s, m) => {
    const at = s.length === 0 ? 0 : m.at % (s.length + 1);
    return s.slice(0, at) + m.insert + s.slice(at + m.del);
  }, doc),
);

describe('fuzz: parseXml (decrypted signcrypt plaintext)', () => {
  fuzz(
    'any string gives a tree within the limits or XmlError',
    fc.property(
      fc.oneof(
        soup,
        soup.map((s) => `<r>${s}</r>`),
        mutatedDocument,
        fc.string({ unit: 'binary', maxLength: 200 }),
      ),
      fc.record({ maxDepth: fc.integer({ min: 1, max: 20 }), maxNodes: fc.integer({ min: 1, max: 60 }) }),
      (src, limits) => {
        const root = parseOrNull(src, limits);
        if (root) checkTree(root, limits);
      },
    ),
    { numRuns: 400 },
  );

  fuzz(
    'every well-formed document we can write parses back to the same tree',
    fc.property(treeArb.tree, (tree) => {
      const root = parseOrNull(serialize(tree, ''), deepLimits);
      expect(root && withoutEmptyText(root)).toEqual(expected(tree));
    }),
    { numRuns: 300 },
  );

  fuzz(
    'depth and element limits hold exactly, however deep the input',
    fc.property(
      fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1_000, max: 20_000 })),
      fc.integer({ min: 0, max: 60 }),
      fc.integer({ min: 1, max: 20 }),
      fc.integer({ min: 1, max: 80 }),
      (depth, width, maxDepth, maxNodes) => {
        const src = '<e>'.repeat(depth) + '<s/>'.repeat(width) + '</e>'.repeat(depth);
        const fits = depth + (width > 0 ? 1 : 0) <= maxDepth && depth + width <= maxNodes;
        expect(parseOrNull(src, { maxDepth, maxNodes }) !== null).toBe(fits);
      },
    ),
    { numRuns: 150 },
  );

  const predefined = new Map([
    ['lt', '<'],
    ['gt', '>'],
    ['amp', '&'],
    ['quot', '"'],
    ['apos', "'"],
  ]);
  fuzz(
    'only the five predefined entities are known, whatever the name',
    fc.property(
      fc.oneof(
        fc.constantFrom(...predefined.keys(), ...hostileWords, 'nbsp', 'copy', 'LT', 'Amp', 'e'),
        fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,8}$/),
      ),
      (name) => {
        const root = parseOrNull(`<a t="&${name};">&${name};</a>`);
        const want = predefined.get(name);
        if (want === undefined) expect(root).toBeNull();
        else expect(root && { t: root.attrs.t, text: root.children[0] }).toEqual({ t: want, text: want });
      },
    ),
    { numRuns: 200 },
  );

  const isXmlChar = (cp: number) =>
    cp === 0x9 ||
    cp === 0xa ||
    cp === 0xd ||
    (cp >= 0x20 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd) ||
    (cp >= 0x10000 && cp <= 0x10ffff);
  fuzz(
    'character references decode to exactly the allowed XML characters',
    fc.property(
      fc.oneof(fc.integer({ min: 0, max: 0x110010 }), fc.integer({ min: 0, max: 0x20 })),
      fc.boolean(),
      (cp, hex) => {
        const root = parseOrNull(`<a>${hex ? `&#x${cp.toString(16)};` : `&#${cp};`}</a>`);
        expect(root ? root.children : null).toEqual(isXmlChar(cp) ? [String.fromCodePoint(cp)] : null);
      },
    ),
    { numRuns: 200 },
  );

  fuzz(
    'a DTD, entity declaration or processing instruction is refused (only an XML declaration may open the document)',
    fc.property(
      document,
      document,
      fc.constantFrom(
        '<!DOCTYPE r>',
        '<!ENTITY e "x">',
        '<!ELEMENT r ANY>',
        '<?php x?>',
        '<?xml version="1.0"?>',
        '<!ATTLIST r a CDATA "x">',
      ),
      fc.boolean(),
      (a, b, decl, beforeRoot) => {
        const src = beforeRoot ? `${decl}<r>${a}${b}</r>` : `<r>${a}${decl}${b}</r>`;
        const xmlDeclFirst = beforeRoot && decl.startsWith('<?xml ');
        expect(parseOrNull(src, deepLimits) !== null).toBe(xmlDeclFirst);
      },
    ),
    { numRuns: 100 },
  );
});

// --- XEP-0082 time stamps ---------------------------------------------------------------------

const pad = (n: number, w: number) => String(n).padStart(w, '0');
const isLeap = (y: number) => y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
const daysIn = (y: number, mo: number) =>
  [31, isLeap(y) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1] ?? 0;

const stampParts = fc.record({
  y: fc.integer({ min: 0, max: 9999 }),
  mo: fc.integer({ min: 0, max: 13 }),
  d: fc.integer({ min: 0, max: 32 }),
  h: fc.integer({ min: 0, max: 24 }),
  mi: fc.integer({ min: 0, max: 60 }),
  s: fc.integer({ min: 0, max: 61 }),
  frac: fc.option(fc.stringMatching(/^\d{1,9}$/), { nil: undefined }),
  tz: fc.oneof(
    fc.constantFrom('Z', 'z'),
    fc.record({
      sign: fc.constantFrom('+', '-'),
      oh: fc.integer({ min: 0, max: 25 }),
      om: fc.integer({ min: 0, max: 60 }),
      colon: fc.constantFrom(':', '', 'hours'),
    }),
  ),
});
type StampParts = typeof stampParts extends fc.Arbitrary<infer T> ? T : never;

function writeStamp(p: StampParts): string {
  const tz =
    typeof p.tz === 'string'
      ? p.tz
      : p.tz.colon === 'hours'
        ? `${p.tz.sign}${pad(p.tz.oh, 2)}`
        : `${p.tz.sign}${pad(p.tz.oh, 2)}${p.tz.colon}${pad(p.tz.om, 2)}`;
  return `${pad(p.y, 4)}-${pad(p.mo, 2)}-${pad(p.d, 2)}T${pad(p.h, 2)}:${pad(p.mi, 2)}:${pad(p.s, 2)}${p.frac ? `.${p.frac}` : ''}${tz}`;
}

/** The instant a stamp names, computed from Date's field setters (which, unlike Date.UTC, keep years 0–99). */
function oracle(p: StampParts): number | null {
  const tzOk = typeof p.tz === 'string' || (p.tz.oh <= 23 && (p.tz.colon === 'hours' || p.tz.om <= 59));
  if (p.mo < 1 || p.mo > 12 || p.d < 1 || p.d > daysIn(p.y, p.mo) || p.h > 23 || p.mi > 59 || p.s > 60 || !tzOk)
    return null;
  const t = new Date(0);
  t.setUTCFullYear(p.y, p.mo - 1, p.d);
  t.setUTCHours(p.h, p.mi, Math.min(p.s, 59), p.frac ? Number(p.frac.padEnd(3, '0').slice(0, 3)) : 0);
  const offsetMin =
    typeof p.tz === 'string'
      ? 0
      : (p.tz.sign === '-' ? -1 : 1) * (p.tz.oh * 60 + (p.tz.colon === 'hours' ? 0 : p.tz.om));
  return t.getTime() - offsetMin * 60_000;
}

describe('fuzz: parseXmppDateTime', () => {
  fuzz(
    'any string gives a valid Date or null, never an exception or an Invalid Date',
    fc.property(
      fc.oneof(
        fc.string({ unit: 'binary', maxLength: 40 }),
        stampParts.map(writeStamp),
        fc.stringMatching(/^[\d:.TZ+-]{0,40}$/),
      ),
      (s) => {
        const d = parseXmppDateTime(s);
        if (d !== null) expect(Number.isNaN(d.getTime())).toBe(false);
      },
    ),
    { numRuns: 300 },
  );

  fuzz(
    'every field combination is read as the instant it names, or refused when a field is out of range',
    fc.property(stampParts, (p) => {
      expect(parseXmppDateTime(writeStamp(p))?.getTime() ?? null).toBe(oracle(p));
    }),
    { numRuns: 400 },
  );

  fuzz(
    'what formatXmppDateTime writes reads back to the same second, for every year 0000–9999',
    fc.property(
      fc.date({
        min: new Date('0000-01-01T00:00:00.000Z'),
        max: new Date('9999-12-31T23:59:59.999Z'),
        noInvalidDate: true,
      }),
      (d) => {
        expect(parseXmppDateTime(formatXmppDateTime(d))?.getTime()).toBe(Math.floor(d.getTime() / 1000) * 1000);
      },
    ),
    { numRuns: 200 },
  );
});

describe('fuzz regressions (found by the properties above)', () => {
  it('refuses entity names that are Object.prototype members (&toString; &__proto__;)', () => {
    for (const name of ['toString', '__proto__', 'valueOf', 'constructor'])
      expect(parseOrNull(`<a>&${name};</a>`)).toBeNull();
  });

  it('keeps an attribute named __proto__ as an ordinary attribute', () => {
    const root = parseXml(`<a __proto__="x" b="y"/>`);
    expect(Object.entries(root.attrs)).toEqual([
      ['__proto__', 'x'],
      ['b', 'y'],
    ]);
    expect(root.attrs.constructor).toBeUndefined();
  });

  it('reads a two-digit year as that year, not as 19xx', () => {
    expect(parseXmppDateTime('0050-03-01T00:00:00Z')?.toISOString()).toBe('0050-03-01T00:00:00.000Z');
  });
});
