// Failed unlocks as a person meets them (issue 3 §4): attempts left, a growing wait shown as a
// countdown, and after the policy's maximum the profile is erased and first sign-in says why.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoPhi, person, startClinic, type Clinic, type Workstation } from '../support/ui-support';

const me = person('desk.errors', 'clinic.test', 'Lee Errors', 'reception');

let clinic: Clinic;
let ws: Workstation;

beforeAll(async () => {
  clinic = await startClinic('ui-unlock', [me]);
  ws = await clinic.open('pc', { maxFailedUnlocks: 3 });
  await clinic.signUp(ws.page, me);
  await ws.page.keyboard.press('Control+l');
  await ws.page.getByRole('heading', { name: 'Clinic Messenger is locked' }).waitFor();
});

afterAll(async () => {
  await clinic?.close();
});

async function wrong(): Promise<void> {
  await ws.page.getByLabel(`Passphrase for ${me.name}`).fill('definitely not it');
  await ws.page.getByLabel(`Passphrase for ${me.name}`).press('Enter');
}

describe('failed unlocks', () => {
  it('says how many attempts are left', async () => {
    await wrong();
    await ws.page
      .getByText('Wrong passphrase. 2 attempts left before this profile is erased from this PC.')
      .waitFor({ timeout: 15_000 });
  });

  it('makes the person wait, with a visible countdown, after the second failure', async () => {
    // The first wait is about a second: on a busy machine it can be over before a locator looks.
    // The page itself records every disabled "Wait N s" button it shows, so nothing depends on timing.
    await ws.page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { countdownSeen: string[] }).countdownSeen = seen;
      const look = () => {
        for (const b of document.querySelectorAll('button')) {
          const label = b.textContent?.trim() ?? '';
          if (b.disabled && /^Wait \d+ s$/.test(label)) seen.push(label);
        }
      };
      new MutationObserver(look).observe(document.body, {
        subtree: true,
        childList: true,
        characterData: true,
        attributes: true,
      });
    });
    await wrong();
    await ws.page.getByText('1 attempt left').waitFor({ timeout: 15_000 });
    await ws.page.getByRole('button', { name: 'Unlock' }).waitFor({ timeout: 15_000 });
    const seen = await ws.page.evaluate(() => (window as unknown as { countdownSeen: string[] }).countdownSeen);
    expect(seen.length).toBeGreaterThan(0);
  });

  it('erases the profile after the policy maximum and first sign-in explains it', async () => {
    await wrong();
    await ws.page.getByRole('heading', { name: 'Sign in on this workstation' }).waitFor({ timeout: 15_000 });
    await ws.page.getByRole('alert').filter({ hasText: 'were erased from this PC' }).waitFor();
    expect(await ws.page.evaluate(() => window.clinic.vault.listProfiles())).toEqual({ ok: true, value: [] });
    await expectNoPhi(ws.page, [me.jid]);
    expect(ws.problems).toEqual([]);
  });
});
