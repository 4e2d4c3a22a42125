// Issue 10 item 10: a managed policy is read only from a place users cannot write. Real temp
// files and folders of each ownership and mode; chown needs root, which the test runner is.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPolicy } from '../../main/policy/load';
import { defaultPosixTrust } from '../../main/policy/posix-protection';
import { ARGON2_MINIMUM, defaultPolicy } from '../../main/policy/schema';

const isRoot = process.getuid?.() === 0;
const USER = 1000; // an ordinary account
if (!isRoot) console.warn('policy-protection: SKIPPED — chown to other owners needs root');

// A policy that loosens everything: if it were applied, the test would see it.
const LOOSE = JSON.stringify({ notificationPreview: 'full', exportAllowed: true, lockTimeoutMaxMinutes: 60 });

describe.runIf(isRoot)('managed policy from a protected place (POSIX)', () => {
  const base = mkdtempSync(join(tmpdir(), 'policy-prot-'));
  chmodSync(base, 0o755);
  afterAll(() => rmSync(base, { recursive: true, force: true }));
  let n = 0;
  /** A fresh folder under `base` with the given owner and mode. */
  const folder = (mode = 0o755, uid = 0, gid = 0, parent = base) => {
    const d = join(parent, `d${++n}`);
    mkdirSync(d);
    chownSync(d, uid, gid);
    chmodSync(d, mode);
    return d;
  };
  const file = (dir: string, mode = 0o644, uid = 0, gid = 0, text = LOOSE) => {
    const p = join(dir, 'policy.json');
    writeFileSync(p, text);
    chownSync(p, uid, gid);
    chmodSync(p, mode);
    return p;
  };
  const expectApplied = (p: string) => {
    const r = loadPolicy(p);
    expect(r.error).toBeNull();
    expect(r.policy.notificationPreview).toBe('full');
  };
  const expectRefused = (p: string, why: RegExp) => {
    const r = loadPolicy(p);
    expect(r.error).toContain(p);
    expect(r.error).toMatch(/refused because a user who is not an administrator could change it/);
    expect(r.error).toMatch(why);
    expect(r.policy).toEqual(defaultPolicy); // the strict defaults apply
  };

  it('applies a root-owned 0644 file in root-owned 0755 folders', () => {
    expectApplied(file(folder()));
  });

  it('applies a 0664 file whose group is root (an administrators group)', () => {
    expectApplied(file(folder(), 0o664, 0, 0));
  });

  it('refuses a 0664 file whose group is an ordinary group', () => {
    expectRefused(file(folder(), 0o664, 0, USER), /members of group 1000 \(mode 664\)/);
  });

  it('refuses a 0666 file', () => {
    expectRefused(file(folder(), 0o666), /can be changed by every user \(mode 666\)/);
  });

  it('refuses a file owned by an ordinary user, even 0444', () => {
    expectRefused(file(folder(), 0o444, USER, USER), /owned by uid 1000/);
  });

  it('refuses a root file inside a 0777 folder (anyone can replace it)', () => {
    const d = folder(0o777);
    expectRefused(file(d), new RegExp(`${d} can be changed by every user \\(mode 777\\)`));
  });

  it('refuses a root file inside a folder an ordinary user owns', () => {
    const d = folder(0o755, USER, USER);
    expectRefused(file(d), new RegExp(`${d} is owned by uid 1000`));
  });

  it('refuses a root file when a folder higher up is writable by a user group', () => {
    const top = folder(0o775, 0, USER);
    expectRefused(file(folder(0o755, 0, 0, top)), new RegExp(`${top} can be changed by members of group 1000`));
  });

  it('accepts a sticky world-writable folder (like /tmp) only above an entry root owns', () => {
    const sticky = folder(0o1777);
    expectApplied(file(folder(0o755, 0, 0, sticky)));
    expectRefused(file(folder(0o755, USER, USER, sticky)), /owned by uid 1000/);
  });

  it('checks where a symlink points and the folder of every link on the way', () => {
    // Link to a protected file from a protected folder: applied.
    const safe = folder();
    const real = file(safe);
    const viaLink = join(folder(), 'policy.json');
    symlinkSync(real, viaLink);
    expectApplied(viaLink);
    // Link to a file in a world-writable folder: refused for the target's folder.
    const open = folder(0o777);
    const target = file(open);
    const toOpen = join(folder(), 'policy.json');
    symlinkSync(target, toOpen);
    expectRefused(toOpen, new RegExp(`${open} can be changed by every user`));
    // Protected link → link in a world-writable folder → protected file. realpath() alone would
    // see only protected places; the middle link can be swapped by anyone.
    const middle = join(open, 'middle.json');
    symlinkSync(real, middle);
    const first = join(folder(), 'policy.json');
    symlinkSync(middle, first);
    expectRefused(first, new RegExp(`${open} can be changed by every user`));
  });

  it('refuses a FIFO instead of hanging on it', () => {
    const d = folder();
    const p = join(d, 'policy.json');
    execFileSync('mkfifo', ['-m', '0644', p]);
    const r = loadPolicy(p);
    expect(r.error).toMatch(/cannot be read \(EINVAL\)/);
    expect(r.policy).toEqual(defaultPolicy);
  });

  it('treats a missing file in a protected place as "no policy deployed"', () => {
    const none = { policy: defaultPolicy, source: null, error: null, managedKeys: [] };
    expect(loadPolicy(join(folder(), 'policy.json'))).toEqual(none);
    expect(loadPolicy(join(base, 'no-such-folder', 'policy.json'))).toEqual(none);
  });

  it('trusts the owners it is given (tests and packagers inject them; the default is root only)', () => {
    const p = file(folder(0o755, USER, USER), 0o644, USER, USER);
    expect(loadPolicy(p).error).toMatch(/owned by uid 1000/);
    const r = loadPolicy(p, undefined, { posixTrust: { owners: new Set([0, USER]), groups: new Set([0]) } });
    expect(r.error).toBeNull();
    expect(defaultPosixTrust('linux')).toEqual({ owners: new Set([0]), groups: new Set([0]) });
    expect(defaultPosixTrust('darwin').groups).toEqual(new Set([0, 80])); // /Library/Application Support is root:admin 0775
  });
});

