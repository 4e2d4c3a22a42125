/**
 * Shared steps for the renderer's end-to-end tests: real Prosody, one browser harness per
 * workstation (real AppCore, real keychain, real SQLCipher), Debian's Chromium. Drives the UI
 * the way a person does — labels, buttons, keys — never by calling window.clinic for actions.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterEach } from 'vitest';
import type { Role } from '../../common/contract/domain';
import type { Clock } from '../../main/clock';
import type { PolicySourceOptions } from '../../main/policy/load';
import type { PolicyInput } from '../../main/policy/schema';
import type { NewMessage, Store } from '../../main/store/types';
import { fileBrowser } from './chromium';
import { startHarness, type Harness } from './harness';
import { startProsody, type ProsodyServer } from './prosody';
import { setDirectoryNames } from './xmpp-support';
import { fileKeychain } from './test-keychain';

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
  /**
   * Names only (never payloads: they hold PHI) of what crossed the harness's IPC socket, in order:
   * `calls` as the page sends them, `answered` once main's reply is back (main has handled the call:
   * what a test that then moves main's clock must wait for), `events` as main pushes them.
   */
  ipc: { calls: string[]; answered: string[]; events: string[] };
}

/** The `channel` of a request frame or the `event` of an event frame (ws-bridge.ts wire format). */
function frameField(payload: string | Buffer, field: 'channel' | 'event' | 'id'): string | number | null {
  try {
    const v = (JSON.parse(payload.toString()) as Record<string, unknown>)[field];
    return typeof v === 'string' || typeof v === 'number' ? v : null;
  } catch {
    return null;
  }
}

export async function openWorkstation(
  browser: Browser,
  opts: {
    userDataDir: string;
    /** The test policy, given directly; or `policyPath`, a managed policy file the app reads and watches. */
    policy?: PolicyInput;
    policyPath?: string;
    /** Read the managed sources as the app does (with `policySource`, e.g. a simulated Windows registry). */
    managed?: boolean;
    /** How the managed sources are read and checked (e.g. a lower Argon2 minimum for test speed). */
    policySource?: PolicySourceOptions;
    colorScheme?: 'light' | 'dark';
    reducedMotion?: boolean;
    /** Main's clock (default: the system's), e.g. test/support/jump-clock.ts to skip an idle timeout. */
    clock?: Clock;
  },
): Promise<Workstation> {
  const harness = await startHarness({
    userDataDir: opts.userDataDir,
    rendererDir: RENDERER_DIR,
    // A file, the machine's managed sources (policyPath undefined: as the app reads them), or the test policy.
    ...(opts.policyPath
      ? { policyPath: opts.policyPath }
      : opts.managed
        ? { policyPath: undefined }
        : { policy: opts.policy ?? {} }),
    ...(opts.policySource ? { policySource: opts.policySource } : {}),
    keychain: fileKeychain,
    ...(opts.clock ? { clock: opts.clock } : {}),
  });
  const context = await browser.newContext({
    viewport: { width: 1200, height: 760 },
    colorScheme: opts.colorScheme ?? 'light',
    reducedMotion: opts.reducedMotion === false ? 'no-preference' : 'reduce',
  });
  const page = await context.newPage();
  const problems: string[] = [];
  const ipc: Workstation['ipc'] = { calls: [], answered: [], events: [] };
  page.on('websocket', (ws) => {
    const pending = new Map<number, string>();
    ws.on('framesent', (f) => {
      const name = frameField(f.payload, 'channel');
      const id = frameField(f.payload, 'id');
      if (typeof name !== 'string') return;
      ipc.calls.push(name);
      if (typeof id === 'number') pending.set(id, name);
    });
    ws.on('framereceived', (f) => {
      const event = frameField(f.payload, 'event');
      if (typeof event === 'string') ipc.events.push(event);
      const id = frameField(f.payload, 'id');
      const call = typeof id === 'number' ? pending.get(id) : undefined;
      if (call !== undefined && typeof id === 'number') {
        pending.delete(id);
        ipc.answered.push(call);
      }
    });
  });
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (/violates the following Content Security Policy/i.test(msg.text())) problems.push(`csp: ${msg.text()}`);
  });
  await page.goto(harness.url);
  return { harness, context, page, problems, ipc };
}

