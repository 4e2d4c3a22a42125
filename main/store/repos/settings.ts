/** Settings: a small key → JSON value table (account, identity, preferences, sync marks). */
import type { Db } from '../open-db';

export interface SettingsRepo {
  get<T>(key: string): T | undefined;
  set(key: string, value: unknown): void;
}

export function createSettingsRepo(db: Db): SettingsRepo {
  const get = db.prepare<[string], { value: string }>('SELECT value FROM settings WHERE key = ?');
  const set = db.prepare<[string, string]>(
    'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
  );
  return {
    get<T>(key: string): T | undefined {
      const row = get.get(key);
      return row ? (JSON.parse(row.value) as T) : undefined;
    },
    set(key, value) {
      if (value === undefined) throw new TypeError('setting value must not be undefined');
      set.run(key, JSON.stringify(value));
    },
  };
}
