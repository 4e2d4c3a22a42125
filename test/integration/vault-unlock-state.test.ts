/**
 * The failed-unlock counter cannot be reset from the profile folder (issue 10 item 6), a
 * profile this PC can open is removed only with its passphrase, and the device log is MAC'd
 * (item 7). Real keychain
 * (gnome-keyring), real files, fake clock.
 */
import { AsyncEntry } from '@napi-rs/keyring';
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../main/log';
import { readDeviceLog, verifyDeviceLog } from '../../main/vault/device-log';
import { profileRecord } from '../../main/vault/keychain';
import { createVault } from '../../main/vault/vault';
import { appError, fakeClock, OTHER, PASS, requireKeychain, tempDir, testKeychain, testPolicy } from './vault-support';

const JID = 'alice@clinic.example';
const MAX = 5;
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});
beforeAll(requireKeychain);

async function setup() {
  const { dir, cleanup } = tempDir();
  cleanups.push(cleanup);
  const kc = testKeychain();
  const clock = fakeClock();
  const vault = createVault({
    userDataDir: dir,
    policy: testPolicy({ maxFailedUnlocks: MAX }),
    keychain: kc.keychain,
    clock,
    logger: silentLogger,
  });
  const { profile, keys } = await vault.createProfile({ jid: JID, displayName: 'Alice', passphrase: PASS });
  keys.master.fill(0);
  const id = profile.id;
  const stateFile = join(dir, 'profiles', id, 'unlock-state.json');
  /** A wrong passphrase, after waiting out any delay: resolves to the error code and details. */
  const wrong = async () => {
    clock.advance(10 * 60_000);
    return failure(vault.unlock(id, OTHER));
  };
  return { dir, id, vault, clock, stateFile, wrong, ...kc };
}

const failure = appError;

describe('failed-unlock counter', () => {
  it('deleting unlock-state.json after two failures does not reset it: the next wrong passphrase wipes', async () => {
    const { dir, id, stateFile, wrong } = await setup();
    expect((await wrong()).details).toMatchObject({ failures: 1 });
    expect((await wrong()).details).toMatchObject({ failures: 2 });
    rmSync(stateFile);
    expect((await wrong()).code).toBe('PROFILE_WIPED');
    expect(existsSync(join(dir, 'profiles', id))).toBe(false);
    expect(readDeviceLog(dir).find((e) => e.event === 'unlock-state-rejected')).toMatchObject({
      profileId: id,
      detail: { reason: 'missing' },
    });
  });

  it('an emptied (truncated) file counts as one attempt short of the wipe', async () => {
    const { id, vault, stateFile, wrong } = await setup();
    writeFileSync(stateFile, '');
    expect((await wrong()).code).toBe('PROFILE_WIPED');
    expect((await failure(vault.unlock(id, PASS))).code).toBe('NOT_FOUND');
  });

  it('a hand-written counter without our MAC is not believed', async () => {
    const { stateFile, wrong } = await setup();
    expect((await wrong()).details).toMatchObject({ failures: 1 });
    const edited = { ...JSON.parse(readFileSync(stateFile, 'utf8')), failures: 0 };
    writeFileSync(stateFile, JSON.stringify(edited));
    expect((await wrong()).code).toBe('PROFILE_WIPED');
  });

  it('restoring an older copy of the file (with a valid MAC) is refused and counted as max - 1', async () => {
    const { dir, id, stateFile, wrong } = await setup();
    const saved = join(dir, 'unlock-state.saved');
    copyFileSync(stateFile, saved); // 0 failures, MAC'd by the vault itself
    for (let i = 1; i <= 3; i++) expect((await wrong()).details).toMatchObject({ failures: i });
    copyFileSync(saved, stateFile);
    expect((await wrong()).code).toBe('PROFILE_WIPED');
    expect(readDeviceLog(dir).find((e) => e.event === 'unlock-state-rejected')).toMatchObject({
      profileId: id,
      detail: { reason: 'rolled-back' },
    });
  });

  it('a file one generation ahead of the keychain (a crash between the two writes) is still believed', async () => {
    const { id, vault, clock, stateFile, keychain, wrong } = await setup();
    expect((await wrong()).details).toMatchObject({ failures: 1 });
    const { generation } = JSON.parse(readFileSync(stateFile, 'utf8')) as { generation: number };
    await keychain.setRecord(profileRecord(id, 'unlock-gen'), Buffer.from(String(generation - 1)));
    // Distrusted, this attempt would have been the fifth (max - 1 + 1) and wiped the profile.
    expect((await wrong()).details).toMatchObject({ failures: 2, remaining: MAX - 2 });
    clock.advance(10 * 60_000);
    (await vault.unlock(id, PASS)).keys.master.fill(0);
  });

  it('accepts a counter from before the MAC once, when the keychain holds no generation (upgrade)', async () => {
    const { id, stateFile, service, wrong } = await setup();
    await new AsyncEntry(service, profileRecord(id, 'unlock-gen'), {
      linux: { store: 'secret-service' },
    }).deleteCredential();
    writeFileSync(stateFile, JSON.stringify({ failures: 2, lastAttemptAt: 0 }));
    expect((await wrong()).details).toMatchObject({ failures: 3 });
    // From now on the keychain pins a generation: the old format is no longer accepted.
    writeFileSync(stateFile, JSON.stringify({ failures: 0, lastAttemptAt: 0 }));
    expect((await wrong()).code).toBe('PROFILE_WIPED');
  });

  it('the right passphrase resets the counter and the file stays believed across a restart', async () => {
    const { dir, id, vault, clock, keychain, wrong } = await setup();
    await wrong();
    await wrong();
    clock.advance(10 * 60_000);
    (await vault.unlock(id, PASS)).keys.master.fill(0);
    const restarted = createVault({
      userDataDir: dir,
      policy: testPolicy({ maxFailedUnlocks: MAX }),
      keychain,
      clock,
      logger: silentLogger,
    });
    expect((await failure(restarted.unlock(id, OTHER))).details).toMatchObject({ failures: 1, remaining: MAX - 1 });
    expect(readDeviceLog(dir).some((e) => e.event === 'unlock-state-rejected')).toBe(false);
  });
});

