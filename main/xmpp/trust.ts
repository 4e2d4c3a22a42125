/**
 * Contact keys and trust (ARCHITECTURE.md §6, issue 5 §3): pin on first use, verify after a
 * person compared fingerprints, a changed key blocks sending until acknowledged, a key that
 * cannot be fetched is "unavailable" (never a plaintext fallback). Every decision is audited.
 */
import type { Contact, KeyStatus, Presence } from '../../common/contract/domain';
import { AppError } from '../../common/result';
import type { AuditLog } from '../audit';
import type { Clock } from '../clock';
import { parseContactKey, type ContactKey } from '../crypto';
import type { EventBus } from '../events';
import type { Logger } from '../log';
import type { Store, StoredContact } from '../store';
import type { XmppConnection } from './transport/connection';
import { createKeyStatus } from './key-status';
import { fetchPublicKey } from './pep-keys';

export interface TrustDeps {
  store: Store;
  audit: AuditLog;
  events: EventBus;
  logger: Logger;
  clock: Clock;
  conn: () => XmppConnection | null;
  presenceOf: (jid: string) => Presence;
  /** Their status text (issue 12 §7), null when none. */
  statusOf?: (jid: string) => string | null;
  /** A colleague who had no key has published one (issue 12 §3): messages waiting for it can go. */
  onKeyReady?: (jid: string) => void;
}

export interface Trust {
  /** The key to encrypt to. KEY_CHANGED / KEY_UNAVAILABLE refuse; fetches and pins when needed. */
  keyForSending(jid: string): Promise<ContactKey>;
  /** The pinned key to check a sender's signature with; fetches and pins on first contact. null: none. */
  keyForReceiving(jid: string): Promise<ContactKey | null>;
  /** Re-fetches a contact's key (after a bad signature, or on connect) and records a change. */
  refresh(jid: string): Promise<void>;
  verify(jid: string, fingerprint: string): Promise<Contact>;
  acceptChange(jid: string, fingerprint: string): Promise<Contact>;
  toContact(c: StoredContact): Contact;
  /** Whether the colleague has published a key at all, as far as this session knows (key-status.ts). */
  keyStatus(jid: string): KeyStatus;
  /** Asks in the background whether colleagues whose key was never fetched have one (the directory). */
  probe(jids: string[]): void;
  /** A hint their key may have appeared (a key-list notice, presence): fetch it if they had none. */
  recheck(jid: string): void;
}

/** Why a key fetch failed, for the log and the audit: the server's condition, never a guess. */
function unavailableReason(err: unknown): string {
  const e = err as { reason?: unknown; condition?: unknown; name?: unknown; message?: unknown } | null;
  if (typeof e?.reason === 'string') return e.reason;
  if (typeof e?.condition === 'string') return e.condition;
  if (e?.message === 'no OpenPGP key announced') return 'not-found';
  if (e?.message === 'key data missing or malformed') return 'malformed';
  if (e?.name === 'TimeoutError') return 'timeout';
  return 'error';
}

/** What a failed fetch says about whether a key is published: no node or an empty list says none. */
const statusAfter = (reason: string): KeyStatus | null =>
  reason === 'item-not-found' || reason === 'not-found' ? 'none' : reason === 'timeout' ? null : 'unknown';

