/**
 * The "your room list changed" cue (issue 18 §1; main/xmpp/room-list-notice.ts): taken only as a
 * headline carrying its element from a room of a service under our own domain, never from a
 * colleague, another domain or the domain itself. Its effect (a signed-in workstation joins a room
 * it was just added to) runs against a real Prosody in test/integration/admin-rooms.test.ts.
 */
import { xml } from '@xmpp/client';
import { describe, expect, it } from 'vitest';
import { isRoomListNotice, NS_ROOM_LIST_NOTICE } from '../../main/xmpp/room-list-notice';

const ME = 'carol@clinic.test';
const notice = (from: string, type = 'headline', ns = NS_ROOM_LIST_NOTICE) =>
  xml('message', { from, to: ME, type }, xml('x', { xmlns: ns }));

describe('room list notice', () => {
  it('is taken from a room of one of our own services', () => {
    expect(isRoomListNotice(notice('ward-1@rooms.clinic.test'), ME)).toBe(true);
    expect(isRoomListNotice(notice('Ward-1@Rooms.Clinic.Test/x'), ME)).toBe(true);
  });

  it('is not taken from a colleague, another domain, the service or the domain itself, nor in another shape', () => {
    for (const from of [
      'bob@clinic.test',
      'ward-1@rooms.evil.test',
      'ward-1@rooms.clinic.test.evil',
      'rooms.clinic.test',
      'clinic.test',
      'x@notclinic.test',
    ])
      expect(isRoomListNotice(notice(from), ME), from).toBe(false);
    expect(isRoomListNotice(notice('ward-1@rooms.clinic.test', 'chat'), ME)).toBe(false);
    expect(isRoomListNotice(notice('ward-1@rooms.clinic.test', 'headline', 'urn:example:other'), ME)).toBe(false);
    expect(
      isRoomListNotice(
        xml('presence', { from: 'ward-1@rooms.clinic.test' }, xml('x', { xmlns: NS_ROOM_LIST_NOTICE })),
        ME,
      ),
    ).toBe(false);
  });
});
