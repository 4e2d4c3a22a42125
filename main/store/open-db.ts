/**
 * Opening the SQLCipher file (ARCHITECTURE.md §5; issue 4 §1, §5).
 *
 * - SQLCipher format through SQLite3MultipleCiphers (`cipher='sqlcipher'`, `legacy=4`), keyed with
 *   the vault's raw 32-byte key as `x'…'`: no passphrase KDF on open (the vault already ran Argon2id).
 * - The key is checked at once by reading sqlite_master. SQLite reports both a wrong key and a
 *   damaged first page as SQLITE_NOTADB, so a sidecar `<file>.keycheck` (an HMAC of a constant
 *   under the key: it reveals nothing the encrypted file itself does not) tells them apart:
 *   check matches → the key is right and the file is damaged (STORE_CORRUPT, set aside);
 *   check differs → STORE_WRONG_KEY, file untouched.
 * - A corrupt file is renamed to `<file>.corrupt-<time>` (with its -wal/-shm), never overwritten.
 */
import Database from 'better-sqlite3-multiple-ciphers';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { AppError } from '../../common/result';
import { systemClock, type Clock } from '../clock';
import type { Logger } from '../log';

export type Db = Database.Database;

/**
 * Chosen by measurement (test/bench/store.bench.ts and a 1M-message catch-up run; 2 shared cores,
 * msg per CPU-second, encrypted): at 100k messages 4 KiB ≈ 16 KiB ≈ 30k (64 KiB: 27k); at 1M
 * 4 KiB 19.7k, 16 KiB 16.5k, 64 KiB 10.6k. A catch-up touches index pages all over the file and
 * every touched page is re-encrypted on commit, so small pages win as the database grows; the
 * larger pages' advantage in the enc/plain ratio (ARCHITECTURE.md §5) did not carry to absolute
 * speed. A bigger cache (256 MiB) did not help at 1M (17.2k vs 16.5k). Page reads and FTS
 * queries were within noise at every size. Re-measured with the 64 MiB WAL checkpoint and FTS5
 * automerge=8 (100k messages, repo insertMany in 10k-row transactions, msg per CPU-second incl.
 * the final checkpoint, encrypted / plain): 2 KiB 65k / 87k, 4 KiB 68k / 88k, 8 KiB 59k / 79k.
 * Profile (perf, 300k, encrypted): HMAC-SHA512 ~14 % and AES-CBC encrypt ~6 % of all CPU, nearly
 * all on page writes; so the cost of encryption is bytes written, and 4 KiB stays the choice.
 */
export const PAGE_SIZE = 4096;
export const CACHE_KIB = 64 * 1024;
/**
 * WAL bytes before an automatic checkpoint (SQLite's default is 1000 pages = 4 MiB here). With
 * SQLCipher every checkpointed page costs a decrypt (read from the WAL) and a re-encrypt (write to
 * the database), where plain SQLite only copies. A 10,000-row catch-up transaction dirties several
 * MiB of index and FTS pages, so at 4 MiB nearly every transaction was checkpointed and a page
 * rewritten by consecutive transactions was re-encrypted each time; at 64 MiB it is checkpointed
 * once. Measured (100k messages, msg per CPU-second including the final checkpoint, encrypted):
 * 45k → 56k. The WAL is truncated back to JOURNAL_LIMIT after a checkpoint and at close.
 * Durability is unchanged: WAL + synchronous=NORMAL (a committed transaction survives an app crash;
 * a power cut may lose the last transactions, never consistency — acceptable for a cache whose
 * messages the server archive re-delivers; the outbox is re-sent after restart).
 */
const WAL_CHECKPOINT_BYTES = 64 * 1024 * 1024;
const JOURNAL_LIMIT = 64 * 1024 * 1024;

interface KeyCheckFile {
  v: 1;
  pageSize: number;
  check: string;
}

function keyCheckPath(file: string): string {
  return `${file}.keycheck`;
}

function keyCheck(key: Buffer): Buffer {
  return createHmac('sha256', key).update('clinic-messenger store key check v1').digest();
}

function readKeyCheck(file: string): KeyCheckFile | null {
  try {
    const parsed = JSON.parse(readFileSync(keyCheckPath(file), 'utf8')) as Partial<KeyCheckFile>;
    if (parsed.v === 1 && typeof parsed.check === 'string' && typeof parsed.pageSize === 'number')
      return parsed as KeyCheckFile;
  } catch {
    // missing or unreadable: fall back to the file-shape heuristics below
  }
  return null;
}

function looksLikePlainSqlite(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(16);
    const n = readSync(fd, head, 0, 16, 0);
    return n === 16 && head.toString('latin1') === 'SQLite format 3\0';
  } finally {
    closeSync(fd);
  }
}

/** Moves a damaged database (and its -wal/-shm) aside; never overwrites an existing file. */
function setAside(file: string, now: number): string {
  const stamp = new Date(now).toISOString().replace(/[:.]/g, '-');
  let target = `${file}.corrupt-${stamp}`;
  for (let i = 1; existsSync(target); i++) target = `${file}.corrupt-${stamp}-${i}`;
  renameSync(file, target);
  for (const suffix of ['-wal', '-shm']) {
    if (existsSync(file + suffix)) renameSync(file + suffix, target + suffix);
  }
  return target;
}

export interface OpenDbOptions {
  file: string;
  /** null only for the plain-SQLite baseline in benchmarks and the at-rest control test. */
  key: Buffer | null;
  logger?: Logger;
  readonly?: boolean;
  /** 'throw' for secondary connections (the worker): only the main open may move a file aside. */
  onCorrupt?: 'set-aside' | 'throw';
  nativeBinding?: string;
  pageSize?: number;
  cacheKiB?: number;
  /** Stamps the name of a damaged file moved aside (onCorrupt 'set-aside'); openStore passes the session's. */
  clock?: Pick<Clock, 'now'>;
}

