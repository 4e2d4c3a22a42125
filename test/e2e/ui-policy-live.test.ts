// A managed policy that changes while the app runs (issue 14 item 3). IT rewrites the Linux policy
// file of a reception PC whose person is signed in; without a restart:
//   - Settings show the managed values locked, "Managed by your organization", with the new limits;
//   - the shorter lock timeout takes effect at once (counted from the last activity);
//   - the next notification follows the stricter preview;
//   - screenshots become blocked (the Electron windows' content protection: unit electron-window).
// Main runs on a clock the test moves forward (jump-clock.ts): the idle time is skipped, not waited for.
// The Windows registry path too, through its pure layer: a simulated reg.exe/PowerShell answers
// with Group Policy's values, which change while the app runs; the poll's reload reads them.
import { chmodSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PolicyInput } from '../../main/policy/schema';
import type { CommandOutput, WindowsCommand } from '../../main/policy/windows';
import { jumpClock } from '../support/jump-clock';
import {
  closeWorkstation,
  dismissToasts,
  messageFromDirectory,
  openWorkstation,
  person,
  screenshot,
  send,
  startClinic,
  TEST_ARGON2,
  type Clinic,
  type Workstation,
} from '../support/ui-support';

const reception = person('front.desk', 'clinic.test', 'Kim Front', 'reception');
const physician = person('dr.lind', 'clinic.test', 'Dr. Erik Lindqvist', 'physician');
const nurse = person('n.okafor', 'clinic.test', 'Ada Okafor', 'nurse');
const clock = jumpClock();

let clinic: Clinic;
let policyPath: string;
let rec: Workstation | undefined;
let doc: Workstation;

/** As IT's deployment script does: a new file beside the old one, then renamed over it (atomic). */
function writePolicy(policy: PolicyInput): void {
  const next = `${policyPath}.new`;
  writeFileSync(next, JSON.stringify({ trustedCaPem: clinic.policy.trustedCaPem, argon2: TEST_ARGON2, ...policy }));
  chmodSync(next, 0o644);
  renameSync(next, policyPath);
}

const toasts = (page: Page) => page.getByTestId('toasts').locator('.toast');

async function openSettings(page: Page): Promise<void> {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Settings' }).click();
  await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
}

beforeAll(async () => {
  clinic = await startClinic('ui-policy-live', [reception, physician, nurse]);
  mkdirSync(join(clinic.dir, 'etc'));
  policyPath = join(clinic.dir, 'etc', 'policy.json');
  writePolicy({ lockTimeoutMaxMinutes: 30, notificationPreview: 'full', screenshotsAllowed: true });
  rec = await openWorkstation(clinic.browser, {
    userDataDir: join(clinic.dir, 'desk'),
    policyPath,
    // A managed file raises Argon2 to the built-in minimum (load.ts); the test keeps its fast cost.
    policySource: { argon2Minimum: { memoryKiB: TEST_ARGON2.memoryKiB, iterations: TEST_ARGON2.iterations } },
    clock,
  });
  doc = await clinic.open('laptop');
  await clinic.signUp(doc.page, physician);
  await clinic.signUp(rec.page, reception);
  await messageFromDirectory(doc.page, reception);
});

afterAll(async () => {
  await closeWorkstation(rec);
  await clinic?.close();
});

