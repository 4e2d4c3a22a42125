// The offline lease on the lock screen (issue 15 item 3, "the lease expiry blocks unlock"): a
// profile under offlineLeaseHours, locked, the clinic server gone and the lease expired: unlocking
// says in plain words why and what to do, keeps the profile, and works once the server is back.
// Real Prosody, keychain, SQLCipher and Chromium; main's clock is a jump clock
// (test/support/jump-clock.ts), so "a day later" needs no waiting. axe: 0 violations.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jumpClock, type JumpClock } from '../support/jump-clock';
import {
  axeViolations,
  closeWorkstation,
  expectNoPhi,
  openWorkstation,
  person,
  screenshot,
  screenshotOnFailure,
  startClinic,
  unlockAs,
  type Clinic,
  type Workstation,
} from '../support/ui-support';

const me = person('lease.laptop', 'clinic.test', 'Kim Laptop', 'physician');
const HOUR = 3600_000;

let clinic: Clinic;
let ws: Workstation;
let clock: JumpClock;

beforeAll(async () => {
  clinic = await startClinic('ui-offline-lease', [me]);
  clock = jumpClock();
  ws = await openWorkstation(clinic.browser, {
    userDataDir: join(clinic.dir, 'laptop'),
    policy: { ...clinic.policy, offlineLeaseHours: 24 },
    clock,
  });
  await clinic.signUp(ws.page, me);
}, 300_000);

afterAll(async () => {
  await closeWorkstation(ws);
  await clinic?.close();
});

screenshotOnFailure(() => ({ ws }));

describe('an expired offline lease', () => {
  it('refuses the unlock with a plain message while the server is gone, and unlocks once it is back', async () => {
    const audit = () =>
      ws.harness.core.session
        .active()
        .audit.list(null, 200)
        .items.map((e) => e.type);
    // The first connection put the lease layer on.
    await expect.poll(() => audit().includes('lease-enabled'), { timeout: 30_000 }).toBe(true);
    await ws.page.keyboard.press('Control+l');
    await ws.page.getByRole('heading', { name: 'Clinic Messenger is locked' }).waitFor();

    await clinic.prosody.halt();
    clock.advance(25 * HOUR);
    await ws.page.getByLabel(`Passphrase for ${me.name}`).fill(me.passphrase);
    await ws.page.getByRole('button', { name: 'Unlock' }).click();
    await ws.page
      .getByText(
        'This computer has been offline longer than your clinic allows (24 hours). Connect to the clinic network and unlock again. Nothing was lost.',
      )
      .waitFor({ timeout: 30_000 });
    await ws.page.getByRole('heading', { name: 'Clinic Messenger is locked' }).waitFor();
    expect(await axeViolations(ws.page)).toEqual([]);
    await screenshot(ws.page, 'offline-lease-refused');
    await expectNoPhi(ws.page, [me.jid]);

    await clinic.prosody.restart();
    await unlockAs(ws.page, me);
    expect(ws.harness.core.session.isUnlocked()).toBe(true);
    expect(ws.problems).toEqual([]);
  });
});
