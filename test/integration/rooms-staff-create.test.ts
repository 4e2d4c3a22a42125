/**
 * Staff-created care-team rooms (issue 18 §1, within policy) over real Prosody servers: one that
 * lets its accounts create rooms (restrict_room_creation = "local", the launcher's roomCreation)
 * and one left at production's admins only. Workstations are real (store, keys, session code).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../common/result';
import { readRoomInfo, roomInfoQuery } from '../../main/xmpp/room-setup';
import { mucPerson, type MucPerson } from '../support/muc-support';
import { startProsody, type ProsodyServer } from '../support/prosody';
import { auditTypes, makeClient, messagesWith, waitFor, type TestClient } from '../support/xmpp-support';

const RITA = 'rita@clinic.test'; // receptionist: creates the room (policy on)
const PAUL = 'paul@clinic.test'; // physician: chosen as a member
const NINA = 'nina@clinic.test'; // nurse: her workstation's policy does not allow it
const ADMIN = 'it-admin@clinic.test';
const pw = (jid: string) => `${jid.split('@')[0]}-password-1`;
const NAMES: Record<string, string> = {
  [RITA]: 'Rita Reyes',
  [PAUL]: 'Paul Park',
  [NINA]: 'Nina Novak',
  [ADMIN]: 'IT',
};
const users = (jids: string[]) => jids.map((jid) => ({ jid, password: pw(jid), name: NAMES[jid]! }));
const refusal = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (e: unknown) =>
      e instanceof AppError ? { code: e.code, details: e.details ?? {} } : { code: String(e), details: {} },
  );

describe('staff-created care-team rooms, live', () => {
  let local: ProsodyServer; // restrict_room_creation = "local"
  let strict: ProsodyServer; // production: admins only
  let rita: TestClient;
  let paul: TestClient;
  let nina: TestClient;
  let ritaStrict: TestClient;
  let admin: MucPerson;

  beforeAll(async () => {
    [local, strict] = await Promise.all([
      startProsody({ users: users([RITA, PAUL, NINA, ADMIN]), admins: [ADMIN], roomCreation: 'local' }),
      startProsody({ users: users([RITA, PAUL]), admins: [] }),
    ]);
    const on = { policy: { staffMayCreateRooms: true } };
    [rita, paul, nina, ritaStrict] = await Promise.all([
      makeClient(local, RITA, pw(RITA), on),
      makeClient(local, PAUL, pw(PAUL)),
      makeClient(local, NINA, pw(NINA)),
      makeClient(strict, RITA, pw(RITA), on),
    ]);
    for (const c of [rita, paul, nina, ritaStrict]) await c.messaging.inspect.settled();
    for (const c of [rita, nina, ritaStrict]) await waitFor(`${c.jid}'s directory`, () => c.store.contacts.get(PAUL));
    admin = await mucPerson(local, ADMIN, pw(ADMIN));
  });
  afterAll(async () => {
    await admin?.stop();
    await Promise.all([rita, paul, nina, ritaStrict].filter(Boolean).map((c) => c.close()));
    await Promise.all([local, strict].filter(Boolean).map((s) => s.stop()));
  });

  it('a staff workstation creates a safe room; the chosen colleague joins it at once and gets a message', async () => {
    const { conversationId, room } = await rita.messaging.createRoom({ name: 'Mrs Lee – care team', members: [PAUL] });
    expect(room).toMatch(new RegExp(`^mrs-lee-care-team-[0-9a-f]{8}@${local.rooms.replace(/\./g, '\\.')}$`));
    expect(rita.store.rooms.get(room)).toMatchObject({ conversationId, name: 'Mrs Lee – care team' });
    expect(rita.store.rooms.get(room)?.joinedAt).not.toBeNull();
    // The room's list: rita its owner, paul a member (never the server's admin).
    expect(Object.fromEntries(rita.store.rooms.members(room).map((m) => [m.jid, m.affiliation]))).toEqual({
      [RITA]: 'owner',
      [PAUL]: 'member',
    });
    // The server says it keeps every safe property.
    expect(readRoomInfo(await admin.conn.iq(roomInfoQuery(room))).missing).toEqual([]);
    expect(auditTypes(rita).find((a) => a.type === 'room-membership' && a.detail.change === 'created')?.detail).toEqual(
      {
        room,
        jid: RITA,
        change: 'created',
        members: 1,
      },
    );
    // Paul's signed-in workstation joins by the server's notice, without a new sign-in.
    await waitFor('paul joins the new room', () => paul.store.rooms.get(room)?.joinedAt != null);
    const sent = await rita.messaging.send(conversationId, 'Her 10:30 moved to 11:00.');
    const got = await waitFor('paul gets the message', () =>
      messagesWith(paul, room).find((m) => m.originId === sent.originId && m.body),
    );
    expect(got.body).toBe('Her 10:30 moved to 11:00.');
    expect(got.senderJid ?? RITA).toBe(RITA);
  });

  it('the policy off: FORBIDDEN, and nothing is asked of the server', async () => {
    const before = nina.store.rooms.list().length;
    expect(await refusal(nina.messaging.createRoom({ name: 'Night shift', members: [PAUL] }))).toEqual({
      code: 'FORBIDDEN',
      details: { policy: 'staffMayCreateRooms' },
    });
    expect(nina.store.rooms.list()).toHaveLength(before);
    expect(auditTypes(nina).filter((a) => a.detail.change === 'created')).toEqual([]);
  });

  it('a bad name or a member outside the directory: BAD_INPUT before anything is sent', async () => {
    for (const name of ['   ', 'x'.repeat(65), 'a\u0007b'])
      expect((await refusal(rita.messaging.createRoom({ name, members: [PAUL] })))?.code).toBe('BAD_INPUT');
    expect((await refusal(rita.messaging.createRoom({ name: 'Ok', members: ['stranger@clinic.test'] })))?.code).toBe(
      'BAD_INPUT',
    );
  });

  it('a server left at admins only: a clear refusal, no room', async () => {
    const r = await refusal(ritaStrict.messaging.createRoom({ name: 'Front desk', members: [PAUL] }));
    expect(r).toEqual({ code: 'FORBIDDEN', details: { server: 'restrict_room_creation' } });
    expect(ritaStrict.store.rooms.list()).toEqual([]);
    expect(auditTypes(ritaStrict).filter((a) => a.detail.change === 'created')).toEqual([]);
  });
});