describe.runIf(isRoot)('Argon2 cost from a managed policy', () => {
  const base = mkdtempSync(join(tmpdir(), 'policy-argon-'));
  chmodSync(base, 0o755);
  afterAll(() => rmSync(base, { recursive: true, force: true }));
  const write = (name: string, argon2: object) => {
    const p = join(base, name);
    writeFileSync(p, JSON.stringify({ argon2 }));
    return p;
  };

  it('raises a cost below the built-in minimum and says so', () => {
    const r = loadPolicy(write('low.json', { memoryKiB: 19 * 1024, iterations: 1, parallelism: 1 }));
    expect(r.error).toBeNull();
    expect(r.policy.argon2).toEqual({
      memoryKiB: ARGON2_MINIMUM.memoryKiB,
      iterations: ARGON2_MINIMUM.iterations,
      parallelism: 1,
    });
    expect(r.warnings).toEqual([
      `argon2.memoryKiB raised from ${19 * 1024} to the built-in minimum ${ARGON2_MINIMUM.memoryKiB}`,
      `argon2.iterations raised from 1 to the built-in minimum ${ARGON2_MINIMUM.iterations}`,
    ]);
  });

  it('keeps a cost above the minimum', () => {
    const high = { memoryKiB: 512 * 1024, iterations: 12, parallelism: 4 };
    const r = loadPolicy(write('high.json', high));
    expect(r.policy.argon2).toEqual(high);
    expect(r.warnings).toBeUndefined();
  });

  it('leaves a policy handed in directly by test tooling as given (fast tests)', () => {
    const fast = { memoryKiB: 19 * 1024, iterations: 1, parallelism: 1 };
    expect(loadPolicy(null, { argon2: fast }).policy.argon2).toEqual(fast);
  });
});
