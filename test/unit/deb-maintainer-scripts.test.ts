/**
 * The deb's maintainer scripts (issue 14 item 4): postinst creates /etc/clinic-messenger/ root-owned,
 * mode 0755, never touching an existing policy.json; postrm purge removes the folder only when it is
 * empty. The policy-folder blocks run here for real in a temporary folder (under fakeroot, so the
 * ownership check also holds for a non-root runner); the rest of each script is electron-builder's
 * default steps, which change /usr/bin and /opt, so only their syntax is checked.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const config = parse(readFileSync('electron-builder.yml', 'utf8')) as {
  deb: { afterInstall: string; afterRemove: string };
};

/** electron-builder's own macro expansion for these scripts (FpmTarget writeConfigFile). */
function expand(path: string): string {
  const macros: Record<string, string> = { executable: 'clinic-messenger', sanitizedProductName: 'Clinic Messenger' };
  return readFileSync(path, 'utf8').replace(/\${([a-zA-Z]+)}/g, (_m, name: string) => {
    if (!(name in macros)) throw new Error(`Macro ${name} is not defined`);
    return macros[name] as string;
  });
}
const postinst = expand(config.deb.afterInstall);
const postrm = expand(config.deb.afterRemove);

function policyBlock(script: string): string {
  const m = /# --- managed policy directory \(begin\) ---\n([\s\S]*?)# --- managed policy directory \(end\) ---/.exec(
    script,
  );
  expect(m, 'policy directory block').not.toBeNull();
  return m![1] as string;
}

const root = mkdtempSync(join(tmpdir(), 'deb-scripts-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const policyDir = (): string => join(root, `case-${++n}`, 'clinic-messenger');

/** Runs a block as dpkg would run the script (`postinst configure`, `postrm purge`), under fakeroot. */
function run(block: string, dir: string, arg: string): { status: number | null; stderr: string; owner: string } {
  const r = spawnSync(
    'fakeroot',
    ['sh', '-c', `${block}\nstat -c '%u:%g' "$POLICY_DIR" 2>/dev/null || true`, 'script', arg],
    {
      env: { ...process.env, CLINIC_MESSENGER_POLICY_DIR: dir },
      encoding: 'utf8',
    },
  );
  return { status: r.status, stderr: r.stderr, owner: r.stdout.trim() };
}
const mode = (p: string): string => (statSync(p).mode & 0o7777).toString(8);

describe('deb postinst and postrm', () => {
  it('are valid POSIX sh and bash, with only the macros electron-builder fills in', () => {
    for (const [name, script] of [
      ['postinst', postinst],
      ['postrm', postrm],
    ] as const) {
      const file = join(root, name);
      writeFileSync(file, script);
      expect(script.startsWith('#!/bin/sh\n'), name).toBe(true);
      for (const shell of ['sh', 'bash'])
        expect(() => execFileSync(shell, ['-n', file]), `${shell} -n ${name}`).not.toThrow();
    }
    expect(() => expand('resources/deb/after-install.sh')).not.toThrow();
  });

  it('keep electron-builder’s default steps (they replace its after-install/after-remove templates)', () => {
    expect(postinst).toContain(
      "update-alternatives --install '/usr/bin/clinic-messenger' 'clinic-messenger' '/opt/Clinic Messenger/clinic-messenger' 100",
    );
    expect(postinst).toContain("chmod 4755 '/opt/Clinic Messenger/chrome-sandbox'");
    expect(postinst).toContain('apparmor_parser --replace --write-cache --skip-read-cache "$APPARMOR_PROFILE_TARGET"');
    expect(postrm).toContain(
      "update-alternatives --remove 'clinic-messenger' '/opt/Clinic Messenger/clinic-messenger'",
    );
    expect(postrm).toContain('apparmor_parser --remove "$APPARMOR_PROFILE_DEST"');
    // Without the test variable the folder is the one the Linux loader reads.
    expect(policyBlock(postinst)).toContain('POLICY_DIR="${CLINIC_MESSENGER_POLICY_DIR:-/etc/clinic-messenger}"');
    expect(policyBlock(postrm)).toContain('POLICY_DIR="${CLINIC_MESSENGER_POLICY_DIR:-/etc/clinic-messenger}"');
  });

  it('postinst creates the policy folder root-owned with mode 0755', () => {
    const dir = policyDir();
    mkdirSync(join(dir, '..'), { recursive: true });
    const r = run(policyBlock(postinst), dir, 'configure');
    expect(r.status).toBe(0);
    expect(statSync(dir).isDirectory()).toBe(true);
    expect(mode(dir)).toBe('755');
    expect(r.owner).toBe('0:0');
  });

  it('postinst keeps an existing policy.json and makes a writable folder safe, never looser', () => {
    const dir = policyDir();
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o777);
    const policy = '{ "lockTimeoutMaxMinutes": 2 }\n';
    writeFileSync(join(dir, 'policy.json'), policy, { mode: 0o644 });
    const r = run(policyBlock(postinst), dir, 'configure');
    expect(r.status).toBe(0);
    expect(readFileSync(join(dir, 'policy.json'), 'utf8')).toBe(policy);
    expect(mode(join(dir, 'policy.json'))).toBe('644');
    expect(mode(dir)).toBe('755');
    expect(r.owner).toBe('0:0');

    const strict = policyDir();
    mkdirSync(strict, { recursive: true, mode: 0o750 });
    chmodSync(strict, 0o750);
    expect(run(policyBlock(postinst), strict, 'configure').status).toBe(0);
    expect(mode(strict)).toBe('750');
  });

  it('postinst leaves a file in the folder’s place alone and says so', () => {
    const path = policyDir();
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, 'not a folder');
    const r = run(policyBlock(postinst), path, 'configure');
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/is not a directory; left alone/);
    expect(readFileSync(path, 'utf8')).toBe('not a folder');
  });

  it('postrm purge removes the folder only when empty; remove and upgrade keep it', () => {
    const withPolicy = policyDir();
    mkdirSync(withPolicy, { recursive: true });
    writeFileSync(join(withPolicy, 'policy.json'), '{}\n');
    expect(run(policyBlock(postrm), withPolicy, 'purge').status).toBe(0);
    expect(readFileSync(join(withPolicy, 'policy.json'), 'utf8')).toBe('{}\n');

    const empty = policyDir();
    mkdirSync(empty, { recursive: true });
    for (const arg of ['remove', 'upgrade']) {
      expect(run(policyBlock(postrm), empty, arg).status).toBe(0);
      expect(existsSync(empty), arg).toBe(true);
    }
    expect(run(policyBlock(postrm), empty, 'purge').status).toBe(0);
    expect(existsSync(empty)).toBe(false);
  });
});
