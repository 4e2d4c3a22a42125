/**
 * Gathers a report's evidence (evidence.ts) over a signed-in compliance session: every batch in
 * the compliance account's archive (main/xmpp/audit-anchor-stanza.ts), decrypted with the
 * compliance key, and the published OpenPGP key (XEP-0373 PEP) of every account a batch names or
 * came from. Nothing is judged here: evidence.ts analyse does that.
 */
import * as openpgp from 'openpgp';
import type { PrivateKey } from 'openpgp';
import type { XmlElement } from '@xmpp/client';
import { openAnchorBatch, readSignedBatch } from '../../main/crypto/audit-anchor';
import { normalizeFingerprint } from '../../main/crypto/keys';
import { fetchArchivedAnchors } from '../../main/xmpp/audit-anchor-stanza';
import { fetchPublicKey } from '../../main/xmpp/pep-keys';
import type { XmppConnection } from '../../main/xmpp/transport/connection';
import { evidenceSchema, type Evidence } from './evidence';

async function publishedKey(conn: XmppConnection, account: string): Promise<Evidence['keys'][string]> {
  try {
    const fetched = await fetchPublicKey(conn, account);
    const key = await openpgp.readKey({ binaryKey: fetched.binary });
    if (key.isPrivate()) return null;
    return { fingerprint: normalizeFingerprint(key.getFingerprint()), armored: key.armor() };
  } catch {
    return null; // no key published (or an unreadable one): every batch naming it counts as forged
  }
}

export async function collectEvidence(
  conn: XmppConnection,
  onStanza: (f: (el: XmlElement) => void) => void,
  req: {
    server: Evidence['server'];
    compliance: string;
    complianceKey: PrivateKey;
    period: Pick<Evidence, 'from' | 'to' | 'overdueHours' | 'generatedAt'>;
  },
): Promise<Evidence> {
  const query = fetchArchivedAnchors(conn, req.compliance);
  onStanza((el) => {
    query.collect(el);
  });
  const archived = await query.done;
  const batches: Evidence['batches'] = [];
  const accounts = new Set<string>();
  for (const a of archived) {
    const opened = await openAnchorBatch(a.armored, req.complianceKey);
    const signed = opened.ok ? opened.signed : null;
    batches.push({ archiveId: a.id, from: a.from, stamp: a.stamp, signed });
    accounts.add(a.from);
    if (signed) {
      const named = await readSignedBatch(signed, null);
      if (named.ok) accounts.add(named.batch.account);
    }
  }
  const keys: Evidence['keys'] = {};
  for (const account of [...accounts].sort()) keys[account] = await publishedKey(conn, account);
  // Through the schema: its key order is what verify-report re-renders the page with.
  return evidenceSchema.parse({ v: 1, compliance: req.compliance, ...req.period, keys, batches, server: req.server });
}
