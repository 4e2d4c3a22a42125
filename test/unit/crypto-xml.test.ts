import { describe, expect, it } from 'vitest';
import { formatXmppDateTime, parseXmppDateTime } from '../../main/crypto/index';
import { childElements, escapeAttr, escapeText, parseXml, textOf, XmlError } from '../../main/crypto/xml';

describe('safe XML reader for <signcrypt/> plaintext', () => {
  it('resolves default and prefixed namespaces', () => {
    const root = parseXml(
      `<?xml version='1.0'?><ox:signcrypt xmlns:ox='urn:xmpp:openpgp:0' xmlns='jabber:client'><ox:to jid='a@b'/><body xml:lang='en'>hi</body></ox:signcrypt>`,
    );
    expect(root).toMatchObject({ name: 'signcrypt', ns: 'urn:xmpp:openpgp:0' });
    expect(childElements(root, 'to', 'urn:xmpp:openpgp:0')[0]!.attrs.jid).toBe('a@b');
    const body = childElements(root, 'body', 'jabber:client')[0]!;
    expect(body.attrs['xml:lang']).toBe('en');
    expect(textOf(body)).toBe('hi');
  });

  it('decodes the predefined entities, character references and CDATA, and skips comments', () => {
    const root = parseXml(`<a t="&quot;&apos;&lt;">x &amp; &#60;&#x3e; <!-- no --><![CDATA[<raw & stuff>]]></a>`);
    expect(root.attrs.t).toBe(`"'<`);
    expect(textOf(root)).toBe('x & <> <raw & stuff>');
  });

  it('normalises literal line ends (XML 1.0 §2.11) but keeps a CR written as a reference', () => {
    expect(textOf(parseXml('<a>x\r\ny\rz</a>'))).toBe('x\ny\nz');
    expect(textOf(parseXml(`<a>${escapeText('x\r\ny')}</a>`))).toBe('x\r\ny');
  });

  it('round-trips escaped text and attributes', () => {
    const s = `<&>"' ]]> \u00e9`;
    const root = parseXml(`<a v='${escapeAttr(s)}'>${escapeText(s)}</a>`);
    expect(root.attrs.v).toBe(s);
    expect(textOf(root)).toBe(s);
  });

  it.each([
    ['DTD', `<!DOCTYPE a [<!ENTITY x 'y'>]><a>&x;</a>`],
    ['unknown entity', `<a>&x;</a>`],
    ['unterminated entity', `<a>&amp</a>`],
    ['processing instruction', `<a><?php x ?></a>`],
    ['mismatched tags', `<a><b></a></b>`],
    ['unclosed', `<a><b/>`],
    ['two roots', `<a/><b/>`],
    ['text outside root', `x<a/>`],
    ['duplicate attribute', `<a x='1' x='2'/>`],
    ['undeclared prefix', `<p:a/>`],
    ['control character', `<a>\u0001</a>`],
    ['NUL by reference', `<a>&#0;</a>`],
    ['lone surrogate by reference', `<a>&#xD800;</a>`],
    ['< in attribute', `<a x='<'/>`],
    ['empty', ``],
  ])('refuses %s', (_name, src) => {
    expect(() => parseXml(src)).toThrow(XmlError);
  });

  it('caps nesting depth and element count without recursion', () => {
    expect(() => parseXml('<a>'.repeat(17) + '</a>'.repeat(17))).toThrow(/too deep/);
    expect(() => parseXml('<a>'.repeat(100_000) + '</a>'.repeat(100_000))).toThrow(/too deep/);
    expect(() => parseXml(`<a>${'<b/>'.repeat(3_000)}</a>`)).toThrow(/too many/);
    expect(parseXml('<a>'.repeat(16) + '</a>'.repeat(16)).name).toBe('a');
  });
});

describe('XEP-0082 time stamps', () => {
  it('writes the canonical UTC form', () => {
    expect(formatXmppDateTime(new Date('2026-11-28T00:40:44.123Z'))).toBe('2026-11-28T00:40:44Z');
  });

  it.each([
    ['2026-11-28T00:40:44Z', '2026-11-28T00:40:44.000Z'],
    ['2026-11-28T00:40:44.5Z', '2026-11-28T00:40:44.500Z'],
    ['2026-11-28T01:40:44+01:00', '2026-11-28T00:40:44.000Z'],
    ['2026-11-28T00:40:44+0000', '2026-11-28T00:40:44.000Z'],
    ['2026-11-27T19:10:44-0530', '2026-11-28T00:40:44.000Z'],
  ])('reads %s leniently', (input, iso) => {
    expect(parseXmppDateTime(input)?.toISOString()).toBe(iso);
  });

  it.each(['', 'yesterday', '2026-11-28', '2026-02-30T00:00:00Z', '2026-11-28T25:00:00Z', '2026-11-28T00:40:44'])(
    'rejects %j',
    (input) => {
      expect(parseXmppDateTime(input)).toBeNull();
    },
  );
});
