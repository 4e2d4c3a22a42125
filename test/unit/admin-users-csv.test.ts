/**
 * clinic-admin provision's pure parts: the role → directory group names it writes must be the ones
 * the app reads back (main/xmpp/roles.ts; admin/ may not import it, so admin/roles.ts repeats them),
 * users.csv's checks, and the mod_groups file it renders.
 */
import { describe, expect, it } from 'vitest';
import { NO_ROLE_GROUP, ROLE_GROUPS } from '../../admin/roles';
import { renderGroupsFile } from '../../admin/server/prosody';
import { directoryGroups, parseUsersCsv } from '../../admin/users-csv';
import { role } from '../../common/contract/domain';
import { noRoleGroupName, roleFromGroups, roleGroupNames } from '../../main/xmpp/roles';

const DOMAINS = ['clinic.example'];
const parse = (text: string) => parseUsersCsv(text, 'users.csv', DOMAINS);
const refusal = (text: string): string => {
  try {
    parse(text);
  } catch (err) {
    expect((err as { exitCode?: number }).exitCode).toBe(2);
    return (err as Error).message;
  }
  throw new Error('accepted');
};

describe('admin/roles.ts', () => {
  it('writes exactly the group names the app reads roles from, for every role', () => {
    expect(ROLE_GROUPS).toEqual(roleGroupNames);
    expect(NO_ROLE_GROUP).toBe(noRoleGroupName);
    expect(Object.keys(ROLE_GROUPS).sort()).toEqual([...role.options].sort());
    for (const r of role.options) expect(roleFromGroups([ROLE_GROUPS[r]])).toBe(r);
  });
});

describe('users.csv', () => {
  it('reads CRLF lines, a BOM, comments, blank lines, upper-case addresses and roles, an optional team', () => {
    const people = parse(
      '\uFEFF# staff\r\nAlice@Clinic.example, Dr Alice Moreau ,Physician,Ward 1\r\n\r\nbob@clinic.example,Bob Tran,,\r\ncat@clinic.example,Cat,nurse\r\n',
    );
    expect(people).toEqual([
      { line: 2, jid: 'alice@clinic.example', name: 'Dr Alice Moreau', role: 'physician', team: 'Ward 1' },
      { line: 4, jid: 'bob@clinic.example', name: 'Bob Tran', role: null, team: null },
      { line: 5, jid: 'cat@clinic.example', name: 'Cat', role: 'nurse', team: null },
    ]);
  });

  it('names every bad line and says nothing was changed', () => {
    const message = refusal(
      [
        'a@clinic.example,A,nurse,',
        'b=x@clinic.example,B,nurse,',
        'c@clinic.example,C,nurse,Physicians',
        'd@clinic.example,D,nurse,+Everyone',
        'e@clinic.example,,nurse,',
        'f@clinic.example,F,nurse,Ward,extra',
        'A@clinic.example,A again,nurse,',
        'g@clinic.example,G\tH,nurse,',
        'h\u0007@clinic.example,H,nurse,',
      ].join('\n'),
    );
    expect(message.split('\n')).toEqual([
      'users.csv line 2: "b=x@clinic.example" is not an account address (name@domain, e.g. alice@clinic.example)',
      'users.csv line 3: c@clinic.example: the team "Physicians" has the name of a role group',
      'users.csv line 4: d@clinic.example: the team must be at most 100 characters, without = [ ], control characters or a leading +',
      'users.csv line 5: e@clinic.example: the display name must be 1 to 100 characters',
      'users.csv line 6: expected jid,display name,role,team (3 or 4 fields), found 5 (a comma in a name?)',
      'users.csv line 7: a@clinic.example is already on line 1',
      'users.csv line 8: g@clinic.example: the display name must not contain = [ ] or control characters',
      'users.csv line 9: "h\u0007@clinic.example" is not an account address (name@domain, e.g. alice@clinic.example)',
      'Nothing was changed.',
    ]);
    expect(refusal('# nobody yet\n')).toBe('users.csv lists nobody; nothing was changed.');
  });

  it('renders one public group per role in use and one group per team, sorted, members in file order', () => {
    const people = parse(
      'z@clinic.example,Zoe,nurse,Ward 2\na@clinic.example,Al,nurse,Ward 1\nm@clinic.example,Mo,,Ward 1\n',
    );
    expect(renderGroupsFile(directoryGroups(people))).toBe(
      '[+Clinic]\nm@clinic.example=Mo\n\n[+Nurses]\nz@clinic.example=Zoe\na@clinic.example=Al\n\n' +
        '[Ward 1]\na@clinic.example=Al\nm@clinic.example=Mo\n\n[Ward 2]\nz@clinic.example=Zoe\n\n',
    );
  });
});
