/**
 * clinic-admin rooms' pure parts (issue 18 §1): sync's plan (who is added, removed, made owner),
 * the groups file read back as Prosody reads it, the safe configuration form and the disco#info
 * check, and ejabberd's room options. The commands themselves run against a real Prosody in
 * test/integration/admin-rooms.test.ts.
 */
import { xml } from '@xmpp/client';
import { describe, expect, it } from 'vitest';
import { planMembers } from '../../admin/commands/rooms';
import { missingSafeOptions, EJABBERD_SAFE_OPTIONS } from '../../admin/server/ejabberd-rooms';
import { parseGroupsFile, renderGroupsFile } from '../../admin/server/prosody';
import {
  ANNOUNCEMENT_FIELD,
  destroyRoomIq,
  readRoomInfo,
  ROOM_LOCALPART_RE,
  SAFE_ROOM_CONFIG,
  safeRoomConfig,
  stanzaErrorCondition,
} from '../../main/xmpp/room-setup';

const A = 'alice@clinic.test';
const B = 'bob@clinic.test';
const C = 'carol@clinic.test';
const D = 'dave@clinic.test';

describe('rooms sync: the plan', () => {
  it('a new room: the owners, then the group’s other members', () => {
    expect(planMembers(new Map(), [A, B, D], [A])).toEqual([
      { jid: A, affiliation: 'owner', was: 'none' },
      { jid: B, affiliation: 'member', was: 'none' },
      { jid: D, affiliation: 'member', was: 'none' },
    ]);
  });

  it('adds who joined the group, removes members who left it; owners, admins and outcasts stay', () => {
    const current = new Map([
      [A, 'owner'],
      [B, 'member'],
      [D, 'member'],
      [C, 'outcast'],
      ['it@clinic.test', 'admin'],
    ] as const);
    expect(planMembers(current, [B, C, 'erin@clinic.test'])).toEqual([
      { jid: 'erin@clinic.test', affiliation: 'member', was: 'none' },
      { jid: D, affiliation: 'none', was: 'member' },
    ]);
    expect(planMembers(current, [A, B, D, C])).toEqual([]);
  });

  it('--owner names exactly the owners: a former owner becomes a member in the group, else is removed', () => {
    const current = new Map([
      [A, 'owner'],
      [D, 'owner'],
      [B, 'member'],
    ] as const);
    expect(planMembers(current, [A, B], [B])).toEqual([
      { jid: A, affiliation: 'member', was: 'owner' },
      { jid: B, affiliation: 'owner', was: 'member' },
      { jid: D, affiliation: 'none', was: 'owner' },
    ]);
  });
});

describe('the groups file, read back', () => {
  it('gives back what provision wrote, public groups marked', () => {
    const groups = [
      { name: 'Physicians', public: true, members: [{ jid: A, name: 'Dr Alice Moreau' }] },
      {
        name: 'Ward 1',
        public: false,
        members: [
          { jid: A, name: 'Dr Alice Moreau' },
          { jid: B, name: 'Bob Tran' },
        ],
      },
    ];
    expect(parseGroupsFile(renderGroupsFile(groups))).toEqual(groups);
  });

  it('reads it as mod_groups does: bare JIDs, spaces, no header, duplicates, CRLF', () => {
    const text = `${C}=before any group\r\n[ Ward 2 ]\r\n  Bob@Clinic.Test = Bob Tran \r\n${D}\r\n${D}=again\r\n\r\n`;
    expect(parseGroupsFile(text)).toEqual([
      {
        name: ' Ward 2 ',
        public: false,
        members: [
          { jid: B, name: 'Bob Tran' },
          { jid: D, name: D },
        ],
      },
    ]);
  });
});

