/**
 * Fuzzing the stanza readers and builders of main/xmpp/stanzas.ts with @xmpp/client elements:
 * hostile attribute values, missing or repeated children, foreign and prefixed namespaces.
 * Readers never throw and agree with an independent, namespace-aware reading of the same XML
 * (our own parser in main/crypto/xml.ts); builders escape whatever they are given.
 */
import { xml, type XmlElement } from '@xmpp/client';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseXmppDateTime } from '../../main/crypto/time';
import { childElements, parseXml, textOf, type XmlElement as ParsedElement } from '../../main/crypto/xml';
import {
  bare,
  displayedMarker,
  mamQuery,
  NS,
  originIdOf,
  oxMessage,
  receiptFor,
  serverStampOf,
  stanzaIdOf,
} from '../../main/xmpp/stanzas';
import { fuzz, hostileWords, xmlSafeString } from './fuzz-support';

const OWN = 'bob@clinic.test';
const deep = { maxDepth: 64, maxNodes: 10_000 };
/** The same stanza as an independent, namespace-resolving reader sees it on the wire. */
const wire = (el: XmlElement): ParsedElement => parseXml(el.toString(), deep);

// ltx does not escape CR in attributes, and any XML reader turns a literal CR into LF (XML 1.0
// §2.11). Nothing we send or receive carries one in an attribute (JIDs, ids, base64), so the
// generators leave it out rather than assert a round trip XML itself does not promise.
const attrValue = fc.oneof(
  fc.constantFrom(
    '',
    OWN,
    'BOB@Clinic.Test/desk',
    'mallory@clinic.test',
    `'"<>&]]>`,
    'x'.repeat(128),
    'x'.repeat(129),
    ...hostileWords,
  ),
  xmlSafeString(40).map((s) => s.replace(/\r/g, '')),
);
const childNs = fc.constantFrom<string | undefined>(NS.sid, NS.delay, 'jabber:client', 'urn:xmpp:sid:1', '', undefined);
const childName = fc.constantFrom(
  'origin-id',
  'stanza-id',
  'delay',
  'body',
  'openpgp',
  ...hostileWords.filter((w) => /^[a-z_]+$/i.test(w)),
);

/** A child element: its own xmlns, or a prefix bound on itself or on the message. */
const child = fc.record({
  name: childName,
  ns: childNs,
  prefix: fc.constantFrom<'none' | 'own' | 'parent'>('none', 'own', 'parent'),
  attrs: fc.record({ id: attrValue, by: attrValue, stamp: attrValue }, { requiredKeys: [] }),
  text: fc.option(attrValue, { nil: undefined }),
});
type Child = typeof child extends fc.Arbitrary<infer T> ? T : never;

const messageArb = fc
  .record({
    ns: fc.constantFrom<string | undefined>('jabber:client', undefined),
    id: fc.option(attrValue, { nil: undefined }),
    children: fc.array(child, { maxLength: 6 }),
  })
  .map(({ ns, id, children }) => {
    const parentPrefix = children.some((c) => c.prefix === 'parent');
    const attrs: Record<string, string | undefined> = { xmlns: ns, id, ...(parentPrefix ? { 'xmlns:s': NS.sid } : {}) };
    return xml('message', attrs, ...children.map(buildChild));
  });

function buildChild(c: Child): XmlElement {
  const attrs: Record<string, string | undefined> = { ...c.attrs };
  if (c.prefix === 'parent') return xml(`s:${c.name}`, attrs, c.text);
  if (c.prefix === 'own' && c.ns) return xml(`p:${c.name}`, { ...attrs, 'xmlns:p': c.ns }, c.text);
  return xml(c.name, { ...attrs, xmlns: c.ns }, c.text);
}