const HEX = Buffer.from('0123456789abcdef', 'latin1');

/**
 * SQLCipher's raw-key syntax, x'<64 hex digits>', written straight into a Buffer: the key never
 * becomes a JS string (strings are immutable and linger in the heap until collected; a Buffer is
 * zero-filled right after use). SQLCipher skips PBKDF2 for a key in this form.
 */
export function rawKeySpec(key: Uint8Array): Buffer {
  const spec = Buffer.alloc(3 + key.length * 2);
  spec[0] = 0x78; // x
  spec[1] = 0x27; // '
  for (let i = 0; i < key.length; i++) {
    spec[2 + 2 * i] = HEX[key[i]! >> 4]!;
    spec[3 + 2 * i] = HEX[key[i]! & 15]!;
  }
  spec[spec.length - 1] = 0x27;
  return spec;
}

function applyKey(db: Db, key: Buffer, pageSize: number): void {
  db.pragma(`cipher = 'sqlcipher'`);
  db.pragma('legacy = 4');
  db.pragma(`legacy_page_size = ${pageSize | 0}`);
  const spec = rawKeySpec(key);
  try {
    db.key(spec); // sqlite3_key: the same bytes PRAGMA key = "x'…'" would pass, without the SQL text
  } finally {
    spec.fill(0);
  }
}

function tune(db: Db, cacheKiB: number, readonly: boolean): void {
  if (!readonly) db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  autoCheckpoint(db, true);
  db.pragma(`journal_size_limit = ${JOURNAL_LIMIT}`);
  db.pragma('foreign_keys = ON');
  db.pragma(`cache_size = -${cacheKiB | 0}`);
  db.pragma('temp_store = MEMORY');
  db.pragma('busy_timeout = 5000');
}

/**
 * SQLite's automatic WAL checkpoint on this connection: on at WAL_CHECKPOINT_BYTES, or off while
 * the store worker checkpoints for it (build-store.ts, CHECKPOINT_ROWS).
 */
export function autoCheckpoint(db: Db, on: boolean): void {
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  db.pragma(`wal_autocheckpoint = ${on ? Math.max(1000, Math.floor(WAL_CHECKPOINT_BYTES / pageSize)) : 0}`);
}

/**
 * Opens (creating when missing) and verifies the key. Throws AppError STORE_WRONG_KEY or
 * STORE_CORRUPT; on STORE_CORRUPT the file has already been set aside.
 */
export function openDb(opts: OpenDbOptions): Db {
  const { file, key, logger } = opts;
  const existed = existsSync(file) && statSync(file).size > 0;
  const check = key ? keyCheck(key) : null;
  const stored = existed ? readKeyCheck(file) : null;
  const pageSize = stored?.pageSize ?? opts.pageSize ?? PAGE_SIZE;
  let db: Db;
  try {
    db = new Database(file, {
      readonly: opts.readonly ?? false,
      fileMustExist: opts.readonly ?? false,
      ...(opts.nativeBinding ? { nativeBinding: opts.nativeBinding } : {}),
    });
  } catch (err) {
    // Cannot even open the file (permissions, missing folder, addon): not a statement about its contents.
    throw new AppError(
      'INTERNAL',
      `The message cache file cannot be opened (${(err as { code?: string }).code ?? 'error'}).`,
    );
  }
  try {
    if (key) applyKey(db, key, pageSize);
    else if (!existed) db.pragma(`page_size = ${pageSize | 0}`);
    // The first read decrypts page 1: this is where a wrong key or a damaged header shows.
    db.prepare('SELECT count(*) AS n FROM sqlite_master').get();
    tune(db, opts.cacheKiB ?? CACHE_KIB, opts.readonly ?? false);
  } catch (err) {
    db.close();
    const code = (err as { code?: string }).code ?? '';
    if (code !== 'SQLITE_NOTADB' && code !== 'SQLITE_CORRUPT') throw err;
    if (key && isWrongKey(file, stored, check!)) {
      logger?.warn('store: wrong key', { file: 'cache.db' });
      throw new AppError('STORE_WRONG_KEY', 'The message cache cannot be opened with this key.');
    }
    if (opts.onCorrupt === 'throw') throw new AppError('STORE_CORRUPT', 'The message cache is damaged.');
    const movedTo = setAside(file, (opts.clock ?? systemClock).now());
    logger?.error('store: corrupt database set aside', { code });
    throw new AppError(
      'STORE_CORRUPT',
      'The message cache is damaged. It was set aside unchanged and a new one can be created.',
      {
        setAsideAs: movedTo.slice(movedTo.lastIndexOf('/') + 1),
      },
    );
  }
  if (key && !stored) {
    const record: KeyCheckFile = { v: 1, pageSize, check: check!.toString('hex') };
    writeFileSync(keyCheckPath(file), JSON.stringify(record), { mode: 0o600 });
  }
  return db;
}

function isWrongKey(file: string, stored: KeyCheckFile | null, check: Buffer): boolean {
  if (stored) {
    const want = Buffer.from(stored.check, 'hex');
    return !(want.length === check.length && timingSafeEqual(want, check));
  }
  // No sidecar (older file or lost): a plain SQLite file or a size that is not a whole number
  // of pages cannot be one of our encrypted stores; anything else may be ours under another key.
  if (looksLikePlainSqlite(file)) return false;
  const size = statSync(file).size;
  return size % PAGE_SIZE === 0 || size % 4096 === 0;
}
