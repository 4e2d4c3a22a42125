import { randomBytes } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../common/result';
import { openStore } from '../../main/store';
import { rawKeySpec } from '../../main/store/open-db';

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'store-open-'));
  file = join(dir, 'cache.db');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function openError(key: Buffer): AppError {
  try {
    openStore({ file, key });
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error('expected openStore to fail');
}

async function makeStore(key: Buffer): Promise<void> {
  const s = openStore({ file, key });
  const c = s.conversations.getOrCreate('bob@clinic.example');
  s.messages.insert({ conversationId: c.id, direction: 'in', state: 'delivered', body: 'keep me', sentAt: 1 });
  await s.close();
}

const setAsideFiles = () => readdirSync(dir).filter((f) => f.startsWith('cache.db.corrupt-'));

describe('opening the store', () => {
  it('refuses the wrong key with STORE_WRONG_KEY and leaves the file untouched', async () => {
    const key = randomBytes(32);
    await makeStore(key);
    const before = readFileSync(file);
    const err = openError(randomBytes(32));
    expect(err.code).toBe('STORE_WRONG_KEY');
    expect(readFileSync(file).equals(before)).toBe(true);
    expect(setAsideFiles()).toEqual([]);
    const s = openStore({ file, key });
    expect(s.messages.get('1')?.body).toBe('keep me');
    await s.close();
  });

  it('still says wrong key (and moves nothing) when the key-check sidecar is gone', async () => {
    await makeStore(randomBytes(32));
    unlinkSync(`${file}.keycheck`);
    expect(openError(randomBytes(32)).code).toBe('STORE_WRONG_KEY');
    expect(existsSync(file)).toBe(true);
  });

  it('sets a non-database file aside byte-for-byte and reports STORE_CORRUPT', async () => {
    const junk = Buffer.concat([Buffer.from('this is not a database\n'), randomBytes(10_000)]);
    writeFileSync(file, junk);
    const err = openError(randomBytes(32));
    expect(err.code).toBe('STORE_CORRUPT');
    expect(err.message).toMatch(/damaged/);
    const aside = setAsideFiles();
    expect(aside).toHaveLength(1);
    expect(String(err.details?.setAsideAs)).toBe(aside[0]);
    expect(readFileSync(join(dir, aside[0]!)).equals(junk)).toBe(true);
    expect(existsSync(file)).toBe(false);
    // A fresh store can now be created in its place; the damaged copy stays.
    const fresh = openStore({ file, key: randomBytes(32) });
    expect(fresh.conversations.list({ cursor: null, limit: 5 }).items).toEqual([]);
    await fresh.close();
    expect(readFileSync(join(dir, aside[0]!)).equals(junk)).toBe(true);
  });

  it('detects a damaged first page under the right key as STORE_CORRUPT, not a wrong key', async () => {
    const key = randomBytes(32);
    await makeStore(key);
    const damaged = readFileSync(file);
    randomBytes(4096).copy(damaged, 0);
    writeFileSync(file, damaged);
    const err = openError(key);
    expect(err.code).toBe('STORE_CORRUPT');
    const [aside] = setAsideFiles();
    expect(readFileSync(join(dir, aside!)).equals(damaged)).toBe(true);
  });

  it('treats an unencrypted SQLite file as corrupt (never ours) and keeps it', () => {
    const plain = new Database(join(dir, 'plain.db'));
    plain.exec('CREATE TABLE t (x); INSERT INTO t VALUES (1);');
    plain.close();
    copyFileSync(join(dir, 'plain.db'), file);
    expect(openError(randomBytes(32)).code).toBe('STORE_CORRUPT');
    const [aside] = setAsideFiles();
    expect(readFileSync(join(dir, aside!)).equals(readFileSync(join(dir, 'plain.db')))).toBe(true);
  });

  it('never overwrites an earlier set-aside copy', () => {
    writeFileSync(file, 'first junk');
    openError(randomBytes(32));
    writeFileSync(file, 'second junk');
    openError(randomBytes(32));
    const aside = setAsideFiles()
      .map((f) => readFileSync(join(dir, f), 'utf8'))
      .sort();
    expect(aside).toEqual(['first junk', 'second junk']);
  });

  it('keys the database through sqlite3_key with SQLCipher raw-key bytes: files keyed the old way (PRAGMA key) still open', async () => {
    const key = randomBytes(32);
    expect(rawKeySpec(key).toString('latin1')).toBe(`x'${key.toString('hex')}'`);
    // A cache written by the previous build, which keyed with PRAGMA key = "x'…'" (SQL text).
    const old = new Database(file);
    old.pragma(`cipher = 'sqlcipher'`);
    old.pragma('legacy = 4');
    old.pragma('legacy_page_size = 4096');
    old.pragma(`key = "x'${key.toString('hex')}'"`);
    old.exec("CREATE TABLE legacy (v TEXT); INSERT INTO legacy VALUES ('written under PRAGMA key');");
    old.close();
    expect(readFileSync(file).includes('written under PRAGMA key')).toBe(false);
    const s = openStore({ file, key });
    expect(s.conversations.list({ cursor: null, limit: 5 }).items).toEqual([]);
    await s.close();
    const again = new Database(file, { readonly: true });
    again.pragma(`cipher = 'sqlcipher'`);
    again.pragma('legacy = 4');
    again.pragma(`key = "x'${key.toString('hex')}'"`);
    expect(again.prepare('SELECT v FROM legacy').get()).toEqual({ v: 'written under PRAGMA key' });
    again.close();
    expect(openError(randomBytes(32)).code).toBe('STORE_WRONG_KEY');
  });

  it('rejects a key that is not 32 bytes', () => {
    expect(() => openStore({ file, key: randomBytes(16) })).toThrow(/32 bytes/);
  });
});
