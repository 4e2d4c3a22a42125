/** Contacts: directory data (name, role) plus the pinned key and its trust state. */
import type { Role, TrustState } from '../../../common/contract/domain';
import type { Clock } from '../../clock';
import type { Db } from '../open-db';
import type { ContactKeyUpdate, ContactRepo, ContactUpsert, StoredContact } from '../types';

interface Row {
  jid: string;
  display_name: string;
  role: Role | null;
  fingerprint: string | null;
  trust: TrustState;
  pending_fingerprint: string | null;
  public_key: Buffer | null;
  first_seen: number | null;
  verified_at: number | null;
  updated_at: number;
}

const toContact = (r: Row): StoredContact => ({
  jid: r.jid,
  displayName: r.display_name,
  role: r.role,
  fingerprint: r.fingerprint,
  trust: r.trust,
  pendingFingerprint: r.pending_fingerprint,
  publicKey: r.public_key ? new Uint8Array(r.public_key) : null,
  firstSeen: r.first_seen,
  verifiedAt: r.verified_at,
  updatedAt: r.updated_at,
});

export function createContactRepo(db: Db, clock: Pick<Clock, 'now'>): ContactRepo {
  const get = db.prepare<[string], Row>('SELECT * FROM contacts WHERE jid = ?');
  const list = db.prepare<[], Row>('SELECT * FROM contacts ORDER BY display_name COLLATE NOCASE, jid');
  const insert = db.prepare<[string, string, Role | null, number]>(
    'INSERT INTO contacts (jid, display_name, role, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (jid) DO NOTHING',
  );
  const rename = db.prepare<[string, number, string]>(
    'UPDATE contacts SET display_name = ?, updated_at = ? WHERE jid = ?',
  );
  const setRole = db.prepare<[Role | null, number, string]>(
    'UPDATE contacts SET role = ?, updated_at = ? WHERE jid = ?',
  );
  const setKey = db.prepare<
    [TrustState, string | null, string | null, Buffer | null, number | null, number | null, number, string]
  >(
    `UPDATE contacts SET trust = ?, fingerprint = ?, pending_fingerprint = ?, public_key = ?, verified_at = ?,
       first_seen = coalesce(first_seen, ?), updated_at = ? WHERE jid = ?`,
  );

  const must = (jid: string): StoredContact => toContact(get.get(jid)!);

  const upsert = (c: ContactUpsert, now = clock.now()): StoredContact => {
    insert.run(c.jid, c.displayName ?? c.jid, c.role ?? null, now);
    if (c.displayName !== undefined) rename.run(c.displayName, now, c.jid);
    if (c.role !== undefined) setRole.run(c.role, now, c.jid);
    return must(c.jid);
  };

  return {
    upsert: (c, now) => db.transaction(() => upsert(c, now)).immediate(),
    get: (jid) => {
      const r = get.get(jid);
      return r ? toContact(r) : undefined;
    },
    list: () => list.all().map(toContact),
    setKey: (jid, u: ContactKeyUpdate, now = clock.now()) =>
      db
        .transaction(() => {
          const cur = get.get(jid) ?? (insert.run(jid, jid, null, now), get.get(jid)!);
          const pick = <K extends keyof ContactKeyUpdate, V>(k: K, fallback: V) =>
            u[k] === undefined ? fallback : u[k];
          setKey.run(
            u.trust,
            pick('fingerprint', cur.fingerprint),
            pick('pendingFingerprint', cur.pending_fingerprint),
            u.publicKey === undefined ? cur.public_key : u.publicKey === null ? null : Buffer.from(u.publicKey),
            pick('verifiedAt', cur.verified_at),
            u.firstSeen ?? null,
            now,
            jid,
          );
          return must(jid);
        })
        .immediate(),
  };
}
