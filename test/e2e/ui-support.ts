/**
 * Shared steps for the renderer's end-to-end tests: real Prosody, one browser harness per
 * workstation (real AppCore, real keychain, real SQLCipher), Debian's Chromium. Drives the UI
 * the way a person does — labels, buttons, keys — never by calling window.clinic for actions.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { expect } from 'vitest';
import type { Role } from '../../common/contract/domain';
import type { PolicyInput } from '../../main/policy/schema';
import { startHarness, type Harness } from '../support/harness';

export const RENDERER_DIR = resolve('dist/renderer');
export const SCREENSHOT_DIR = resolve('artifacts/screenshots');
/** Fast Argon2 for tests only (the policy schema's minimum memory). */
export const TEST_ARGON2 = { memoryKiB: 19 * 1024, iterations: 1, parallelism: 1 };

export interface Person {
  jid: string;
  password: string;
  name: string;
  role: Role;
  passphrase: string;
}

export function person(local: string, domain: string, name: string, role: Role): Person {
  return {
    jid: `${local}@${domain}`,
    password: randomBytes(12).toString('hex'),
    name,
    role,
    // Long, random, not a common password: passes the policy's rules.
    passphrase: `e2e ${randomBytes(9).toString('base64url')} passphrase`,
  };
}

export interface Workstation {
  harness: Harness;
  context: BrowserContext;
  page: Page;
  /** Page script errors and CSP violations seen so far. */
  problems: string[];
}

export async function openWorkstation(
  browser: Browser,
  opts: { userDataDir: string; policy: PolicyInput; colorScheme?: 'light' | 'dark'; reducedMotion?: boolean },
): Promise<Workstation> {
  const harness = await startHarness({ userDataDir: opts.userDataDir, rendererDir: RENDERER_DIR, policy: opts.policy });
  const context = await browser.newContext({
    viewport: { width: 1200, height: 760 },
    colorScheme: opts.colorScheme ?? 'light',
    reducedMotion: opts.reducedMotion === false ? 'no-preference' : 'reduce',
  });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (/violates the following Content Security Policy/i.test(msg.text())) problems.push(`csp: ${msg.text()}`);
  });
  await page.goto(harness.url);
  return { harness, context, page, problems };
}

export async function closeWorkstation(w: Workstation | undefined): Promise<void> {
  if (!w) return;
  await w.context.close().catch(() => undefined);
  await w.harness.close();
}

/** First run through the form: server, account, passphrase, policy acknowledgement. */
export async function signUp(page: Page, p: Person, server: { host: string; port: number }): Promise<void> {
  await page.getByLabel('Account (JID)').fill(p.jid);
  await page.getByLabel('Account password').fill(p.password);
  await page.getByLabel('Your name as colleagues see it').fill(p.name);
  await page.getByText('Clinic server settings').click();
  await page.getByLabel('Server address').fill(server.host);
  await page.getByLabel('Port').fill(String(server.port));
  await page.getByLabel('Passphrase', { exact: true }).fill(p.passphrase);
  await page.getByLabel('Repeat the passphrase').fill(p.passphrase);
  await page.getByLabel("I have read the clinic's messaging policy and will follow it").check();
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Inbox' }).waitFor({ timeout: 60_000 });
}

export async function unlockAs(page: Page, p: Person): Promise<void> {
  await page.getByRole('radio', { name: p.name }).click();
  await page.getByLabel(`Passphrase for ${p.name}`).fill(p.passphrase);
  await page.getByRole('button', { name: 'Unlock' }).click();
  // Unlock returns to whichever screen was open before the lock.
  await page.getByRole('navigation', { name: 'Main' }).waitFor({ timeout: 30_000 });
}

/** Opens (or starts) the conversation with a colleague through the directory. */
export async function messageFromDirectory(page: Page, colleague: Person): Promise<void> {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Directory' }).click();
  await page.getByRole('button', { name: `Message ${colleague.name}` }).click({ timeout: 30_000 });
  await page.getByRole('heading', { name: colleague.name, level: 2 }).waitFor();
}

export async function send(page: Page, text: string): Promise<void> {
  const box = page.getByRole('textbox', { name: 'Message' });
  await box.fill(text);
  await box.press('Enter');
  // The composer empties once main accepted the message (works in hooks too, unlike expect.poll).
  await page.waitForFunction(() => (document.getElementById('composer-text') as HTMLTextAreaElement | null)?.value === '', null, { timeout: 30_000 });
}

/** Everything the page could show or leak as text: visible text, all text nodes, the title. */
export async function wholeDocumentText(page: Page): Promise<string> {
  return page.evaluate(
    () => `${document.title}\n${document.body.innerText}\n${document.documentElement.textContent ?? ''}\n${[...document.querySelectorAll('input, textarea')].map((e) => (e as HTMLInputElement).value).join('\n')}`,
  );
}

export async function expectNoPhi(page: Page, needles: string[]): Promise<void> {
  const text = await wholeDocumentText(page);
  for (const n of needles) expect(text.includes(n), 'the locked page must not contain PHI').toBe(false);
}

const axeSource = readFileSync(resolve('node_modules/axe-core/axe.min.js'), 'utf8');

/**
 * axe-core against WCAG 2.1 A/AA. Evaluated through the DevTools protocol rather than a
 * <script> tag, which the app's CSP (script-src 'self') rightly refuses.
 */
export async function axeViolations(page: Page): Promise<string[]> {
  await page.evaluate(axeSource);
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: Document, o: object): Promise<{ violations: { id: string; nodes: { target: string[] }[] }[] }> } }).axe;
    const r = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return r.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  });
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = resolve(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path });
  return path;
}

/** The Prosody accounts for these people, all in one shared-roster group (the directory). */
export const prosodyUsers = (people: Person[], group = 'Clinic') =>
  people.map((p) => ({ jid: p.jid, password: p.password, name: p.name, role: p.role, group }));