describe('a managed policy changed while the app runs', () => {
  it('applies without a restart: managed settings, the lock timeout at once, the next notification, screenshots', async () => {
    const page = rec!.page;
    const core = rec!.harness.core;
    expect(core.policy.source).toBe(policyPath);
    await openSettings(page);
    const timeoutHint = page.locator('#set-timeout-hint');
    await expect.poll(() => timeoutHint.innerText()).toContain('at most 30 minutes');
    expect(await page.locator('#set-timeout-managed').innerText()).toContain('Managed by your organization');
    expect(await page.getByTestId('policy-screenshotsAllowed').innerText()).toContain('Screenshots: allowed');
    // Retention is not in the file: a built-in default, not shown as managed.
    expect(await page.getByTestId('policy-retentionDays').getByTestId('managed-badge').count()).toBe(0);

    // Before the change: the preview the file allows shows the sender's name in the notification.
    await send(doc.page, 'Before the change');
    await expect.poll(() => toasts(page).first().innerText()).toContain(physician.name);
    await dismissToasts(page);

    writePolicy({ lockTimeoutMaxMinutes: 2, notificationPreview: 'none', screenshotsAllowed: false });
    // The file watch re-reads it; Settings follow the policy:changed event.
    await expect.poll(() => timeoutHint.innerText()).toContain('at most 2 minutes');
    expect(await page.getByLabel('Lock after inactivity (minutes)').inputValue()).toBe('2');
    expect(await page.getByTestId('policy-screenshotsAllowed').innerText()).toContain('Screenshots: blocked');
    expect(await page.getByTestId('policy-screenshotsAllowed').getByTestId('managed-badge').count()).toBe(1);
    // One choice left: the select is locked, and says why.
    expect(await page.getByLabel('Notification content').isDisabled()).toBe(true);
    expect(await page.locator('#set-preview-managed').count()).toBe(1);
    expect(core.policy.policy.screenshotsAllowed).toBe(false);
    await screenshot(page, 'settings-managed');

    // The next notification follows the stricter preview: no name, no text.
    await send(doc.page, 'After the change');
    await expect.poll(() => toasts(page).count()).toBeGreaterThan(0);
    const shown = await toasts(page).first().innerText();
    expect(shown).toContain('New message');
    expect(shown).not.toContain(physician.name);
    expect(shown).not.toContain('After the change');
    await dismissToasts(page);

    // The audit log of the open profile records which keys changed (never values).
    const applied = core.session
      .active()
      .audit.list(null, 50)
      .items.filter((e) => e.type === 'policy-applied');
    expect(applied.map((e) => e.detail.keys)).toContain('lockTimeoutMaxMinutes,notificationPreview,screenshotsAllowed');

    // The lock timeout took effect at once: 3 minutes without input lock the app now, where the
    // 30 minutes it was armed with before the change would not have.
    expect(core.session.isUnlocked()).toBe(true);
    clock.advance(3 * 60_000);
    await page.getByRole('heading', { name: 'Clinic Messenger is locked' }).waitFor({ timeout: 30_000 });
    expect(core.session.isUnlocked()).toBe(false);
  });

  it('a file that turns invalid while the app runs: the error on screen, the strict defaults at once', async () => {
    writeFileSync(policyPath, '{ "lockTimeoutMaxMinutes": ');
    const banner = rec!.page.getByTestId('policy-error');
    await expect.poll(() => banner.textContent()).toMatch(/is not valid JSON/);
    expect(rec!.harness.core.policy.policy.notificationPreview).toBe('none');
    expect(rec!.harness.core.policy.managedKeys).toEqual([]);
    // Fixed again: the banner goes.
    writePolicy({ lockTimeoutMaxMinutes: 10 });
    await expect.poll(() => banner.count()).toBe(0);
    expect(rec!.harness.core.policy.policy.lockTimeoutMaxMinutes).toBe(10);
  });
});

/**
 * A Windows PC whose Group Policy writes HKLM\Software\Policies\ClinicMessenger, as reg.exe prints
 * it (values REG_DWORD in hex, REG_MULTI_SZ joined by \0, a subkey per object), with the default
 * access list of a key under HKLM\Software\Policies (Administrators and SYSTEM full, users read).
 */
