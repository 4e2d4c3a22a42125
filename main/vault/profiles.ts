/**
 * Profile folders: <userDataDir>/profiles/<id>/{profile.json, cache.db, attachments/, unlock-state.json}
 * (the last one: see unlock-state.ts).
 * profile.json holds no secret in the clear: id, display name, JID, KDF salt and parameters, and
 * the wrapped master key (and, with the offline lease, its layer). Files are written to a temp name, fsynced and renamed, so a crash
 * leaves the old or the new version, never half of one.
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { AppError } from '../../common/result';

const PROFILE_FILE = 'profile.json';
export const DB_FILE = 'cache.db';
const ATTACHMENTS_DIR = 'attachments';
const PROFILE_ID = /^[a-z0-9-]{8,64}$/;

const b64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/);
const profileRecordSchema = z.object({
  format: z.literal(1),
  id: z.string().regex(PROFILE_ID),
  displayName: z.string().min(1).max(100),
  jid: z.string().min(3).max(320),
  createdAt: z.number().int(),
  kdf: z.object({
    alg: z.literal('argon2id'),
    salt: b64,
    memoryKiB: z.number().int().positive(),
    iterations: z.number().int().positive(),
    parallelism: z.number().int().positive(),
  }),
  wrappedMasterKey: z.object({ alg: z.literal('A256GCM'), version: z.number().int(), iv: b64, ct: b64, tag: b64 }),
  /** The offline lease's layer (vault/lease-keys.ts): present, the passphrase layer wraps P, not MK. */
  lease: z
    .object({
      version: z.number().int(),
      master: z.object({ iv: b64, ct: b64, tag: b64 }),
      login: z.object({ iv: b64, ct: b64, tag: b64 }),
    })
    .optional(),
});
export type ProfileRecord = z.infer<typeof profileRecordSchema>;

const profilesRoot = (userDataDir: string) => join(userDataDir, 'profiles');

export function profileDir(userDataDir: string, id: string): string {
  // The id reaches a filesystem path: never let '..' or a separator through.
  if (!PROFILE_ID.test(id)) throw new AppError('BAD_INPUT', 'Invalid profile id.');
  return join(profilesRoot(userDataDir), id);
}

export function writeFileAtomic(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

/** The profile's record; NOT_FOUND when the folder is gone, STORE_CORRUPT when profile.json is unreadable. */
export function readProfile(userDataDir: string, id: string): ProfileRecord {
  const file = join(profileDir(userDataDir, id), PROFILE_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new AppError('NOT_FOUND', 'This profile no longer exists on this PC.');
    throw new AppError('STORE_CORRUPT', 'The profile file cannot be read.', { profileId: id });
  }
  let parsed: ReturnType<typeof profileRecordSchema.safeParse>;
  try {
    parsed = profileRecordSchema.safeParse(JSON.parse(text));
  } catch {
    throw new AppError('STORE_CORRUPT', 'The profile file is damaged.', { profileId: id });
  }
  if (!parsed.success || parsed.data.id !== id)
    throw new AppError('STORE_CORRUPT', 'The profile file is damaged.', { profileId: id });
  return parsed.data;
}

export function writeProfile(userDataDir: string, record: ProfileRecord): void {
  const dir = profileDir(userDataDir, record.id);
  mkdirSync(join(dir, ATTACHMENTS_DIR), { recursive: true, mode: 0o700 });
  writeFileAtomic(join(dir, PROFILE_FILE), JSON.stringify(record, null, 2) + '\n');
}

/** Ids of every folder under profiles/ (valid or not: a damaged profile must still be removable). */
export function listProfileIds(userDataDir: string): string[] {
  const root = profilesRoot(userDataDir);
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && PROFILE_ID.test(d.name))
    .map((d) => d.name)
    .sort();
}

/** Removes the whole profile folder (database, attachments, profile.json, unlock state). */
export function eraseProfileDir(userDataDir: string, id: string): void {
  rmSync(profileDir(userDataDir, id), { recursive: true, force: true, maxRetries: 3 });
}
