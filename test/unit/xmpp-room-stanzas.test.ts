/**
 * main/xmpp/room-stanzas.ts (issue 18): the room message we send, and the readers for what a room
 * sends. The receive check rests on the occupant's real JID and the member list, so the readers
 * must refuse what is not plainly a room's occupant presence or groupchat message.
 */
import { xml } from '@xmpp/client';
import { describe, expect, it } from 'vitest';
import {
  createOccupantMap,
  MUC_NS,
  readAffiliationList,
  readOccupantPresence,
  readRoomArchiveResult,
  readRoomMessage,
  roomMessageStanza,
} from '../../main/xmpp/room-stanzas';
import { FALLBACK_BODY, NS } from '../../main/xmpp/stanzas';

const ROOM = 'care-team@rooms.clinic.test';

const presence = (from: string, items: Record<string, string>[], codes: string[] = [], type?: string) =>
  xml(
    'presence',
    type ? { from, type } : { from },
    xml(
      'x',
      { xmlns: MUC_NS.user },
      ...items.map((i) => xml('item', i)),
      ...codes.map((code) => xml('status', { code })),
    ),
  );

const groupchat = (from: string, extra: ReturnType<typeof xml>[] = [], type = 'groupchat') =>
  xml('message', { from, type }, xml('openpgp', { xmlns: NS.ox }, 'QUJD'), ...extra);

