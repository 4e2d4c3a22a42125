// Remote wipe as the person at the desk sees it (issue 15 item 2): a reception PC is signed in and
// unlocked; IT sends a signed wipe from the admin account; the inbox disappears and the PC shows
// first sign-in with a plain notice that the clinic erased the profile. A forged command before it
// changes nothing on screen. The command is signed and dated by main's own clock (openpgp gets
// that date), so the test passes on any day.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { PrivateKey } from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newWipeCommand, signAdminCommand } from '../../main/crypto/admin-command';
import { normalizeFingerprint } from '../../main/crypto/keys';
import { adminCommandStanza } from '../../main/xmpp/admin-commands';
import type { XmppConnection } from '../../main/xmpp/transport/connection';
import { adminKey } from '../support/crypto-fixtures';
import { jumpClock } from '../support/jump-clock';
import { rawConnection } from '../support/xmpp-support';
import {
  axeViolations,
  closeWorkstation,
  openWorkstation,
  person,
  screenshot,
  startClinic,
  type Clinic,
  type Workstation,
} from '../support/ui-support';

const reception = person('front.desk', 'clinic.test', 'Kim Front', 'reception');
const itPerson = person('it-admin', 'clinic.test', 'Clinic IT', 'admin');
const clock = jumpClock();

let clinic: Clinic;
let admin: PrivateKey;
let other: PrivateKey;
let desk: Workstation | undefined;
let cli: XmppConnection;

async function signedWipe(signer: PrivateKey, device: string | null): Promise<string> {
  const now = new Date(clock.now());
  const command = newWipeCommand({ account: reception.jid, device, now, validityMs: 3600_000 });
  return signAdminCommand(command, signer, now);
}

beforeAll(async () => {
  [admin, other] = await Promise.all([adminKey('Clinic IT'), adminKey('Not IT')]);
  clinic = await startClinic('ui-remote-wipe', [reception, itPerson], {
    adminKeyFingerprints: [normalizeFingerprint(admin.getFingerprint())],
    adminAccount: itPerson.jid,
  });
  desk = await openWorkstation(clinic.browser, {
    userDataDir: join(clinic.dir, 'desk'),
    policy: clinic.policy,
    clock,
  });
  await clinic.signUp(desk.page, reception);
  cli = rawConnection(clinic.prosody, itPerson.jid, itPerson.password, 'clinic-admin');
  await cli.start();
});

afterAll(async () => {
  await cli?.stop();
  await closeWorkstation(desk);
  await clinic?.close();
});

describe('remote wipe at the reception desk', () => {
  it('a command signed by an unpinned key changes nothing; IT’s signed one returns the PC to first sign-in with a notice', async () => {
    const page = desk!.page;
    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('button', { name: 'Settings' }).click();
    // What the person reads out to IT: remote wipe is on, and this PC's profile id (--device).
    await expect.poll(() => page.getByTestId('policy-adminAccount').textContent()).toMatch(/Remote wipe by IT: on/);
    const device = (await page.getByTestId('profile-id').textContent())?.trim() ?? '';
    expect(device).toMatch(/^[a-z0-9-]{8,64}$/);
    await page.getByTestId('profile-id').scrollIntoViewIfNeeded();
    await screenshot(page, 'remote-wipe-settings-account');
    await cli.sendAcked(adminCommandStanza(reception.jid, await signedWipe(other, device)));
    // The genuine one follows on the same stream: once it is handled, the other one was too.
    await cli.sendAcked(adminCommandStanza(reception.jid, await signedWipe(admin, device)));
    const notice = page.getByRole('alert').filter({ hasText: 'IT erased that profile' });
    await notice.waitFor();
    await expect.poll(() => nav.count()).toBe(0);
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    const profiles = join(clinic.dir, 'desk', 'profiles');
    expect(existsSync(profiles) ? readdirSync(profiles) : []).toEqual([]);
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, 'remote-wipe-first-run');
  });
});
