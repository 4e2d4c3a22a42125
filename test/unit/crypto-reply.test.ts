/**
 * XEP-0461 replies inside the signed OX payload (issue 12 §6): what we build, and what we accept.
 * A reference we cannot use is ignored and the message kept whole; the fallback quote is cut only
 * when it is exactly the body's start.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { openSigncrypt, signcrypt } from '../../main/crypto/index';
import { buildSigncryptXml, fallbackQuote } from '../../main/crypto/signcrypt';
import { bodyXml, makeParties, openPayload, type Party } from '../support/crypto-fixtures';

const now = new Date('2026-11-28T10:00:00Z');
let alice: Party, bob: Party;

beforeAll(async () => {
  [alice, bob] = await makeParties('alice@clinic.test', 'bob@clinic.test');
});

/** The checks on a plaintext <signcrypt/> as Bob receives it. */
const open = (payload: string) => openPayload(payload, now);
const body = bodyXml;
const reply = (attrs: string) => `<reply xmlns='urn:xmpp:reply:0' ${attrs}/>`;
const fb = (end: number | string, start: number | string = 0) =>
  `<fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:reply:0'><body start='${start}' end='${end}'/></fallback>`;

describe('XEP-0461 reply in the OX payload', () => {
  it('round-trips reference and quote through sign + encrypt; the receiver sees the body without the quote', async () => {
    const b64 = await signcrypt({
      identity: alice.identity,
      recipients: [bob.contact],
      to: 'bob@clinic.test',
      body: 'Yes, room 4.',
      now,
      reply: { to: 'bob@clinic.test', id: 'origin-123', quote: 'Which room?\nThe big one' },
    });
    const out = await openSigncrypt({
      identity: bob.identity,
      senderKey: alice.contact,
      base64: b64,
      ourJid: 'bob@clinic.test',
      now,
    });
    expect(out.body).toBe('Yes, room 4.');
    expect(out.replyTo).toEqual({ to: 'bob@clinic.test', id: 'origin-123' });
  });

  it('writes the reply and a fallback range in code points that covers exactly the "> " quote', () => {
    const xml = buildSigncryptXml(['bob@clinic.test'], 'ok', now, { to: 'bob@clinic.test', id: 'o1', quote: 'é😀' });
    const quote = fallbackQuote('é😀');
    expect(quote).toBe('> é😀\n');
    expect(xml).toContain(`<reply xmlns='urn:xmpp:reply:0' to='bob@clinic.test' id='o1'/>`);
    // 5 code points ("> ", é, 😀, newline), though 6 UTF-16 units.
    expect(xml).toContain(`<body start='0' end='5'/>`);
    expect(xml).toContain(`<body xmlns='jabber:client'>&gt; é😀\nok</body>`);
  });

  it('a message without a reply has replyTo null and its body untouched', () => {
    expect(open(body('&gt; not a quote'))).toMatchObject({ body: '> not a quote', replyTo: null });
  });

  it('cuts the fallback by code points, not UTF-16 units', () => {
    const out = open(reply(`to='alice@clinic.test' id='o1'`) + fb(5) + body('&gt; é😀\nok'));
    expect(out).toMatchObject({ body: 'ok', replyTo: { to: 'alice@clinic.test', id: 'o1' } });
  });

  it('a reply without a fallback keeps its whole body', () => {
    expect(open(reply(`to='alice@clinic.test' id='o1'`) + body('hello'))).toMatchObject({
      body: 'hello',
      replyTo: { id: 'o1' },
    });
  });

  it.each([
    ['no id', reply(`to='alice@clinic.test'`)],
    ['an empty id', reply(`to='alice@clinic.test' id=''`)],
    ['an id longer than any origin-id', reply(`to='alice@clinic.test' id='${'a'.repeat(129)}'`)],
    ['no author', reply(`id='o1'`)],
    ['an author that is no JID', reply(`to='not a jid' id='o1'`)],
    ['two references', reply(`to='alice@clinic.test' id='o1'`) + reply(`to='alice@clinic.test' id='o2'`)],
  ])('ignores a reference with %s and keeps the whole body (the quote too)', (_name, ref) => {
    expect(open(ref + fb(4) + body('&gt; q\nok'))).toMatchObject({ body: '> q\nok', replyTo: null });
  });

  it.each([
    ['past the end', fb(99)],
    ['not a number', fb('x')],
    ['not starting at 0', fb(4, 1)],
    ['zero length', fb(0)],
    [
      'for something else',
      `<fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:other'><body start='0' end='4'/></fallback>`,
    ],
  ])('keeps the whole body when the fallback range is %s', (_name, range) => {
    expect(open(reply(`to='alice@clinic.test' id='o1'`) + range + body('&gt; q\nok'))).toMatchObject({
      body: '> q\nok',
      replyTo: { id: 'o1' },
    });
  });

  it('refuses to build a reply without an id', () => {
    expect(() =>
      buildSigncryptXml(['bob@clinic.test'], 'x', now, { to: 'bob@clinic.test', id: '', quote: '' }),
    ).toThrow(RangeError);
  });
});
