// Announcement rooms and an unsafe room in the app (issue 18 §4, §5), on real Prosody in Chromium
// with two workstations. IT makes an announcement room whose owner is the physician; the nurse is a
// member. The room's header says "Announcements" on both; the nurse has no composer, only the line
// "Only the room's owners post here", and gets what the physician posts. Then a server that does
// not keep the clinic's policy (the TEST-ONLY test/support/prosody-modules/mod_muc_test_hostile_room)
// makes another room semi-anonymous: the nurse's workstation says the room is not safe, in words,
// in the room and in the inbox, and lets nothing be written; once fixed, the composer is back. axe
// finds nothing on either view.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANNOUNCEMENT_FIELD } from '../../main/xmpp/room-setup';
import { composer, openRoom, roomRow } from '../support/care-team-ui';
import { configureRoom, createRoom, mucPerson, setAffiliations, type MucPerson } from '../support/muc-support';
import {
  axeViolations,
  dismissToasts,
  messageRow,
  person,
  screenshot,
  screenshotOnFailure,
  send,
  startClinic,
  type Clinic,
  type Workstation,
} from '../support/ui-support';

const physician = person('dr.news', 'clinic.test', 'Dr. Adaeze Okafor', 'physician');
const nurse = person('nurse.news', 'clinic.test', 'Sam Nguyen', 'nurse');
const it_ = person('it.news', 'clinic.test', 'Clinic IT', 'admin');
const NEWS = 'Clinic announcements';
const WARD = 'Ward 7 care team';
const run = Date.now().toString(36);
const text = (s: string) => `${s} (${run})`;

let clinic: Clinic;
let admin: MucPerson;
let doc: Workstation;
let nur: Workstation;
let ward: string;

/** IT, through the test-only module: the room's anonymity changed past the clinic's policy (status 173 / 172). */
const setWhois = (whois: 'moderators' | 'anyone') =>
  configureRoom(admin, ward, { '{urn:clinic-messenger:test}hostile': '1', 'muc#roomconfig_whois': whois });

beforeAll(async () => {
  clinic = await startClinic(
    'ui-rooms-news',
    [physician, nurse, it_],
    {},
    { admins: [it_.jid], mucTestModules: ['muc_test_hostile_room'] },
  );
  admin = await mucPerson(clinic.prosody, it_.jid, it_.password);
  const news = `news@${clinic.prosody.rooms}`;
  await createRoom(admin, news, 'IT', [nurse.jid]);
  await setAffiliations(admin, news, { [physician.jid]: 'owner' });
  await configureRoom(admin, news, {
    'muc#roomconfig_roomname': NEWS,
    [ANNOUNCEMENT_FIELD]: '1',
  });
  ward = `ward7@${clinic.prosody.rooms}`;
  await createRoom(admin, ward, 'IT', [physician.jid, nurse.jid]);
  await configureRoom(admin, ward, { 'muc#roomconfig_roomname': WARD });
  doc = await clinic.open('laptop');
  nur = await clinic.open('ward');
  await clinic.signUp(doc.page, physician);
  await clinic.signUp(nur.page, nurse);
}, 300_000);

afterAll(async () => {
  await admin?.stop();
  await clinic?.close();
});

screenshotOnFailure(() => ({ laptop: doc, ward: nur }));

describe('an announcement room in the app', () => {
  it('only the owner has a composer; the member reads a plain line instead, and gets the post', async () => {
    await openRoom(doc.page, NEWS);
    await expect
      .poll(() => doc.page.getByTestId('room-meta').innerText(), { timeout: 30_000 })
      .toContain('Announcements');
    await send(doc.page, text('The clinic closes at 2 pm on Friday'));

    await openRoom(nur.page, NEWS);
    const page = nur.page;
    await expect.poll(() => page.getByTestId('room-meta').innerText(), { timeout: 30_000 }).toContain('Announcements');
    await page.getByTestId('room-owners-only').waitFor();
    expect(await page.getByTestId('room-owners-only').innerText()).toBe('Only the room’s owners post here.');
    expect(await composer(page).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Send' }).count()).toBe(0);
    const row = messageRow(page, text('The clinic closes at 2 pm on Friday'));
    await row.waitFor({ timeout: 30_000 });
    expect(await row.getByTestId('message-sender').innerText()).toBe(physician.name);
    await dismissToasts(page);
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.waitForTimeout(100); // let the theme settle before the scan
      expect(await axeViolations(page)).toEqual([]);
    }
    await page.emulateMedia({ colorScheme: 'light' });
    await screenshot(page, 'rooms-announcement-member');
  });
});

describe('a room that turns itself anonymous', () => {
  it('says in words that the room is not safe, in the room and the inbox, and lets nothing be written until fixed', async () => {
    const page = nur.page;
    await openRoom(page, WARD);
    await composer(page).waitFor();
    await setWhois('moderators');
    const alert = page.getByTestId('room-unsafe');
    await alert.waitFor({ timeout: 30_000 });
    expect(await alert.getAttribute('role')).toBe('alert');
    const words = await alert.innerText();
    expect(words).toContain('not safe for patient information');
    expect(words).toContain('it no longer shows who wrote each message');
    await expect.poll(() => composer(page).isDisabled()).toBe(true);
    await expect.poll(() => roomRow(page, WARD).getByTestId('inbox-room-unsafe').count()).toBe(1);
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, 'rooms-unsafe');

    await setWhois('anyone');
    await expect.poll(() => alert.count(), { timeout: 30_000 }).toBe(0);
    await expect.poll(() => composer(page).isDisabled()).toBe(false);
    await send(page, text('Back on the ward'));
    await openRoom(doc.page, WARD);
    await messageRow(doc.page, text('Back on the ward')).waitFor({ timeout: 30_000 });
  });
});
