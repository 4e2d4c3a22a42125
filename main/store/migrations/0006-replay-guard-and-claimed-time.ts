/**
 * Version 6 (issue 10 §3, §4): a durable replay guard and honest message times.
 *
 * - `inbound_seen`: one row per verified inbound signcrypt, keyed by (signer fingerprint, SHA-256
 *   of the signed plaintext). It is written in the same transaction as the message, so a replay is
 *   refused after lock/unlock, after a restart, and whichever way it comes (live, carbon, archive).
 *   The digest is of the decrypted, signature-checked `<signcrypt/>` (its `<rpad/>` is random, so
 *   two genuine messages never share it), not of the ciphertext: the same signed content can be
 *   re-framed into different ciphertext bytes (drop one of the session-key packets) by anyone who
 *   holds the message, which a ciphertext digest would not recognise.
 * - `claimed_at`: the sender's own `<time/>`. From now on `sent_at`, which orders a conversation,
 *   is when our server (its trusted delay stamp) or this device received a message, so no sender's
 *   clock can sort a message above newer ones or keep it past retention (common/message-time.ts
 *   says which of the two is shown). Existing rows whose claim is later than their receipt are
 *   clamped to the receipt; older rows keep their order.
 */
import type { Db } from '../open-db';

export function migrate0006ReplayGuardAndClaimedTime(db: Db): void {
  db.exec(`
    CREATE TABLE inbound_seen (
      signer TEXT NOT NULL,
      digest BLOB NOT NULL,
      PRIMARY KEY (signer, digest)
    ) WITHOUT ROWID;

    ALTER TABLE messages ADD COLUMN claimed_at INTEGER;
    UPDATE messages SET claimed_at = sent_at, sent_at = received_at
     WHERE direction = 'in' AND received_at IS NOT NULL AND sent_at > received_at;
  `);
}