describe('room stanzas', () => {
  it('sends the OX envelope as groupchat to the bare room, archived, without a receipt request', () => {
    const el = roomMessageStanza(`${ROOM}/Nick`, 'id-1', 'QUJD');
    expect(el.attrs).toMatchObject({ to: ROOM, type: 'groupchat', id: 'id-1' });
    expect(el.getChildText('openpgp', NS.ox)).toBe('QUJD');
    expect(el.getChild('store', NS.hints)).toBeTruthy();
    expect(el.getChild('encryption', NS.eme)?.attrs.namespace).toBe(NS.ox);
    expect(el.getChildText('body')).toBe(FALLBACK_BODY);
    expect(el.getChild('origin-id', NS.sid)?.attrs.id).toBe('id-1');
    expect(el.getChild('request', NS.receipts)).toBeUndefined();
  });

  it("reads an occupant's real JID, affiliation and status codes from the room's presence", () => {
    const p = readOccupantPresence(
      presence(
        `${ROOM}/Dr Paul`,
        [{ jid: 'Paul@Clinic.test/ws1', affiliation: 'member', role: 'participant' }],
        ['110', '100'],
      ),
    );
    expect(p).toEqual({
      room: ROOM,
      nick: 'Dr Paul',
      realJid: 'paul@clinic.test',
      affiliation: 'member',
      self: true,
      gone: false,
      codes: ['110', '100'],
    });
    const removed = readOccupantPresence(
      presence(`${ROOM}/Nina`, [{ jid: 'nina@clinic.test/x', affiliation: 'none' }], ['321'], 'unavailable'),
    );
    expect(removed).toMatchObject({ gone: true, affiliation: 'none', codes: ['321'] });
  });

  it('gives no real JID when the room gave none, or two, or a bad one; ignores non-room presences', () => {
    expect(readOccupantPresence(presence(`${ROOM}/Anon`, [{ affiliation: 'member' }]))?.realJid).toBeNull();
    expect(
      readOccupantPresence(presence(`${ROOM}/Two`, [{ jid: 'a@clinic.test' }, { jid: 'b@clinic.test' }]))?.realJid,
    ).toBeNull();
    expect(readOccupantPresence(presence(`${ROOM}/Bad`, [{ jid: 'not a jid' }]))?.realJid).toBeNull();
    expect(readOccupantPresence(presence(ROOM, [{ jid: 'a@clinic.test' }]))).toBeNull();
    expect(readOccupantPresence(presence(`${ROOM}/E`, [{ jid: 'a@clinic.test' }], [], 'error'))).toBeNull();
    expect(readOccupantPresence(xml('presence', { from: `${ROOM}/NoMuc` }))).toBeNull();
  });

  it('reads a groupchat OX message from an occupant; nothing else', () => {
    const ok = readRoomMessage(
      groupchat(`${ROOM}/Rita`, [
        xml('origin-id', { xmlns: NS.sid, id: 'o-1' }),
        xml('stanza-id', { xmlns: NS.sid, by: 'elsewhere@clinic.test', id: 'forged' }),
        xml('stanza-id', { xmlns: NS.sid, by: ROOM, id: 's-1' }),
      ]),
    );
    expect(ok).toEqual({ room: ROOM, nick: 'Rita', base64: 'QUJD', originId: 'o-1', stanzaId: 's-1' });
    // The room itself (no nick), a private message through the room, plaintext, two payloads.
    expect(readRoomMessage(groupchat(ROOM))).toBeNull();
    expect(readRoomMessage(groupchat(`${ROOM}/Rita`, [], 'chat'))).toBeNull();
    expect(
      readRoomMessage(xml('message', { from: `${ROOM}/Rita`, type: 'groupchat' }, xml('body', {}, 'x'))),
    ).toBeNull();
    expect(readRoomMessage(groupchat(`${ROOM}/Rita`, [xml('openpgp', { xmlns: NS.ox }, 'REVG')]))).toBeNull();
    expect(
      readRoomMessage(groupchat(`${ROOM}/Rita`, [xml('origin-id', { xmlns: NS.sid, id: 'x'.repeat(129) })]))?.originId,
    ).toBeNull();
  });

  it("reads our room archive query's results: the archived real JID and stamp, only from the room itself", () => {
    const archived = (from: string, queryid: string, items: Record<string, string>[]) =>
      xml(
        'message',
        { from },
        xml(
          'result',
          { xmlns: NS.mam, queryid, id: 'a-1' },
          xml(
            'forwarded',
            { xmlns: NS.forward },
            xml('delay', { xmlns: NS.delay, stamp: '2026-11-28T10:00:00Z' }),
            groupchat(`${ROOM}/Nina`, [xml('x', { xmlns: MUC_NS.user }, ...items.map((i) => xml('item', i)))]),
          ),
        ),
      );
    const ok = readRoomArchiveResult(archived(ROOM, 'q1', [{ jid: 'nina@clinic.test' }]), ROOM, 'q1');
    expect(ok).toMatchObject({ nick: 'Nina', realJid: 'nina@clinic.test', archiveId: 'a-1', base64: 'QUJD' });
    expect(ok?.stamp?.toISOString()).toBe('2026-11-28T10:00:00.000Z');
    // Not our query, not from the room, a forwarded message of another room: not a result of ours.
    expect(readRoomArchiveResult(archived(ROOM, 'other', [{ jid: 'nina@clinic.test' }]), ROOM, 'q1')).toBeNull();
    expect(
      readRoomArchiveResult(archived(`${ROOM}/Mallory`, 'q1', [{ jid: 'nina@clinic.test' }]), ROOM, 'q1'),
    ).toBeNull();
    expect(
      readRoomArchiveResult(archived('other@rooms.clinic.test', 'q1', []), 'other@rooms.clinic.test', 'q1'),
    ).toBeNull();
    // No single real JID: none.
    expect(readRoomArchiveResult(archived(ROOM, 'q1', []), ROOM, 'q1')?.realJid).toBeNull();
    expect(
      readRoomArchiveResult(archived(ROOM, 'q1', [{ jid: 'nina@clinic.test' }, { jid: 'eve@clinic.test' }]), ROOM, 'q1')
        ?.realJid,
    ).toBeNull();
  });

  it('reads an affiliation list, skipping items that are not a bare JID or an affiliation', () => {
    const result = xml(
      'iq',
      { type: 'result' },
      xml(
        'query',
        { xmlns: MUC_NS.admin },
        xml('item', { jid: 'Rita@clinic.test', affiliation: 'member' }),
        xml('item', { jid: 'rooms.clinic.test', affiliation: 'member' }),
        xml('item', { jid: 'paul@clinic.test', affiliation: 'overlord' }),
        xml('item', { affiliation: 'member' }),
      ),
    );
    expect(readAffiliationList(result)).toEqual([{ jid: 'rita@clinic.test', affiliation: 'member' }]);
  });

  it('maps nicks to real JIDs until the occupant leaves', () => {
    const map = createOccupantMap();
    const join = readOccupantPresence(presence(`${ROOM}/Nina`, [{ jid: 'nina@clinic.test/w' }]))!;
    map.apply(join);
    expect(map.realJidOf(ROOM, 'Nina')).toBe('nina@clinic.test');
    expect(map.realJidOf('other@rooms.clinic.test', 'Nina')).toBeNull();
    map.apply({ ...join, gone: true });
    expect(map.realJidOf(ROOM, 'Nina')).toBeNull();
  });
});