export async function closeWorkstation(w: Workstation | undefined): Promise<void> {
  if (!w) return;
  // A context the browser already closed (a crashed page, the browser gone) has nothing left to close.
  await w.context.close().catch(() => undefined);
  await w.harness.close();
}

/**
 * One test file's world: a temp dir, a real Prosody holding these people's accounts, this
 * worker's Chromium (test/support/chromium.ts `fileBrowser`), and the workstations opened through
 * it. close() tears down all of it but the browser.
 */
export interface Clinic {
  dir: string;
  prosody: ProsodyServer;
  browser: Browser;
  /** The test policy: fast Argon2, trusting this Prosody's CA. */
  policy: PolicyInput;
  server: { host: string; port: number };
  /** Opens a workstation with its profile in `<dir>/<name>`; `extra` adds to the test policy. */
  open(name: string, extra?: Partial<PolicyInput>): Promise<Workstation>;
  /** First sign-in through the form against this clinic's Prosody. */
  signUp(page: Page, p: Person, key?: { backupCode: string } | 'replace'): Promise<void>;
  /** Fills the first-run form and presses Sign in, without waiting for the outcome. */
  fillSignUp(page: Page, p: Person): Promise<void>;
  close(): Promise<void>;
}

export async function startClinic(
  prefix: string,
  people: Person[],
  extra: Partial<PolicyInput> = {},
  /** The server's admins (they create care-team rooms, issue 18); none by default. */
  o: { admins?: string[]; mucTestModules?: string[]; roomCreation?: 'local' } = {},
): Promise<Clinic> {
  const dir = mkdtempSync(join(tmpdir(), `e2e-${prefix}-`));
  const opened: Workstation[] = [];
  let prosody: ProsodyServer | undefined;
  let browser: Browser | undefined;
  const close = async () => {
    for (const w of opened) await closeWorkstation(w);
    await browser?.close();
    await prosody?.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    prosody = await startProsody({
      users: prosodyUsers(people),
      ...(o.admins ? { admins: o.admins } : {}),
      ...(o.mucTestModules ? { mucTestModules: o.mucTestModules } : {}),
      ...(o.roomCreation ? { roomCreation: o.roomCreation } : {}),
    });
    // As IT's provisioning does: each person's name in the directory, so first run does not ask it.
    await setDirectoryNames(prosody, people);
    browser = await fileBrowser();
  } catch (err) {
    await close();
    throw err;
  }
  const b = browser;
  const policy: PolicyInput = { argon2: TEST_ARGON2, trustedCaPem: prosody.caPem, ...extra };
  const server = { host: prosody.host, port: prosody.c2sPort };
  return {
    dir,
    prosody,
    browser: b,
    policy,
    server,
    async open(name, more = {}) {
      const w = await openWorkstation(b, { userDataDir: join(dir, name), policy: { ...policy, ...more } });
      opened.push(w);
      return w;
    },
    signUp: (page, p, key) => signUp(page, p, server, key),
    fillSignUp: (page, p) => fillSignUp(page, p, server),
    close,
  };
}

/**
 * First run through the form: server, account, passphrase, policy acknowledgement. When the
 * account already has a key (another workstation), `key` answers the key step that appears:
 * its backup code, or 'replace' to start over with a new key.
 */