describe('the safe room configuration', () => {
  it('submits the safe values the server offers, and always the name and the description', () => {
    const offered = new Set(['muc#roomconfig_membersonly', 'muc#roomconfig_whois', 'muc#roomconfig_roomname']);
    const iq = safeRoomConfig('ward-1@rooms.clinic.test', offered, {
      name: 'Ward 1',
      description: 'Directory group: Ward 1',
    });
    const fields = Object.fromEntries(
      iq
        .getChild('query')!
        .getChild('x')!
        .getChildren('field')
        .map((f) => [f.attrs.var as string, f.getChildText('value')]),
    );
    expect(fields).toEqual({
      FORM_TYPE: 'http://jabber.org/protocol/muc#roomconfig',
      'muc#roomconfig_roomname': 'Ward 1',
      'muc#roomconfig_roomdesc': 'Directory group: Ward 1',
      'muc#roomconfig_membersonly': '1',
      'muc#roomconfig_whois': 'anyone',
    });
    expect(SAFE_ROOM_CONFIG['muc#roomconfig_publicroom']).toBe('0');
  });

  it('adds the announcement field only when asked for; a destroy request names the room', () => {
    const offered = new Set(['muc#roomconfig_membersonly', ANNOUNCEMENT_FIELD]);
    const announcementOf = (announcement?: boolean) =>
      safeRoomConfig('news@rooms.clinic.test', offered, { name: 'News', description: '', announcement })
        .getChild('query')!
        .getChild('x')!
        .getChildren('field')
        .find((f) => f.attrs.var === ANNOUNCEMENT_FIELD)
        ?.getChildText('value');
    expect(announcementOf(true)).toBe('1');
    expect(announcementOf(false)).toBeUndefined();
    expect(announcementOf(undefined)).toBeUndefined();
    const destroy = destroyRoomIq('news@rooms.clinic.test');
    expect(destroy.attrs).toEqual({ type: 'set', to: 'news@rooms.clinic.test' });
    expect(destroy.getChild('query', 'http://jabber.org/protocol/muc#owner')?.getChild('destroy')).toBeDefined();
  });

  it('reads a stanza error’s condition, and nothing from other failures', () => {
    const stanzaError = Object.assign(new Error('forbidden'), { name: 'StanzaError', condition: 'forbidden' });
    expect(stanzaErrorCondition(stanzaError)).toBe('forbidden');
    expect(stanzaErrorCondition(Object.assign(new Error('t'), { name: 'TimeoutError', condition: 'x' }))).toBeNull();
    expect(stanzaErrorCondition(null)).toBeNull();
  });

  it('names each safe property a room’s disco#info lacks; reads its name and description', () => {
    const info = (features: string[]) =>
      xml(
        'iq',
        { type: 'result' },
        xml(
          'query',
          { xmlns: 'http://jabber.org/protocol/disco#info' },
          xml('identity', { category: 'conference', type: 'text', name: 'Ward 1' }),
          ...features.map((f) => xml('feature', { var: f })),
          xml(
            'x',
            { xmlns: 'jabber:x:data', type: 'result' },
            xml('field', { var: 'FORM_TYPE' }, xml('value', {}, 'http://jabber.org/protocol/muc#roominfo')),
            xml('field', { var: 'muc#roominfo_description' }, xml('value', {}, 'Directory group: Ward 1')),
          ),
        ),
      );
    const safe = ['muc_membersonly', 'muc_nonanonymous', 'muc_persistent', 'muc_hidden', 'urn:xmpp:mam:2'];
    expect(readRoomInfo(info(safe))).toEqual({
      name: 'Ward 1',
      description: 'Directory group: Ward 1',
      missing: [],
    });
    expect(
      readRoomInfo(info(['muc_membersonly', 'muc_semianonymous', 'muc_persistent', 'muc_public'])).missing,
    ).toEqual(['non-anonymous', 'unlisted', 'archived']);
    // The workstation's rule (room-config.ts): a room that also says the weaker word is taken at it.
    expect(readRoomInfo(info([...safe, 'muc_open'])).missing).toEqual(['members-only']);
    expect(readRoomInfo(info([...safe, 'muc_anonymous'])).missing).toEqual(['non-anonymous']);
  });

  it('room names: lower-case letters, digits, . _ -, at most 64', () => {
    for (const ok of ['ward-1', 'a', 'front.desk_2', 'x'.repeat(64)]) expect(ROOM_LOCALPART_RE.test(ok), ok).toBe(true);
    for (const bad of ['Ward 1', 'ward 1', '-ward', 'ward-', 'a@b', 'a/b', '', 'x'.repeat(65), 'wärd'])
      expect(ROOM_LOCALPART_RE.test(bad), bad).toBe(false);
  });

  it('ejabberd: the same safe options, each missing one named', () => {
    expect(missingSafeOptions(new Map(Object.entries(EJABBERD_SAFE_OPTIONS)))).toEqual([]);
    expect(
      missingSafeOptions(
        new Map(Object.entries({ ...EJABBERD_SAFE_OPTIONS, members_only: 'false', anonymous: 'true' })),
      ),
    ).toEqual(['members-only', 'non-anonymous']);
  });
});
