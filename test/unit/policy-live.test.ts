// The managed policy while the app runs (issue 14 item 3): main/policy/live.ts re-runs the
// loader and says what changed; main/policy/watch.ts decides when (a folder watch, a poll).
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../main/log';
import { loadPolicy, type LoadedPolicy } from '../../main/policy/load';
import { changedKeys, createLivePolicy } from '../../main/policy/live';
import { defaultPolicy, type PolicyInput } from '../../main/policy/schema';
import { SETTLE_MS, watchPolicy } from '../../main/policy/watch';
import { fakeClock } from '../support/fake-clock';

const loaded = (input: PolicyInput): LoadedPolicy => loadPolicy(null, input);

describe('live policy', () => {
  it('its policy is a live view: a value read after a reload is the new one, with no new object to fetch', () => {
    let next: PolicyInput = { notificationPreview: 'full' };
    const live = createLivePolicy(() => loaded(next), silentLogger);
    const view = live.policy;
    expect(view.notificationPreview).toBe('full');
    next = { notificationPreview: 'sender' };
    expect(live.reload()).toEqual({ keys: ['notificationPreview'], status: false });
    expect(view.notificationPreview).toBe('sender');
    expect(live.policy).toBe(view);
    expect(live.managedKeys).toEqual(['notificationPreview']);
    // A copy is a snapshot: it keeps what it copied.
    const copy = { ...view };
    next = {};
    live.reload();
    expect(copy.notificationPreview).toBe('sender');
    expect(view.notificationPreview).toBe(defaultPolicy.notificationPreview);
  });

  it('the view cannot be written to: nothing outside the loader changes the policy', () => {
    const live = createLivePolicy(() => loaded({}), silentLogger);
    expect(() => {
      (live.policy as { screenshotsAllowed: boolean }).screenshotsAllowed = true;
    }).toThrow(TypeError);
    expect(live.policy.screenshotsAllowed).toBe(false);
  });

  it('listeners run only when something changed, with the keys that did', () => {
    let next: PolicyInput = { lockTimeoutMaxMinutes: 15 };
    const live = createLivePolicy(() => loaded(next), silentLogger);
    const seen: string[][] = [];
    live.onChange((c) => seen.push(c.keys));
    expect(live.reload()).toBeNull();
    next = { lockTimeoutMaxMinutes: 2, screenshotsAllowed: true };
    live.reload();
    live.reload();
    expect(seen).toEqual([['lockTimeoutMaxMinutes', 'screenshotsAllowed']]);
  });

  it('an error appearing is a change even when the values stay the defaults', () => {
    let result: LoadedPolicy = loaded({});
    const live = createLivePolicy(() => result, silentLogger);
    result = { ...loaded({}), source: '/etc/x.json', error: 'The clinic policy file /etc/x.json is not valid JSON.' };
    expect(live.reload()).toEqual({ keys: [], status: true });
    expect(live.error).toMatch(/not valid JSON/);
  });

  it('a failing listener does not keep the others from running', () => {
    let next: PolicyInput = {};
    const live = createLivePolicy(() => loaded(next), silentLogger);
    const seen: number[] = [];
    live.onChange(() => {
      throw new Error('boom');
    });
    live.onChange(() => seen.push(1));
    next = { exportAllowed: true };
    live.reload();
    expect(seen).toEqual([1]);
  });

  it('compares nested values by content (server, argon2)', () => {
    const a = loaded({ server: { domain: 'clinic.example.org' } }).policy;
    const b = loaded({ server: { domain: 'clinic.example.org' } }).policy;
    const c = loaded({ server: { domain: 'clinic.example.org', port: 5223, tls: 'direct' } }).policy;
    expect(changedKeys(a, b)).toEqual([]);
    expect(changedKeys(a, c)).toEqual(['server']);
  });
});

describe('policy watch', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  /** A temp folder with a policy watch on `policy.json` in it, on a fake clock (settle and poll). */
  function watched() {
    const dir = mkdtempSync(join(tmpdir(), 'policy-watch-'));
    dirs.push(dir);
    const file = join(dir, 'policy.json');
    writeFileSync(file, '{}');
    const clock = fakeClock();
    const reads: string[] = [];
    const w = watchPolicy({
      files: [file],
      reload: () => reads.push(readFileSync(file, 'utf8')),
      clock,
      logger: silentLogger,
      pollMs: 3_600_000,
    });
    return { dir, file, clock, reads, w };
  }

  /**
   * Resolves once a second watch on `dir` has seen a `change` of `name`. libuv hands each inotify
   * event to every watch of the folder in the same turn, so by then the policy watch has it too.
   */
  function seen(dir: string, name: string): Promise<void> {
    return new Promise((resolve) => {
      const probe = watch(dir, (event, file) => {
        if (event === 'change' && file === name) {
          probe.close();
          resolve();
        }
      });
    });
  }

  it('a file replaced in its folder is read once, after the burst settles', async () => {
    const { dir, file, clock, reads, w } = watched();
    try {
      const last = seen(dir, 'policy.json');
      writeFileSync(`${file}.new`, '{"exportAllowed": true}');
      renameSync(`${file}.new`, file);
      writeFileSync(file, '{"exportAllowed": false}');
      await last;
      expect(reads).toEqual([]); // settling: nothing read mid-burst
      clock.advance(SETTLE_MS);
      expect(reads).toEqual(['{"exportAllowed": false}']);
      clock.advance(SETTLE_MS * 10);
      expect(reads).toHaveLength(1);
    } finally {
      w.stop();
    }
  });

  it('another file in the folder is not ours: no reload', async () => {
    const { dir, clock, reads, w } = watched();
    try {
      const delivered = seen(dir, 'unrelated.txt');
      writeFileSync(join(dir, 'unrelated.txt'), 'x');
      await delivered;
      clock.advance(SETTLE_MS * 10);
      expect(reads).toEqual([]);
    } finally {
      w.stop();
    }
  });

  it('the poll re-reads on its own, and attaches the watch once the folder exists', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'policy-watch-'));
    dirs.push(dir);
    const file = join(dir, 'etc', 'policy.json'); // its folder does not exist yet
    const clock = fakeClock();
    let reloads = 0;
    const w = watchPolicy({ files: [file], reload: () => reloads++, clock, logger: silentLogger, pollMs: 60_000 });
    try {
      clock.advance(60_000);
      expect(reloads).toBe(1);
      mkdirSync(join(dir, 'etc'));
      clock.advance(60_000); // attaches the watch, reloads
      expect(reloads).toBe(2);
      writeFileSync(file, '{}');
      // The watch's settle timer is on the fake clock: move it once the event has arrived.
      await expect
        .poll(() => {
          clock.advance(SETTLE_MS);
          return reloads;
        })
        .toBe(3);
    } finally {
      w.stop();
    }
    clock.advance(10 * 60_000);
    expect(reloads).toBe(3);
  });

  it('a reload that throws is logged, and the watch goes on', () => {
    const clock = fakeClock();
    const errors: string[] = [];
    let calls = 0;
    const logger = { ...silentLogger, error: (msg: string) => errors.push(msg) };
    const w = watchPolicy({
      files: [],
      reload: () => {
        calls++;
        throw new Error('defect');
      },
      clock,
      logger,
      pollMs: 1_000,
    });
    clock.advance(2_000);
    w.stop();
    expect(calls).toBe(2);
    expect(errors).toEqual(['policy reload failed', 'policy reload failed']);
  });
});
