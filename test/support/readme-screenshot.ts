/**
 * Writes the README's first screenshot, docs/screenshots/app.png (issue 11 item 12): a
 * conversation in use, seen from the reception desk — a few invented, PHI-free messages in both
 * directions, then the colleague's key verified (the trust badge shows "Verified"), the states
 * reaching "Read". Same stack as the e2e tests: real Prosody, two browser harnesses, the real keychain,
 * Chromium. A copy goes to artifacts/screenshots/readme-app.png.
 *
 *   npx vite build --logLevel warn && bash scripts/with-keyring.sh npx tsx test/support/readme-screenshot.ts
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { messageFromDirectory, person, screenshot, send, startClinic, type Clinic, type Person } from './ui-support';

const OUT = resolve('docs/screenshots/app.png');
const reception = person('reception', 'clinic.test', 'Robin Reyes', 'reception');
const physician = person('dr.okafor', 'clinic.test', 'Dr. Adaeze Okafor', 'physician');

/** Who writes what, in order. Invented, no patient names or details. */
const script: { from: 'desk' | 'doctor'; text: string }[] = [
  { from: 'desk', text: 'Good morning! Your 10:30 has checked in. Room 4 is ready.' },
  { from: 'doctor', text: 'Thanks, Robin. I’ll be there in five minutes.' },
  { from: 'desk', text: 'The lab called: the results you asked about are in the portal now.' },
  { from: 'doctor', text: 'Great, I’ll review them after this visit. Could you book a follow-up in two weeks?' },
  { from: 'desk', text: 'Done: Tuesday at 9:00, and the reminder is sent.' },
];

const row = (page: Page, text: string) => page.locator('[data-message-id]', { hasText: text });

async function openConversationWith(page: Page, who: Person): Promise<void> {
  const conv = page.getByRole('list', { name: 'Conversations' }).getByRole('button', { name: new RegExp(who.name) });
  await conv.waitFor({ timeout: 45_000 });
  await conv.click();
  await page.getByRole('heading', { name: who.name, level: 2 }).waitFor();
}

async function main(): Promise<void> {
  let clinic: Clinic | undefined;
  try {
    clinic = await startClinic('readme', [reception, physician]);
    const desk = await clinic.open('desk');
    const doctor = await clinic.open('laptop');
    await clinic.signUp(desk.page, reception);
    await clinic.signUp(doctor.page, physician);

    await messageFromDirectory(desk.page, physician);
    let doctorOpened = false;
    for (const line of script) {
      const [writer, reader] = line.from === 'desk' ? [desk.page, doctor.page] : [doctor.page, desk.page];
      await send(writer, line.text);
      if (!doctorOpened && reader === doctor.page) {
        await openConversationWith(doctor.page, reception);
        doctorOpened = true;
      }
      await row(reader, line.text).waitFor({ timeout: 45_000 });
    }
    // Reception compares the physician's fingerprint (their key is known once a message went to them).
    await desk.page.getByRole('button', { name: 'Contact details' }).click();
    await desk.page.locator('[data-safety-number]').waitFor({ timeout: 30_000 });
    await desk.page.getByRole('button', { name: 'Verify…' }).click();
    await desk.page.getByRole('button', { name: 'Yes, they match — mark as verified' }).click();
    await desk.page.getByRole('button', { name: 'Message', exact: true }).click();
    await desk.page.getByTestId('conversation-trust').getByText('Verified').waitFor({ timeout: 15_000 });
    // The physician has the conversation open: the desk's last message reaches "Read".
    const last = row(desk.page, script.at(-1)!.text);
    for (let i = 0; i < 150 && (await last.getAttribute('data-state')) !== 'read'; i++)
      await desk.page.waitForTimeout(200);
    if ((await last.getAttribute('data-state')) !== 'read') throw new Error('the last message never reached "read"');
    if (desk.problems.length > 0) throw new Error(`page problems: ${desk.problems.join('; ')}`);

    // Focus off the composer so the picture shows the conversation, not a focus ring.
    await desk.page.getByTestId('message-list').click({ position: { x: 5, y: 5 } });
    const shot = await screenshot(desk.page, 'readme-app');
    mkdirSync(resolve('docs/screenshots'), { recursive: true });
    copyFileSync(shot, OUT);
    console.log(`wrote ${OUT}`);
  } finally {
    await clinic?.close();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`readme screenshot failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