describe('fuzz: stanza readers', () => {
  fuzz(
    'originIdOf: the origin-id (else the id attribute), only when 1–128 characters, as the wire says',
    fc.property(messageArb, (m) => {
      const w = wire(m);
      const id = childElements(w, 'origin-id', NS.sid)[0]?.attrs.id ?? w.attrs.id ?? null;
      expect(originIdOf(m)).toBe(id && id.length <= 128 ? id : null);
    }),
    { numRuns: 300 },
  );

  fuzz(
    'stanzaIdOf: only a stanza-id our own server stamped (by = our bare JID), never a forged one',
    fc.property(messageArb, (m) => {
      const stamped = childElements(wire(m), 'stanza-id', NS.sid).find((s) => bare(s.attrs.by) === OWN && s.attrs.id);
      expect(stanzaIdOf(m, OWN)).toBe(stamped?.attrs.id ?? null);
    }),
    { numRuns: 300 },
  );

  const stampText = fc.oneof(
    fc
      .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true })
      .chain((d) =>
        fc.constantFrom(
          d.toISOString(),
          d.toISOString().replace(/\.\d{3}Z$/, 'Z'),
          d.toISOString().replace('Z', '+00:00'),
          d.toISOString().slice(0, 19),
          d.toISOString().slice(0, 10),
        ),
      ),
    fc.constantFrom(
      '',
      '1',
      'March 7',
      'Tue, 01 Dec 2026 10:00:00 GMT',
      '2026-11-28 10:00:00Z',
      '2026-11-28T10:00:00+0530',
      '2026-11-28T10:00:00.123456789Z',
    ),
    attrValue,
  );
  const delayArb = fc.record({
    ns: fc.constantFrom(NS.delay, NS.delay, 'urn:xmpp:delay:1'),
    from: fc.constantFrom(
      undefined,
      '',
      'clinic.test',
      'Clinic.Test',
      OWN,
      'BOB@clinic.test',
      `${OWN}/desk`,
      'mallory@clinic.test',
      'clinic.test.evil',
      'evil.test',
    ),
    stamp: fc.option(stampText, { nil: undefined }),
  });
  const NOW = Date.parse('2060-01-01T00:00:00Z');
  fuzz(
    'serverStampOf: the first stamp our own server wrote, read as XEP-0082 UTC time (never guessed in local time), clamped to now',
    fc.property(fc.array(delayArb, { maxLength: 3 }), fc.boolean(), (delays, allowNoFrom) => {
      const el = xml('message', {}, ...delays.map((d) => xml('delay', { xmlns: d.ns, from: d.from, stamp: d.stamp })));
      const got = serverStampOf(el, { bare: OWN, now: NOW, allowNoFrom });
      const trusted = (from: string) => (from === '' ? allowNoFrom : from === 'clinic.test' || from === OWN);
      const first = childElements(wire(el), 'delay', NS.delay)
        .filter((d) => trusted((d.attrs.from ?? '').toLowerCase()))
        .map((d) => parseXmppDateTime(d.attrs.stamp ?? ''))
        .find((d) => d !== null);
      expect(got?.getTime()).toBe(first ? Math.min(first.getTime(), NOW) : undefined);
    }),
    { numRuns: 300 },
  );
});

describe('fuzz regressions (found by the properties above)', () => {
  it('serverStampOf ignores a server stamp that is not an XEP-0082 UTC DateTime', () => {
    const withStamp = (stamp: string) =>
      xml('message', {}, xml('delay', { xmlns: NS.delay, from: 'clinic.test', stamp }));
    const own = { bare: OWN, now: Date.parse('2060-01-01T00:00:00Z') };
    for (const stamp of [
      '2026-11-28',
      '2026-11-28T10:00:00',
      '2026-11-28 10:00:00Z',
      'Tue, 01 Dec 2026 10:00:00 GMT',
      '1',
    ]) {
      expect(serverStampOf(withStamp(stamp), own), stamp).toBeUndefined();
    }
    expect(serverStampOf(withStamp('2026-11-28T10:00:00.123456Z'), own)?.toISOString()).toBe(
      '2026-11-28T10:00:00.123Z',
    );
  });
});

describe('fuzz: stanza builders', () => {
  const value = attrValue.filter((s) => s.length > 0);
  fuzz(
    'every builder escapes hostile values: the wire carries exactly what it was given',
    fc.property(
      value,
      value,
      value,
      fc.option(value, { nil: null }),
      fc.integer({ min: 1, max: 1000 }),
      (to, id, base64, after, max) => {
        const ox = wire(oxMessage(to, id, base64));
        expect({ to: ox.attrs.to, id: ox.attrs.id, payload: textOf(childElements(ox, 'openpgp', NS.ox)[0]!) }).toEqual({
          to,
          id,
          payload: base64,
        });
        expect(childElements(ox, 'origin-id', NS.sid)[0]?.attrs.id).toBe(id);
        expect(childElements(wire(receiptFor(to, id)), 'received', NS.receipts)[0]?.attrs.id).toBe(id);
        expect(childElements(wire(displayedMarker(to, id)), 'displayed', NS.markers)[0]?.attrs.id).toBe(id);
        const query = childElements(wire(mamQuery(id, after, max)), 'query', NS.mam)[0]!;
        const set = childElements(query, 'set', NS.rsm)[0]!;
        expect({
          queryid: query.attrs.queryid,
          max: textOf(childElements(set, 'max')[0]!),
          after: childElements(set, 'after').map(textOf),
        }).toEqual({
          queryid: id,
          max: String(max),
          after: after === null ? [] : [after],
        });
      },
    ),
    { numRuns: 200 },
  );
});