export async function signUp(
  page: Page,
  p: Person,
  server: { host: string; port: number },
  key?: { backupCode: string } | 'replace',
): Promise<void> {
  await fillSignUp(page, p, server);
  if (key) {
    await page.getByTestId('key-step').waitFor({ timeout: 60_000 });
    if (key === 'replace') await page.getByLabel("I don't have the code: start over with a new key").check();
    else await page.getByLabel('Backup code', { exact: true }).fill(key.backupCode);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }
  // A new key's backup code is shown once before the inbox (a restored key's is not).
  const inbox = page.getByRole('heading', { name: 'Inbox' });
  const backup = page.getByRole('heading', { name: 'Keep your key backup code' });
  await inbox.or(backup).waitFor({ timeout: 60_000 });
  if (await backup.isVisible()) await page.getByRole('button', { name: 'I stored it' }).click();
  await inbox.waitFor({ timeout: 60_000 });
}

/** The first-run form: the user name, and the server fields only when the policy sets no server. */
export async function fillSignUp(page: Page, p: Person, server: { host: string; port: number }): Promise<void> {
  await page.getByLabel('User name').fill(p.jid);
  await page.getByLabel('Account password').fill(p.password);
  // The policy has loaded once its text shows; only then is it known whether the server fields show.
  await page
    .getByRole('region', { name: 'Messaging policy text' })
    .filter({ hasNotText: 'Loading the policy' })
    .waitFor();
  if ((await page.getByText('Clinic server settings').count()) > 0) {
    await page.getByText('Clinic server settings').click();
    await page.getByLabel('Server address').fill(server.host);
    await page.getByLabel('Port').fill(String(server.port));
  }
  await page.getByLabel('Passphrase', { exact: true }).fill(p.passphrase);
  await page.getByLabel('Repeat the passphrase').fill(p.passphrase);
  await page.getByLabel("I have read the clinic's messaging policy and will follow it").check();
  await page.getByRole('button', { name: 'Sign in' }).click();
}

export async function unlockAs(page: Page, p: Person): Promise<void> {
  await page.getByRole('radio', { name: p.name }).click();
  // A profile the keychain has no entry for shows why instead of a passphrase field: fail with
  // that sentence at once (a keychain daemon that lost its entries showed only as a 30 s timeout).
  const field = page.getByLabel(`Passphrase for ${p.name}`);
  const cannotOpen = page.locator('main.lock [role="alert"]');
  await field.or(cannotOpen).first().waitFor({ timeout: 30_000 });
  if (!(await field.isVisible()))
    throw new Error(`the lock screen cannot open ${p.name}: ${(await cannotOpen.allInnerTexts()).join(' ')}`);
  await field.fill(p.passphrase);
  await page.getByRole('button', { name: 'Unlock' }).click();
  // Unlock returns to whichever screen was open before the lock. A refused unlock fails at once
  // with the lock screen's own message (a keychain error names its cause), not after 30 s.
  const refused = page.locator('#unlock-error');
  const outcome = await Promise.race([
    page
      .getByRole('navigation', { name: 'Main' })
      .waitFor({ timeout: 30_000 })
      .then(() => null),
    refused.waitFor({ timeout: 30_000 }).then(
      () => refused.innerText(),
      () => new Promise<never>(() => undefined), // the inbox's wait decides
    ),
  ]);
  if (outcome !== null) throw new Error(`unlock as ${p.name} was refused: ${outcome}`);
}

/**
 * A second workstation of `p`'s account with the same key (XEP-0373 §5): reads the backup code in
 * Settings on `first` (which is left there) and signs up a new workstation `name` with it.
 */
export async function sameKeyWorkstation(clinic: Clinic, first: Page, p: Person, name: string): Promise<Workstation> {
  await first.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Settings' }).click();
  await first.getByLabel('Your passphrase').fill(p.passphrase);
  await first.getByRole('button', { name: 'Show backup code' }).click();
  const backupCode = (await first.getByTestId('backup-code').innerText()).trim();
  await first.getByRole('button', { name: 'Hide the code' }).click();
  const w = await clinic.open(name);
  await clinic.signUp(w.page, p, { backupCode });
  return w;
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
  await page.waitForFunction(
    () => (document.getElementById('composer-text') as HTMLTextAreaElement | null)?.value === '',
    null,
    { timeout: 30_000 },
  );
}