describe('removing a profile', () => {
  it('needs the passphrase when this PC can open the profile; a wrong one counts like a failed unlock', async () => {
    const { dir, id, vault, service } = await setup();
    const missing = await failure(vault.removeProfile(id, 'user'));
    expect(missing.code).toBe('WRONG_PASSPHRASE');
    expect(missing.details).toMatchObject({ passphraseRequired: true });
    expect((await failure(vault.removeProfile(id, 'user', OTHER))).details).toMatchObject({
      failures: 1,
      remaining: MAX - 1,
    });
    expect(existsSync(join(dir, 'profiles', id))).toBe(true);
    await vault.removeProfile(id, 'user', PASS);
    expect(existsSync(join(dir, 'profiles', id))).toBe(false);
    const kc = (name: string) => new AsyncEntry(service, name, { linux: { store: 'secret-service' } }).getSecret();
    expect(await kc(id)).toBeNull();
    expect(await kc(profileRecord(id, 'unlock-gen'))).toBeNull();
  });

  it('removes a profile whose keychain entry is gone without a passphrase (it cannot be opened anyway)', async () => {
    const { dir, id, vault, keychain } = await setup();
    expect(await keychain.delete(id)).toBe(true);
    expect((await vault.listProfiles())[0]).toMatchObject({ id, openable: false });
    await vault.removeProfile(id, 'user');
    expect(existsSync(join(dir, 'profiles', id))).toBe(false);
  });
});

describe('device log', () => {
  it('is MAC-chained: an edited line and a removed line are found, by line and kind', async () => {
    const { dir, keychain, wrong } = await setup();
    for (let i = 0; i < MAX; i++) await wrong(); // the last one wipes
    const file = join(dir, 'device-log.jsonl');
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(readDeviceLog(dir).map((e) => e.event)).toEqual(['profile-created', 'profile-wiped']);
    expect(await verifyDeviceLog(dir, keychain)).toEqual({ checked: 2, problems: [] });
    // Someone makes the wipe look like a removal by hand.
    const wiped = JSON.parse(lines[1]!) as Record<string, unknown>;
    writeFileSync(file, [lines[0], JSON.stringify({ ...wiped, event: 'profile-removed' })].join('\n') + '\n');
    expect((await verifyDeviceLog(dir, keychain)).problems).toEqual([{ line: 2, kind: 'edited' }]);
    // Or drops the first line.
    writeFileSync(file, lines[1] + '\n');
    expect((await verifyDeviceLog(dir, keychain)).problems).toEqual([{ line: 1, kind: 'broken-chain' }]);
  });
});
