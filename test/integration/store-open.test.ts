import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../common/result';
import { openStore } from '../../main/store';

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

  it('sets a non-database file aside byte-for-byte and reports STORE_CORRUPT', () => {
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
    void fresh.close();
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
    const aside = setAsideFiles().map((f) => readFileSync(join(dir, f), 'utf8')).sort();
    expect(aside).toEqual(['first junk', 'second junk']);
  });

  it('rejects a key that is not 32 bytes', () => {
    expect(() => openStore({ file, key: randomBytes(16) })).toThrow(/32 bytes/);
  });
});