/** Fetch + validate + record. Never throws: the outcome is in the store (and audited). */
async function fetchAndRecord(
  d: TrustDeps,
  jid: string,
  on: { pinned(key: ContactKey): void; emit(c: StoredContact): void; status(s: KeyStatus): void },
): Promise<void> {
  const conn = d.conn();
  if (!conn?.isReady()) return;
  const now = d.clock.now();
  const before = d.store.contacts.get(jid);
  let key: ContactKey;
  try {
    const fetched = await fetchPublicKey(conn, jid);
    key = await parseContactKey(jid, fetched.binary, fetched.fingerprint);
  } catch (err) {
    // Cut off by stop() or a dropped connection: that says nothing about the colleague's key.
    // Nothing to record; the refresh on the next connect (or the next send) asks again.
    if (!conn.isReady() || d.conn() !== conn) return;
    const reason = unavailableReason(err);
    d.logger.info('xmpp: contact key unavailable', { jid, reason });
    if (!before?.fingerprint && before?.trust !== 'unavailable') {
      on.emit(d.store.contacts.setKey(jid, { trust: 'unavailable' }, now));
      d.audit.append('key-unavailable', { jid, reason });
    }
    // A timeout says nothing either way: what was known stays (messages waiting keep waiting).
    const status = statusAfter(reason);
    if (status) on.status(status);
    return;
  }
  if (!before?.fingerprint) {
    on.pinned(key);
    on.emit(
      d.store.contacts.setKey(
        jid,
        {
          trust: 'pinned',
          fingerprint: key.fingerprint,
          publicKey: key.binary,
          pendingFingerprint: null,
          firstSeen: now,
        },
        now,
      ),
    );
    d.audit.append('key-pinned', { jid, fingerprint: key.fingerprint });
    on.status('published');
  } else if (before.fingerprint !== key.fingerprint) {
    if (before.trust === 'changed' && before.pendingFingerprint === key.fingerprint) return;
    // The pinned key stays the pinned key; the new one waits for a person to acknowledge it.
    on.emit(d.store.contacts.setKey(jid, { trust: 'changed', pendingFingerprint: key.fingerprint }, now));
    d.audit.append('key-changed', { jid, pinned: before.fingerprint, announced: key.fingerprint });
  } else if (before.trust === 'unavailable' || before.trust === 'unknown') {
    on.emit(d.store.contacts.setKey(jid, { trust: before.verifiedAt ? 'verified' : 'pinned' }, now));
  }
}

/** A person compared fingerprints and confirms the pinned key: the stored row, verified. */
function verifiedRow(d: TrustDeps, jid: string, fingerprint: string): StoredContact {
  const c = d.store.contacts.get(jid);
  if (!c?.fingerprint)
    throw new AppError('KEY_UNAVAILABLE', 'There is no key for this colleague to verify yet.', { jid });
  if (c.trust === 'changed') throw new AppError('KEY_CHANGED', 'Accept or reject the changed key first.', { jid });
  if (c.fingerprint !== fingerprint.toUpperCase()) {
    throw new AppError(
      'CONFLICT',
      'The fingerprint you confirmed is not the pinned key. Do not trust this key; contact IT.',
      { jid },
    );
  }
  const now = d.clock.now();
  const row = d.store.contacts.setKey(jid, { trust: 'verified', verifiedAt: now }, now);
  d.audit.append('key-verified', { jid, fingerprint: c.fingerprint });
  return row;
}

/** Whether colleagues have a key at all (key-status.ts); a change reaches the renderer and the outbox. */
function keyStatusBook(d: TrustDeps, emit: (c: StoredContact) => void) {
  return createKeyStatus({
    conn: d.conn,
    changed(jid, from, to) {
      const c = d.store.contacts.get(jid);
      if (c) emit(c);
      // Only a colleague known to have had no key has messages waiting for it (outbox-send.ts);
      // anyone else's queued messages go with the flush on connect, as always.
      if (from === 'none' && to === 'published') d.onKeyReady?.(jid);
    },
  });
}

