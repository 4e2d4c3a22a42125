import { describe, expect, it } from 'vitest';
import { ROOM_LOCALPART_RE } from '../../main/xmpp/room-setup';
import { roomLocalpart, roomNameOf } from '../../main/xmpp/room-create';

describe('staff-created rooms: name and address (room-create.ts)', () => {
  it('a name is trimmed and its spaces folded; empty, over 64 characters or with control characters is refused', () => {
    expect(roomNameOf('  Ward 3   care team ')).toBe('Ward 3 care team');
    expect(roomNameOf('Zoë’s team')).toBe('Zoë’s team');
    expect(roomNameOf('x'.repeat(64))).toBe('x'.repeat(64));
    for (const bad of ['', '   ', 'x'.repeat(65), 'a\u0000b', 'a\u001bb', 'a\u007fb'])
      expect(roomNameOf(bad)).toBeNull();
  });

  it('the address is the name’s letters and digits plus a random part, always a valid room local part', () => {
    expect(roomLocalpart('Mrs Lee – care team', '0a1b2c3d')).toBe('mrs-lee-care-team-0a1b2c3d');
    expect(roomLocalpart('Zoë’s team', '0a1b2c3d')).toBe('zoe-s-team-0a1b2c3d');
    expect(roomLocalpart('心臓チーム', '0a1b2c3d')).toBe('room-0a1b2c3d');
    expect(roomLocalpart(`${'a'.repeat(39)} b`, '0a1b2c3d')).toBe(`${'a'.repeat(39)}-0a1b2c3d`);
    const a = roomLocalpart('Night shift');
    expect(a).toMatch(/^night-shift-[0-9a-f]{8}$/);
    expect(roomLocalpart('Night shift')).not.toBe(a);
    for (const name of ['--', 'x'.repeat(64), '...', 'A B C']) expect(roomLocalpart(name)).toMatch(ROOM_LOCALPART_RE);
  });
});
