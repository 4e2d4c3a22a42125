/**
 * @mentions in care-team rooms (issue 18 §4): the pure parts. Which ranges the composer's text
 * carries, what a message may carry of them (common/mentions.ts); the XEP-0372 references inside
 * the signed payload and what a receiver keeps of hostile ones (main/crypto/mentions.ts); a send
 * to a room drops non-members, a receive drops those who were not members then (real keys).
 */
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  cleanMentions,
  codePoints,
  matchMembers,
  MAX_MENTIONS,
  mentionQuery,
  mentionRanges,
  toUtf16,
} from '../../common/mentions';
import { openRoomMessage, signcryptForRoom } from '../../main/crypto/room-message';
import { buildSigncryptXml, checkSigncryptPlaintext, defaultOxLimits } from '../../main/crypto/signcrypt';
import { bodyXml, makeParties, openPayload, type Party } from '../support/crypto-fixtures';

const DANA = 'dana@clinic.test';
const SAM = 'sam@clinic.test';
const now = new Date('2026-11-28T10:00:00Z');
const ref = (uri: string, begin: string | number, end: string | number, type = 'mention') =>
  `<reference xmlns='urn:xmpp:reference:0' type='${type}' uri='${uri}' begin='${begin}' end='${end}'/>`;
/** The text a range covers. */
const cut = (text: string, r: { begin: number; end: number }) =>
  text.slice(toUtf16(text, r.begin), toUtf16(text, r.end));

describe('the ranges the composer sends', () => {
  it('finds each inserted "@Name" as the text is at send time, in code points', () => {
    const text = '🩺 @Dana Ruiz and @Sam, see @Dana Ruiz';
    const r = mentionRanges(text, [
      { jid: DANA, label: '@Dana Ruiz' },
      { jid: SAM, label: '@Sam' },
    ]);
    expect(r).toEqual([
      { jid: DANA, begin: 2, end: 12 },
      { jid: SAM, begin: 17, end: 21 },
      { jid: DANA, begin: 27, end: 37 },
    ]);
    // The emoji is one code point (two UTF-16 units): the ranges still cover the names.
    expect(r.map((m) => cut(text, m))).toEqual(['@Dana Ruiz', '@Sam', '@Dana Ruiz']);
    expect(codePoints(text)).toBe(37);
  });

  it('does not count a name inside a longer word, a deleted name, or a shorter label inside a longer one', () => {
    expect(mentionRanges('@Samantha is in', [{ jid: SAM, label: '@Sam' }])).toEqual([]);
    expect(mentionRanges('nobody now', [{ jid: DANA, label: '@Dana Ruiz' }])).toEqual([]);
    const both = mentionRanges('@Sam Lee here', [
      { jid: SAM, label: '@Sam' },
      { jid: DANA, label: '@Sam Lee' },
    ]);
    expect(both).toEqual([{ jid: DANA, begin: 0, end: 8 }]);
  });

  it('offers the members whose name or address starts with what follows "@"', () => {
    expect(mentionQuery('ask @Da', 7)).toEqual({ start: 4, query: 'Da' });
    expect(mentionQuery('@', 1)).toEqual({ start: 0, query: '' });
    expect(mentionQuery('mail bob@clinic', 15)).toBeNull(); // an address, not a mention
    expect(mentionQuery('@Dana\nnext', 10)).toBeNull();
    const members = [
      { jid: DANA, name: 'Dana Ruiz' },
      { jid: SAM, name: 'Sam Lee' },
    ];
    expect(matchMembers(members, 'ru').map((m) => m.jid)).toEqual([DANA]);
    expect(matchMembers(members, 'sa').map((m) => m.jid)).toEqual([SAM]);
    expect(matchMembers(members, '')).toHaveLength(2);
    expect(matchMembers(members, 'Sam Lee')).toHaveLength(1);
    expect(matchMembers(members, 'Sam Lee ')).toEqual([]); // inserted already: the list closes
  });
});

describe('what a message may carry', () => {
  it('drops forged ranges and non-members, keeps the rest; never more than the maximum', () => {
    const text = '@Dana and @Sam';
    const kept = cleanMentions(
      text,
      [
        { jid: DANA, begin: 0, end: 5 },
        { jid: SAM, begin: 10, end: 14 },
        { jid: SAM, begin: 3, end: 8 }, // overlaps Dana's
        { jid: DANA, begin: 12, end: 99 }, // past the end
        { jid: DANA, begin: 5, end: 5 }, // empty
        { jid: DANA, begin: -1, end: 2 },
        { jid: DANA, begin: 1.5, end: 3 },
        { jid: 'not a jid', begin: 6, end: 9 },
        { jid: 'eve@clinic.test', begin: 6, end: 9 }, // not a member
      ],
      (jid) => jid === DANA || jid === SAM,
    );
    expect(kept).toEqual([
      { jid: DANA, begin: 0, end: 5 },
      { jid: SAM, begin: 10, end: 14 },
    ]);
    const many = Array.from({ length: MAX_MENTIONS + 5 }, (_, i) => ({ jid: DANA, begin: i, end: i + 1 }));
    expect(cleanMentions('x'.repeat(40), many)).toHaveLength(MAX_MENTIONS);
  });
});