export function createTrust(d: TrustDeps): Trust {
  const parsed = new Map<string, ContactKey>(); // jid → parsed pinned key (PROTOCOL.md "Speed": parse once)
  const inflight = new Map<string, Promise<void>>();
  const keys = keyStatusBook(d, (c) => emit(c));
  const statusOf = (jid: string) => keys.of(jid, !!d.store.contacts.get(jid)?.fingerprint);

  const toContact = (c: StoredContact): Contact => ({
    jid: c.jid,
    displayName: c.displayName,
    role: c.role,
    presence: d.presenceOf(c.jid),
    presenceStatus: d.statusOf?.(c.jid) ?? null,
    trust: c.trust,
    keyStatus: keys.of(c.jid, c.fingerprint !== null),
    fingerprint: c.fingerprint,
    pendingFingerprint: c.pendingFingerprint,
    firstSeen: c.firstSeen,
    verifiedAt: c.verifiedAt,
  });
  const emit = (c: StoredContact) => d.events.emit('contact:updated', toContact(c));

  async function pinnedKey(c: StoredContact | undefined): Promise<ContactKey | null> {
    if (!c?.publicKey || !c.fingerprint) return null;
    const cached = parsed.get(c.jid);
    if (cached && cached.fingerprint === c.fingerprint) return cached;
    const key = await parseContactKey(c.jid, c.publicKey, c.fingerprint);
    parsed.set(c.jid, key);
    return key;
  }

  const refresh = (jid: string): Promise<void> => {
    const running = inflight.get(jid);
    if (running) return running;
    const p = fetchAndRecord(d, jid, {
      pinned: (key) => parsed.set(jid, key),
      emit,
      status: (s) => keys.set(jid, s),
    }).finally(() => inflight.delete(jid));
    inflight.set(jid, p);
    return p;
  };

  return {
    toContact,
    refresh,
    keyStatus: statusOf,
    probe: (jids) => keys.probe(jids),
    recheck(jid) {
      // refresh() never rejects: its outcome is recorded, and a pinned key releases waiting messages.
      if (statusOf(jid) === 'none') void refresh(jid);
    },
    async keyForSending(jid) {
      let c = d.store.contacts.get(jid);
      if (!c?.fingerprint) {
        await refresh(jid);
        c = d.store.contacts.get(jid);
      }
      if (c?.trust === 'changed') {
        throw new AppError(
          'KEY_CHANGED',
          "This colleague's encryption key changed. Compare the new fingerprint, then accept it to send again.",
          { jid },
        );
      }
      const key = await pinnedKey(c);
      if (!key)
        throw new AppError(
          'KEY_UNAVAILABLE',
          "This colleague's encryption key cannot be fetched, so nothing can be sent securely yet.",
          { jid },
        );
      return key;
    },
    async keyForReceiving(jid) {
      let c = d.store.contacts.get(jid);
      if (!c?.fingerprint) {
        await refresh(jid);
        c = d.store.contacts.get(jid);
      }
      return pinnedKey(c);
    },
    // A refusal rejects, as from the other async methods (nothing here waits).
    verify: (jid, fingerprint) =>
      Promise.resolve().then(() => {
        const row = verifiedRow(d, jid, fingerprint);
        emit(row);
        return toContact(row);
      }),
    async acceptChange(jid, fingerprint) {
      const c = d.store.contacts.get(jid);
      const fpr = fingerprint.toUpperCase();
      if (c?.trust !== 'changed' || c.pendingFingerprint !== fpr) {
        throw new AppError('CONFLICT', 'That is not the changed key waiting for acknowledgement.', { jid });
      }
      const conn = d.conn();
      if (!conn?.isReady()) throw new AppError('NOT_CONNECTED', 'Connect to the server to fetch the new key.');
      // Not fetchable now: refused below like a different key (CONFLICT), and the person reviews again.
      const fetched = await fetchPublicKey(conn, jid).catch(() => null);
      if (!fetched || fetched.fingerprint !== fpr)
        throw new AppError('CONFLICT', 'The server now announces a different key; review again.', { jid });
      const key = await parseContactKey(jid, fetched.binary, fpr);
      const now = d.clock.now();
      parsed.set(jid, key);
      const row = d.store.contacts.setKey(
        jid,
        { trust: 'pinned', fingerprint: fpr, publicKey: key.binary, pendingFingerprint: null, verifiedAt: null },
        now,
      );
      d.audit.append('key-change-acknowledged', { jid, previous: c.fingerprint, fingerprint: fpr });
      emit(row);
      return toContact(row);
    },
  };
}