/** Everything the page could show or leak as text: visible text, all text nodes, the title. */
export async function wholeDocumentText(page: Page): Promise<string> {
  return page.evaluate(
    () =>
      `${document.title}\n${document.body.innerText}\n${document.documentElement.textContent ?? ''}\n${[...document.querySelectorAll('input, textarea')].map((e) => (e as HTMLInputElement).value).join('\n')}`,
  );
}

/** Throws when any needle appears anywhere in the document (no vitest import: benches use this file too). */
export async function expectNoPhi(page: Page, needles: string[]): Promise<void> {
  const text = await wholeDocumentText(page);
  const found = needles.filter((n) => text.includes(n)).length;
  // Never print the needles themselves: they stand for PHI.
  if (found > 0) throw new Error(`the page contains ${found} of ${needles.length} PHI strings it must not hold`);
}

const axeSource = readFileSync(resolve('node_modules/axe-core/axe.min.js'), 'utf8');

/**
 * axe-core against WCAG 2.1 A/AA. Evaluated through the DevTools protocol rather than a
 * <script> tag, which the app's CSP (script-src 'self') rightly refuses.
 */
export async function axeViolations(page: Page): Promise<string[]> {
  await page.evaluate(axeSource);
  return page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: {
          run(ctx: Document, o: object): Promise<{ violations: { id: string; nodes: { target: string[] }[] }[] }>;
        };
      }
    ).axe;
    const r = await axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    });
    return r.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  });
}

/**
 * Closes every toast on the page at once. A toast also goes by itself after 8 s, so a locator that
 * counts toasts and then clicks one can find it gone in between; one click per toast inside the
 * page cannot.
 */
export async function dismissToasts(page: Page): Promise<void> {
  await page.evaluate(() => {
    const buttons = document.querySelectorAll<HTMLButtonElement>('button[aria-label="Dismiss notification"]');
    for (const b of buttons) b.click();
  });
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = resolve(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path });
  return path;
}

/**
 * Two workstations of one clinic, both signed up: `from` messages `to` through the directory with
 * `first`, and `to` has that conversation open with the message shown.
 */
export async function twoDesks(
  prefix: string,
  from: Person,
  to: Person,
  first: string,
): Promise<{ clinic: Clinic; from: Workstation; to: Workstation }> {
  const clinic = await startClinic(prefix, [from, to]);
  const a = await clinic.open('reception-pc');
  const b = await clinic.open('physician-laptop');
  await clinic.signUp(a.page, from);
  await clinic.signUp(b.page, to);
  await messageFromDirectory(a.page, to);
  await send(a.page, first);
  await messageFromDirectory(b.page, from);
  await messageRow(b.page, first).waitFor({ timeout: 45_000 });
  return { clinic, from: a, to: b };
}

/** The row of the message holding this text (rows carry data-message-id). */
export const messageRow = (page: Page, text: string): Locator => page.locator('[data-message-id]', { hasText: text });

/**
 * Registers an afterEach that, when a test failed, writes a screenshot of each workstation's page
 * (artifacts/screenshots/failed-<test>-<name>.png). `desks` is read then: the workstations are
 * opened in beforeAll, after this runs.
 */
export function screenshotOnFailure(desks: () => Record<string, Workstation | undefined>): void {
  afterEach(async (ctx) => {
    if (ctx.task.result?.state !== 'fail') return;
    const test = ctx.task.name.slice(0, 30).replace(/\W+/g, '-');
    for (const [name, w] of Object.entries(desks())) if (w) await screenshot(w.page, `failed-${test}-${name}`);
  });
}

/** The Prosody accounts for these people, all in one shared-roster group (the directory). */
export const prosodyUsers = (people: Person[], group = 'Clinic') =>
  people.map((p) => ({ jid: p.jid, password: p.password, name: p.name, role: p.role, group }));

export const BIG_PEER = 'big.history@clinic.test';

/**
 * Fills an unlocked profile's real encrypted store as a long-used workstation would be:
 * `conversations - 1` colleagues with one message each, and one colleague (BIG_PEER, the most
 * recent) with `history` messages over 150 days.
 */