describe('mentions inside the signed payload (XEP-0372 references)', () => {
  it('round-trips through the payload, offset past a reply’s quote', () => {
    const xml = buildSigncryptXml(
      ['room@rooms.clinic.test'],
      '@Dana please',
      now,
      { to: SAM, id: 'o-1', quote: 'é😀' },
      false,
      undefined,
      undefined,
      [{ jid: DANA, begin: 0, end: 5 }],
    );
    // In <body/>, the quote "> é😀\n" (5 code points) comes first.
    expect(xml).toContain(`uri='xmpp:${DANA}' begin='5' end='10'`);
    const opened = checkSigncryptPlaintext(new TextEncoder().encode(xml), {
      ourJid: 'room@rooms.clinic.test',
      now,
      limits: defaultOxLimits,
      senderFingerprint: 'F'.repeat(40),
    });
    expect(opened.body).toBe('@Dana please');
    expect(opened.mentions).toEqual([{ jid: DANA, begin: 0, end: 5 }]);
  });

  it('drops hostile references and keeps the message', () => {
    const body = '@Dana, call @Sam';
    const opened = openPayload(
      bodyXml(body) +
        ref(`xmpp:${DANA}`, 0, 5) +
        ref(`xmpp:${SAM}`, 12, 16, 'data') + // another type
        ref(`xmpp:${SAM}`, 12, 99) + // past the end
        ref(`xmpp:${SAM}`, 16, 12) + // reversed
        ref(`xmpp:${SAM}`, 'x', 16) +
        ref(`xmpp:${SAM}`, -1, 3) +
        ref(`xmpp:${SAM}/desk`, 12, 16) + // a full JID
        ref(`https://evil.example/${SAM}`, 12, 16) +
        ref(`xmpp:${SAM}?message`, 12, 16) +
        ref(`xmpp:${DANA}`, 3, 8), // overlaps
      now,
    );
    expect(opened.body).toBe(body);
    expect(opened.mentions).toEqual([{ jid: DANA, begin: 0, end: 5 }]);
    // A range inside a reply's quote is not about this message.
    const quoted = openPayload(
      `<reply xmlns='urn:xmpp:reply:0' to='${SAM}' id='o-1'/>` +
        `<fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:reply:0'><body start='0' end='7'/></fallback>` +
        bodyXml('&gt; @Sam\nok @Dana') +
        ref(`xmpp:${SAM}`, 2, 6) +
        ref(`xmpp:${DANA}`, 10, 15),
      now,
    );
    expect(quoted.body).toBe('ok @Dana');
    expect(quoted.mentions).toEqual([{ jid: DANA, begin: 3, end: 8 }]);
  });
});

describe('mentions in a room message', () => {
  let rita: Party, dana: Party, sam: Party;
  const ROOM = 'care-team@rooms.clinic.test';
  beforeAll(async () => {
    [rita, dana, sam] = await makeParties('rita@clinic.test', DANA, SAM);
  });

  const open = (base64: string, members: string[]) =>
    openRoomMessage({
      identity: dana.identity,
      room: ROOM,
      senderJid: rita.jid,
      membersAtTime: new Set(members),
      senderKey: rita.contact,
      base64,
      now,
    });

  it('a send drops a mention of someone not on the member list', async () => {
    const out = await signcryptForRoom({
      identity: rita.identity,
      room: ROOM,
      members: [
        { jid: rita.jid, key: null },
        { jid: DANA, key: dana.contact },
      ],
      body: '@Dana and @Sam',
      mentions: [
        { jid: DANA, begin: 0, end: 5 },
        { jid: SAM, begin: 10, end: 14 }, // not a member: never sent
      ],
      now,
    });
    expect((await open(out.base64, [rita.jid, DANA, SAM])).mentions).toEqual([{ jid: DANA, begin: 0, end: 5 }]);
  });

  it('a receive drops a mention of someone who was not a member when it was stamped', async () => {
    const out = await signcryptForRoom({
      identity: rita.identity,
      room: ROOM,
      members: [
        { jid: rita.jid, key: null },
        { jid: DANA, key: dana.contact },
        { jid: SAM, key: sam.contact },
      ],
      body: '@Dana and @Sam',
      mentions: [
        { jid: DANA, begin: 0, end: 5 },
        { jid: SAM, begin: 10, end: 14 },
      ],
      now,
    });
    expect((await open(out.base64, [rita.jid, DANA, SAM])).mentions).toHaveLength(2);
    const opened = await open(out.base64, [rita.jid, DANA]);
    expect(opened.body).toBe('@Dana and @Sam');
    expect(opened.mentions).toEqual([{ jid: DANA, begin: 0, end: 5 }]);
  });

  it('a message with a file carries its caption’s mentions beside the file', async () => {
    const file = {
      mediaType: 'application/pdf',
      name: 'referral.pdf',
      size: 48_211,
      sha256: new Uint8Array(randomBytes(32)),
      key: new Uint8Array(randomBytes(32)),
      iv: new Uint8Array(randomBytes(12)),
      cipherSha256: new Uint8Array(randomBytes(32)),
      url: 'https://upload.clinic.test:5281/file_share/0f8a/5e1c.bin',
      thumbnail: null,
    };
    const out = await signcryptForRoom({
      identity: rita.identity,
      room: ROOM,
      members: [
        { jid: rita.jid, key: null },
        { jid: DANA, key: dana.contact },
      ],
      body: 'for @Dana',
      attachment: file,
      mentions: [{ jid: DANA, begin: 4, end: 9 }],
      now,
    });
    const opened = await open(out.base64, [rita.jid, DANA]);
    expect(opened.body).toBe('for @Dana');
    expect(opened.mentions).toEqual([{ jid: DANA, begin: 4, end: 9 }]);
    expect(opened.attachment).toMatchObject({ ok: true, file: { name: 'referral.pdf', url: file.url } });
  });
});
