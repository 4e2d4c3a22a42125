/**
 * Who has published an OpenPGP key at all (issue 12 §3). A colleague who never signed in has none:
 * the directory says "Not set up yet", and messages to them wait in the outbox (outbox-send.ts)
 * until their key appears. Known in memory for this session only: each unlock asks the server again
 * (the outbox's flush on connect for anyone with waiting messages, the directory for colleagues
 * whose key was never fetched). Nothing here pins a key: that stays trust.ts's first use.
 */
import type { KeyStatus } from '../../common/contract/domain';
import { announcesKey } from './pep-keys';
import type { XmppConnection } from './transport/connection';

/** Directory look-ups in flight at once: the whole directory is asked in the background, gently. */
const PROBES_AT_ONCE = 4;

export interface KeyStatusDeps {
  conn: () => XmppConnection | null;
  /** What is known about a colleague's key changed. */
  changed: (jid: string, from: KeyStatus, to: KeyStatus) => void;
}

export function createKeyStatus(d: KeyStatusDeps) {
  const known = new Map<string, 'published' | 'none'>();
  const queue: string[] = [];
  const queued = new Set<string>();
  let running = 0;

  function set(jid: string, to: KeyStatus): void {
    const from = known.get(jid) ?? 'unknown';
    if (to === 'unknown') known.delete(jid);
    else known.set(jid, to);
    if (from !== to) d.changed(jid, from, to);
  }

  async function probeOne(jid: string): Promise<void> {
    const conn = d.conn();
    if (!conn?.isReady() || known.has(jid)) return;
    try {
      const has = await announcesKey(conn, jid);
      // A fetch for sending may have answered meanwhile; it validated the key, so it knows more.
      if (!known.has(jid)) set(jid, has ? 'published' : 'none');
    } catch {
      // Refused, timed out or cut off (stop, lock): nothing learnt; the next directory load asks again.
    }
  }

  function pump(): void {
    while (running < PROBES_AT_ONCE && queue.length > 0) {
      const jid = queue.shift()!;
      running++;
      // probeOne never rejects (it catches): finally only frees the slot.
      void probeOne(jid).finally(() => {
        running--;
        queued.delete(jid);
        pump();
      });
    }
  }

  return {
    /** A pinned key is a published one; otherwise what the server last said in this session. */
    of: (jid: string, pinned: boolean): KeyStatus => (pinned ? 'published' : (known.get(jid) ?? 'unknown')),
    set,
    /** Asks the server in the background whether these colleagues announce a key (list node only). */
    probe(jids: Iterable<string>): void {
      for (const jid of jids) {
        if (known.has(jid) || queued.has(jid)) continue;
        queued.add(jid);
        queue.push(jid);
      }
      pump();
    },
  };
}

export type KeyStatusBook = ReturnType<typeof createKeyStatus>;
