/**
 * The audit head mirrored outside the database (issue 10 item 7). The chain in cache.db proves
 * that no row was edited or removed, but an older copy of the whole file is a perfectly valid,
 * shorter chain. So the newest (seq, row MAC) we know of is also kept in the OS keychain (record
 * `<id>:audit-head`): at unlock, a chain that does not contain that row was rolled back.
 *
 * Why the keychain and not a MAC'd sidecar file next to cache.db: a sidecar is copied aside and
 * restored together with the database, MAC and all; the keychain is not in the profile folder.
 * The record holds no secret (a row MAC is not a key) and needs no MAC of its own: whoever can
 * write the keychain can read the device secret, and with it forge anything on this PC.
 *
 * The mirror may lag the database: it is written a few seconds after the chain moves (one write
 * per burst, not per row — a catch-up appends thousands of rows), on lock and on quit. A crash
 * between an append and the next write loses only the newest rows' protection: the older
 * mirrored row is still in the chain, so a lagging mirror never causes a false alarm.
 */
import { AppError } from '../../common/result';
import type { Clock } from '../clock';
import { errorName, type Logger } from '../log';
import type { Store } from '../store';
import { profileRecord, type Keychain } from '../vault/keychain';

/** How long after an append the mirror is written (coalescing every append in between). */
const AUDIT_MIRROR_DELAY_MS = 5_000;

export interface AuditRollback {
  /** The seq of the newest row this PC had mirrored, which the chain no longer holds. */
  expectedSeq: number;
  /** The newest seq the database holds now. */
  foundSeq: number;
}

export interface AuditMirror {
  /** The rollback, or null when the chain holds the mirrored row (or nothing was mirrored yet). */
  check(): Promise<AuditRollback | null>;
  /** The chain moved: write the mirror a moment later. */
  touch(): void;
  /** Writes the current head now. Reads the head at once, so call it before the store closes. */
  flush(): Promise<void>;
  /** Cancels a pending write (lock: flush first). */
  stop(): void;
}

export interface AuditMirrorOptions {
  keychain: Keychain;
  profileId: string;
  store: Store;
  clock: Clock;
  logger: Logger;
}

interface Mirrored {
  seq: number;
  mac: string; // hex
}

function parse(raw: Buffer): Mirrored | null {
  try {
    const v = JSON.parse(raw.toString('utf8')) as Partial<Mirrored>;
    if (Number.isSafeInteger(v.seq) && (v.seq ?? 0) > 0 && typeof v.mac === 'string' && /^[0-9a-f]{64}$/.test(v.mac))
      return { seq: v.seq!, mac: v.mac };
  } catch {
    // fall through
  }
  return null;
}

export function createAuditMirror({ keychain, profileId, store, clock, logger }: AuditMirrorOptions): AuditMirror {
  const name = profileRecord(profileId, 'audit-head');
  let timer: unknown = null;
  let written: string | null = null;
  // Writes go one after another, so an older head can never land after a newer one.
  let writes: Promise<void> = Promise.resolve();

  const flush = (): Promise<void> => {
    if (timer !== null) clock.clearTimeout(timer);
    timer = null;
    const head = store.audit.head();
    if (!head) return writes;
    const value = JSON.stringify({ seq: head.seq, mac: head.mac.toString('hex') } satisfies Mirrored);
    if (value === written) return writes;
    written = value;
    writes = writes.then(async () => {
      try {
        await keychain.setRecord(name, Buffer.from(value, 'utf8'));
      } catch (err) {
        written = null; // try again at the next flush
        // A keychain failure's sentence names its cause and holds no secret (keychain.ts).
        const fromKeychain = err instanceof AppError && err.code === 'KEYCHAIN_UNAVAILABLE';
        logger.warn('audit head mirror could not be written', {
          profileId,
          code: err instanceof AppError ? err.code : errorName(err),
          ...(fromKeychain ? { reason: err.message } : {}),
        });
      }
    });
    return writes;
  };

  return {
    async check() {
      const raw = await keychain.getRecord(name);
      if (!raw) return null;
      const mirrored = parse(raw);
      if (!mirrored) {
        logger.warn('audit head mirror is not one this app wrote; replacing it', { profileId });
        return null;
      }
      const row = store.audit.list(mirrored.seq + 1, 1)[0];
      if (row && row.seq === mirrored.seq && row.mac.toString('hex') === mirrored.mac) return null;
      return { expectedSeq: mirrored.seq, foundSeq: store.audit.head()?.seq ?? 0 };
    },
    touch() {
      if (timer !== null) return;
      timer = clock.setTimeout(() => {
        timer = null;
        try {
          // flush() logs a failed write and retries at the next flush: it never rejects.
          void flush();
        } catch (err) {
          // The store closed under a timer that stop() should have cancelled: nothing to mirror.
          logger.warn('audit head mirror skipped', { profileId, code: errorName(err) });
        }
      }, AUDIT_MIRROR_DELAY_MS);
    },
    flush,
    stop() {
      if (timer !== null) clock.clearTimeout(timer);
      timer = null;
    },
  };
}
