/** The durable replay guard (migration 0006; issue 10 §3). Runs in the caller's transaction. */
import type { Db } from '../open-db';
import type { ReplayRepo } from '../types';

export function createReplayRepo(db: Db): ReplayRepo {
  const has = db.prepare<[string, Buffer], { one: number }>(
    'SELECT 1 AS one FROM inbound_seen WHERE signer = ? AND digest = ?',
  );
  const add = db.prepare<[string, Buffer]>('INSERT OR IGNORE INTO inbound_seen (signer, digest) VALUES (?, ?)');
  return {
    seen: (signer, digest) => has.get(signer, digest) !== undefined,
    add: (signer, digest) => add.run(signer, digest).changes > 0,
  };
}
