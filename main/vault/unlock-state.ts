/**
 * The failed-unlock counter (ARCHITECTURE.md §4; issue 10 item 6): <profile>/unlock-state.json.
 *
 * Deleting, truncating, editing or restoring an older copy of this file must not reset the count
 * (and so the wipe). Two mechanisms, because each alone leaves a hole:
 * - The file carries an HMAC keyed from the keychain secret (keys.deviceMacKey). It must be
 *   readable before the passphrase is known — it gates the attempt — so MK cannot key it. A file
 *   that is missing, unparsable or fails its MAC counts as max − 1 failures (the vault clamps
 *   MAX_SAFE_INTEGER): one more wrong passphrase wipes.
 * - A MAC does not stop restoring an older file that WE wrote (say, saved with 0 failures). So
 *   every write bumps a generation that the MAC covers, and the same generation is kept in the
 *   keychain (record `<id>:unlock-gen`), which the folder cannot be rolled back with. A valid file
 *   whose generation is below the keychain's was restored: it counts as max − 1 too.
 * Write order is file, then keychain: a crash between the two leaves the file one generation
 * AHEAD of the keychain, which is accepted (only we can MAC a file, and the next write moves the
 * keychain past it). The reverse order would make a crash look like a rollback.
 * Why not keep the whole counter in the keychain only: the file is the fsynced, inspectable record
 * support staff see; the keychain holds just enough to pin which file is current.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { profileRecord, type Keychain } from './keychain';
import { deviceMacKey } from './keys';
import { profileDir, writeFileAtomic } from './profiles';

const UNLOCK_STATE_FILE = 'unlock-state.json';

export interface UnlockState {
  failures: number;
  lastAttemptAt: number;
}

/** Why the stored state was not believed; null when it was. */
export type UnlockStateProblem = 'missing' | 'invalid' | 'rolled-back';

export interface LoadedUnlockState extends UnlockState {
  /** The newest generation seen (file or keychain); the next write goes above it. */
  generation: number;
  problem: UnlockStateProblem | null;
}

const count = z.number().int().nonnegative();
const fileSchema = z.object({
  format: z.literal(2),
  failures: count,
  lastAttemptAt: count,
  generation: z.number().int().positive(),
  mac: z.string().regex(/^[0-9a-f]{64}$/),
});
// v0.1.0 wrote the counter without a MAC; accepted only while the keychain holds no generation
// (a profile made before this format), and rewritten with a MAC at the next attempt.
const legacySchema = z.object({ failures: count, lastAttemptAt: count }).strict();

/** Counts as one attempt short of the wipe once the vault clamps it. */
const DISTRUSTED = Number.MAX_SAFE_INTEGER;

function stateMac(secret: Buffer, profileId: string, s: UnlockState & { generation: number }): Buffer {
  const key = deviceMacKey(secret, 'unlock-state');
  try {
    return createHmac('sha256', key)
      .update(`clinic-unlock-state-v2|${profileId}|${s.generation}|${s.failures}|${s.lastAttemptAt}`)
      .digest();
  } finally {
    key.fill(0);
  }
}

async function keychainGeneration(keychain: Keychain, profileId: string): Promise<number | null> {
  const raw = await keychain.getRecord(profileRecord(profileId, 'unlock-gen'));
  if (!raw) return null;
  const text = raw.toString('utf8');
  // A keychain record we did not write: trust nothing below the largest sane value.
  return /^\d{1,16}$/.test(text) && Number.isSafeInteger(Number(text)) ? Number(text) : DISTRUSTED;
}

/** The profile's counter, checked against its MAC and the keychain's generation. */
export async function readUnlockState(
  userDataDir: string,
  keychain: Keychain,
  profileId: string,
  secret: Buffer,
): Promise<LoadedUnlockState> {
  const pinned = await keychainGeneration(keychain, profileId);
  const distrusted = (problem: UnlockStateProblem): LoadedUnlockState => ({
    failures: DISTRUSTED,
    lastAttemptAt: 0,
    generation: pinned ?? 0,
    problem,
  });
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(join(profileDir(userDataDir, profileId), UNLOCK_STATE_FILE), 'utf8'));
  } catch (err) {
    return distrusted((err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'invalid');
  }
  const legacy = legacySchema.safeParse(json);
  if (legacy.success && pinned === null) return { ...legacy.data, generation: 0, problem: null };
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) return distrusted('invalid');
  const f = parsed.data;
  const want = stateMac(secret, profileId, f);
  const got = Buffer.from(f.mac, 'hex');
  if (!timingSafeEqual(want, got)) return distrusted('invalid');
  if (pinned !== null && f.generation < pinned) return distrusted('rolled-back');
  return { failures: f.failures, lastAttemptAt: f.lastAttemptAt, generation: f.generation, problem: null };
}

/** Writes the next generation (above `after`): the file first, then the keychain. Returns it. */
export async function writeUnlockState(
  userDataDir: string,
  keychain: Keychain,
  profileId: string,
  secret: Buffer,
  state: UnlockState,
  after: number,
): Promise<number> {
  const generation = Math.min(after, DISTRUSTED - 1) + 1;
  const mac = stateMac(secret, profileId, { ...state, generation }).toString('hex');
  const file = join(profileDir(userDataDir, profileId), UNLOCK_STATE_FILE);
  writeFileAtomic(
    file,
    JSON.stringify({ format: 2, failures: state.failures, lastAttemptAt: state.lastAttemptAt, generation, mac }) + '\n',
  );
  await keychain.setRecord(profileRecord(profileId, 'unlock-gen'), Buffer.from(String(generation), 'utf8'));
  return generation;
}