export function seedBigStore(store: Store, opts: { conversations: number; history: number }): void {
  const now = Date.now();
  const first: NewMessage[] = [];
  for (let i = 0; i < opts.conversations - 1; i++) {
    const jid = `colleague${i}@clinic.test`;
    store.contacts.upsert({ jid, displayName: `Colleague ${i}`, role: i % 3 === 0 ? 'physician' : 'nurse' });
    const conv = store.conversations.getOrCreate(jid, now - 86_400_000 - i * 60_000);
    first.push({
      conversationId: conv.id,
      direction: 'in',
      state: 'delivered',
      body: `Seeded note ${i}`,
      sentAt: now - 86_400_000 - i * 60_000,
    });
  }
  store.messages.insertMany(first);
  store.contacts.upsert({ jid: BIG_PEER, displayName: 'Big History', role: 'physician' });
  const big = store.conversations.getOrCreate(BIG_PEER, now - 200 * 86_400_000);
  const span = 150 * 86_400_000;
  for (let start = 0; start < opts.history; start += 10_000) {
    const batch: NewMessage[] = [];
    for (let k = start; k < Math.min(opts.history, start + 10_000); k++) {
      batch.push({
        conversationId: big.id,
        direction: k % 2 ? 'in' : 'out',
        state: 'read',
        body: k % 7 === 0 ? `Seeded message ${k}\nwith a second line` : `Seeded message ${k}`,
        sentAt: now - span + Math.floor((k * span) / opts.history),
      });
    }
    store.messages.insertMany(batch);
  }
}

/** Ctrl+L → lock screen painted, the app's own measure (ms); -1 when it was not recorded. */
export let lastLockToScreenMs = -1;

/** Locks with Ctrl+L, unlocks through the UI, and returns the app's own unlock → inbox-painted measure (ms). */
export async function unlockToInboxMs(page: Page, p: Person): Promise<number> {
  await page.keyboard.press('Control+l');
  await page.getByRole('heading', { name: 'Clinic Messenger is locked' }).waitFor();
  lastLockToScreenMs = await page.evaluate(async () => {
    for (let i = 0; i < 40; i++) {
      const m = performance.getEntriesByName('clinic:lock-to-screen').at(-1);
      if (m) return m.duration;
      await new Promise((r) => setTimeout(r, 25));
    }
    return -1;
  });
  await page.evaluate(() => {
    performance.clearMarks();
    performance.clearMeasures();
  });
  await unlockAs(page, p);
  return page.evaluate(async () => {
    for (let i = 0; i < 100; i++) {
      const m = performance.getEntriesByName('clinic:unlock-to-inbox');
      if (m.length) return m[0]!.duration;
      await new Promise((r) => setTimeout(r, 50));
    }
    return -1;
  });
}

/** Scrolls the open history to the top `pages` times (each loads one older page); DOM node counts and ms per page. */
export async function scrollHistory(page: Page, pages: number): Promise<{ counts: number[]; msPerPage: number }> {
  const list = page.getByTestId('message-list');
  const nodes = () => list.evaluate((el) => el.querySelectorAll('*').length);
  const height = () => list.evaluate((el) => el.scrollHeight);
  const counts: number[] = [await nodes()];
  const t0 = Date.now();
  for (let i = 0; i < pages; i++) {
    const before = await height();
    await list.evaluate((el) => (el.scrollTop = 0));
    await page.waitForFunction(
      (h) => (document.querySelector('[data-testid="message-list"]')?.scrollHeight ?? 0) > h,
      before,
      { timeout: 10_000 },
    );
    counts.push(await nodes());
  }
  const msPerPage = (Date.now() - t0) / pages;
  for (let y = 0; y < 20; y++) {
    await list.evaluate((el, f) => (el.scrollTop = el.scrollHeight * f), y / 20);
    await page.waitForTimeout(30);
    counts.push(await nodes());
  }
  return { counts, msPerPage };
}