function windowsPc(values: () => Record<string, string>): WindowsCommand {
  const root = 'HKEY_LOCAL_MACHINE\\Software\\Policies\\ClinicMessenger';
  const sddl = 'O:BAG:SYD:AI(A;CIIOID;KA;;;CO)(A;CIID;KR;;;BU)(A;CIID;KA;;;BA)(A;CIID;KA;;;SY)';
  const line = (name: string, value: string) => `    ${name}    ${value}`;
  const argon2 = [
    line('memoryKiB', `REG_DWORD    0x${TEST_ARGON2.memoryKiB.toString(16)}`),
    line('iterations', `REG_DWORD    0x${TEST_ARGON2.iterations.toString(16)}`),
    line('parallelism', `REG_DWORD    0x${TEST_ARGON2.parallelism.toString(16)}`),
  ];
  const ca = (clinic.policy.trustedCaPem ?? '').trim().split('\n').join('\\0');
  return (tool, args): CommandOutput => {
    const key = args[1] ?? '';
    const full = key.replace(/^HKLM\\/, 'HKEY_LOCAL_MACHINE\\'); // reg.exe prints the hive's full name
    if (tool === 'reg' && key.endsWith('ProfileList'))
      return {
        code: 0,
        stdout: `\r\n${full}\r\n${line('ProgramData', 'REG_EXPAND_SZ    %SystemDrive%\\ProgramData')}\r\n`,
      };
    if (tool === 'reg' && key.endsWith('CurrentVersion'))
      return { code: 0, stdout: `\r\n${full}\r\n${line('SystemRoot', 'REG_SZ    C:\\WINDOWS')}\r\n` };
    if (tool === 'reg' && key === 'HKLM\\Software\\Policies\\ClinicMessenger') {
      const own = Object.entries({ trustedCaPem: `REG_MULTI_SZ    ${ca}`, ...values() }).map(([k, v]) => line(k, v));
      return { code: 0, stdout: ['', root, ...own, '', `${root}\\argon2`, ...argon2, ''].join('\r\n') };
    }
    if (tool === 'powershell') return { code: 0, stdout: `${root}\t${sddl}\r\n${root}\\argon2\t${sddl}\r\n` };
    return { code: 1, stdout: '' }; // HKCU: no such key; nothing else is asked
  };
}

describe('a Group Policy change in the registry while the app runs (through the pure layer)', () => {
  it('the next read applies it: Settings show the new limits, managed', async () => {
    let gpo: Record<string, string> = { lockTimeoutMaxMinutes: 'REG_DWORD    0xf', exportAllowed: 'REG_DWORD    0x1' };
    const pc = await openWorkstation(clinic.browser, {
      userDataDir: join(clinic.dir, 'windows-pc'),
      managed: true,
      policySource: {
        platform: 'win32',
        windows: windowsPc(() => gpo),
        argon2Minimum: { memoryKiB: TEST_ARGON2.memoryKiB, iterations: TEST_ARGON2.iterations },
      },
    });
    try {
      const core = pc.harness.core;
      expect(core.policy.error).toBeNull();
      expect(core.policy.source).toBe('HKLM\\Software\\Policies\\ClinicMessenger');
      await clinic.signUp(pc.page, nurse);
      await openSettings(pc.page);
      const hint = pc.page.locator('#set-timeout-hint');
      await expect.poll(() => hint.innerText()).toContain('at most 15 minutes');
      expect(await pc.page.getByTestId('policy-exportAllowed').innerText()).toContain('Audit export: allowed');

      gpo = { lockTimeoutMaxMinutes: 'REG_DWORD    0x3', exportAllowed: 'REG_DWORD    0x0' };
      // What the poll does on its next tick (every 5 minutes on Windows: watch.ts).
      expect(core.policy.reload()?.keys).toEqual(['lockTimeoutMaxMinutes', 'exportAllowed']);
      await expect.poll(() => hint.innerText()).toContain('at most 3 minutes');
      const exportLine = pc.page.getByTestId('policy-exportAllowed');
      expect(await exportLine.innerText()).toContain('Audit export: not allowed');
      expect(await exportLine.getByTestId('managed-badge').count()).toBe(1);
      expect(await pc.page.locator('#set-timeout-managed').count()).toBe(1);
      expect(pc.problems).toEqual([]);
    } finally {
      await closeWorkstation(pc);
    }
  });
});
