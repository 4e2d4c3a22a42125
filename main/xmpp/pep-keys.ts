/**
 * XEP-0373 §4 public-key publication and retrieval over PEP (PROTOCOL.md "Publishing and
 * fetching"). Pure XML building/reading plus the IQ round trips; trust decisions live in trust.ts.
 */
import { xml, type XmlElement } from '@xmpp/client';
import * as openpgp from 'openpgp';
import type { PublicKey } from 'openpgp';
import { backoffMs } from '../backoff';
import type { Clock } from '../clock';
import { formatXmppDateTime, OX_NS } from '../crypto';
import { normalizeFingerprint } from '../crypto/keys';
import type { XmppConnection } from './transport/connection';

export const KEYS_LIST_NODE = `${OX_NS}:public-keys`;
const keyDataNode = (fpr: string) => `${KEYS_LIST_NODE}:${fpr}`;
/** XEP-0373 §5: the private node holding the encrypted secret-key backup. */
export const SECRET_KEY_NODE = `${OX_NS}:secret-key`;
const PUBSUB = 'http://jabber.org/protocol/pubsub';
const PUBSUB_OWNER = 'http://jabber.org/protocol/pubsub#owner';
const MAX_KEY_BASE64 = 64 * 1024;

const dataForm = (formType: string, fields: Record<string, string>) =>
  xml(
    'x',
    { xmlns: 'jabber:x:data', type: 'submit' },
    xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', {}, formType)),
    ...Object.entries(fields).map(([k, v]) => xml('field', { var: k }, xml('value', {}, v))),
  );

// PROTOCOL.md §3: open access so colleagues who are not roster-subscribed can fetch the key.
const OPEN = { 'pubsub#access_model': 'open' };
// XEP-0373 §5: only the account itself may read its secret-key backup (PROTOCOL.md: works on
// Prosody 0.12 although it does not advertise pubsub#access-whitelist).
const WHITELIST = { 'pubsub#access_model': 'whitelist' };

function publishIq(node: string, itemId: string, payload: XmlElement, options: Record<string, string> | null) {
  return xml(
    'iq',
    { type: 'set' },
    xml(
      'pubsub',
      { xmlns: PUBSUB },
      xml('publish', { node }, xml('item', { id: itemId }, payload)),
      options ? xml('publish-options', {}, dataForm(`${PUBSUB}#publish-options`, options)) : null,
    ),
  );
}

const condition = (err: unknown): string | undefined => (err as { condition?: string } | null)?.condition;

/**
 * A refusal of a publish that says "not now" rather than "no": RFC 6120 §8.3.3's
 * internal-server-error, and item-not-found. (Not resource-constraint: ejabberd 23.01 answers it,
 * type wait, for a publish-option it does not know, which no retry changes.) A publish auto-creates its
 * PEP node (XEP-0163 §3), so "no such node" can only mean the creation failed: a clustered
 * ejabberd 23.01 answers item-not-found when two nodes create PEP nodes at once and Mnesia aborts
 * the transaction as a deadlock (`{aborted,{cyclic,…,{pubsub_index,node},…}}` in its log;
 * PROTOCOL.md "ejabberd"). The same publish a moment later succeeds.
 */
export function isTransientRefusal(err: unknown): boolean {
  const c = condition(err);
  return c === 'internal-server-error' || c === 'item-not-found';
}

/** How a publish retries a transient refusal: on the network's clock, a few times, then gives up. */
export interface PublishRetry {
  clock: Clock;
  /** Tries in all (default 5). */
  attempts?: number;
  /** The first wait (default 250 ms), doubling with jitter up to 4 s. */
  baseMs?: number;
}

const sleep = (clock: Clock, ms: number) => new Promise<void>((resolve) => clock.setTimeout(resolve, ms));

/** Publishing an item under the same id is idempotent, so a transient refusal is simply tried again. */
async function iqRetrying(conn: XmppConnection, el: () => XmlElement, retry: PublishRetry | undefined) {
  const attempts = retry ? (retry.attempts ?? 5) : 1;
  for (let attempt = 0; ; attempt++) {
    try {
      return await conn.iq(el());
    } catch (err) {
      if (!retry || attempt + 1 >= attempts || !isTransientRefusal(err)) throw err;
      await sleep(retry.clock, backoffMs(attempt, { baseMs: retry.baseMs ?? 250, maxMs: 4_000, jitter: 'equal' }));
    }
  }
}

const configureIq = (node: string, options: Record<string, string>) =>
  xml(
    'iq',
    { type: 'set' },
    xml('pubsub', { xmlns: PUBSUB_OWNER }, xml('configure', { node }, dataForm(`${PUBSUB}#node_config`, options))),
  );

/**
 * The publish-options fields every server here knows. ejabberd 23.01 knows only these two and
 * refuses a publish naming any other (resource-constraint, "Unknown field"; PROTOCOL.md
 * "ejabberd"), e.g. XEP-0490's pubsub#max_items.
 */
const BASIC_PUBLISH_OPTIONS = new Set(['pubsub#access_model', 'pubsub#persist_items']);
/** Per connection, the nodes already configured with the options the server refused at publish. */
const configuredApart = new WeakMap<XmppConnection, Set<string>>();

/** Publishes with publish-options; on conflict / precondition-not-met (node exists with other
 *  options: Prosody says conflict, ejabberd precondition-not-met) it reconfigures the node, then
 *  publishes. With `retry`, a transient refusal (isTransientRefusal) of any step is tried again. */
export async function publishWith(
  conn: XmppConnection,
  node: string,
  itemId: string,
  payload: XmlElement,
  options: Record<string, string>,
  retry?: PublishRetry,
): Promise<void> {
  const basic = Object.fromEntries(Object.entries(options).filter(([k]) => BASIC_PUBLISH_OPTIONS.has(k)));
  const narrowable = Object.keys(basic).length < Object.keys(options).length;
  if (narrowable && configuredApart.has(conn))
    return publishNarrowed(conn, node, itemId, payload, options, basic, retry);
  try {
    await iqRetrying(conn, () => publishIq(node, itemId, payload, options), retry);
  } catch (err) {
    const c = condition(err);
    if (c === 'resource-constraint' && narrowable) {
      return publishNarrowed(conn, node, itemId, payload, options, basic, retry);
    }
    if (c !== 'conflict' && c !== 'precondition-not-met') throw err;
    await iqRetrying(conn, () => configureIq(node, options), retry);
    await iqRetrying(conn, () => publishIq(node, itemId, payload, null), retry);
  }
}

/**
 * For a server that knows only the basic publish-options: publish with those (the node is created
 * with its access model right away, never readable by others even for a moment), then give the
 * node the rest of the options as its owner, once per node per connection.
 */
async function publishNarrowed(
  conn: XmppConnection,
  node: string,
  itemId: string,
  payload: XmlElement,
  options: Record<string, string>,
  basic: Record<string, string>,
  retry: PublishRetry | undefined,
): Promise<void> {
  const done = configuredApart.get(conn) ?? new Set<string>();
  configuredApart.set(conn, done);
  try {
    await iqRetrying(conn, () => publishIq(node, itemId, payload, basic), retry);
  } catch (err) {
    const c = condition(err);
    if (c !== 'conflict' && c !== 'precondition-not-met') throw err;
    // The node exists with another access model: configured below, then published again.
    await iqRetrying(conn, () => configureIq(node, options), retry);
    done.add(node);
    await iqRetrying(conn, () => publishIq(node, itemId, payload, null), retry);
    return;
  }
  if (done.has(node)) return;
  await iqRetrying(conn, () => configureIq(node, options), retry);
  done.add(node);
}

const publishOpen = (
  conn: XmppConnection,
  node: string,
  itemId: string,
  payload: XmlElement,
  retry: PublishRetry | undefined,
) => publishWith(conn, node, itemId, payload, OPEN, retry);

/** XEP-0373 §4.1: data node first, then the metadata list (item id "current"). */
export async function publishPublicKey(
  conn: XmppConnection,
  fingerprint: string,
  binary: Uint8Array,
  now: Date,
  retry?: PublishRetry,
): Promise<void> {
  const stamp = formatXmppDateTime(now);
  const data = xml('pubkey', { xmlns: OX_NS }, xml('data', {}, Buffer.from(binary).toString('base64')));
  await publishOpen(conn, keyDataNode(fingerprint), stamp, data, retry);
  const list = xml(
    'public-keys-list',
    { xmlns: OX_NS },
    xml('pubkey-metadata', { 'v4-fingerprint': fingerprint, date: stamp }),
  );
  await publishOpen(conn, KEYS_LIST_NODE, 'current', list, retry);
}

const itemsIq = (to: string, node: string) =>
  xml('iq', { type: 'get', to }, xml('pubsub', { xmlns: PUBSUB }, xml('items', { node, max_items: '1' })));

function firstItemPayload(result: XmlElement, name: string): XmlElement | undefined {
  return result.getChild('items')?.getChild('item')?.getChild(name, OX_NS);
}

/** The v4 fingerprints a <public-keys-list/> announces (upper case, well-formed only), newest first. */
export function announcedKeys(list: XmlElement | undefined): { fpr: string; date: string }[] {
  return (list?.getChildren('pubkey-metadata') ?? [])
    .map((m) => ({ fpr: String(m.attrs['v4-fingerprint'] ?? '').toUpperCase(), date: String(m.attrs.date ?? '') }))
    .filter((m) => /^[0-9A-F]{40}$/.test(m.fpr))
    .sort((a, b) => (a.date < b.date ? 1 : -1));
}

export interface FetchedKey {
  fingerprint: string;
  binary: Uint8Array;
}

/** XEP-0373 §4.3: the list node, then the announced key's data node. Throws on any problem. */
export async function fetchPublicKey(conn: XmppConnection, bareJid: string): Promise<FetchedKey> {
  const listRes = await conn.iq(itemsIq(bareJid, KEYS_LIST_NODE));
  const list = listRes.getChild('pubsub', PUBSUB)
    ? firstItemPayload(listRes.getChild('pubsub', PUBSUB)!, 'public-keys-list')
    : undefined;
  // One key per account (PROTOCOL.md); if several are listed, take the newest announcement.
  const newest = announcedKeys(list)[0];
  if (!newest) throw new Error('no OpenPGP key announced');
  const dataRes = await conn.iq(itemsIq(bareJid, keyDataNode(newest.fpr)));
  const pubsub = dataRes.getChild('pubsub', PUBSUB);
  const b64 = (pubsub ? firstItemPayload(pubsub, 'pubkey')?.getChildText('data') : null)?.replace(/\s+/g, '') ?? '';
  if (!b64 || b64.length > MAX_KEY_BASE64 || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64))
    throw new Error('key data missing or malformed');
  return { fingerprint: newest.fpr, binary: new Uint8Array(Buffer.from(b64, 'base64')) };
}

export type PinnedKeyResult = { key: PublicKey } | { refused: 'no-key' | 'key-mismatch' };

/**
 * A clinic key the policy pins by fingerprint (the compliance key: audit anchoring, issue 15, and
 * the archive recipient of patient texts, issue 17), from its account's published key. Any other
 * key, or none, is refused: the fingerprint is a hash over the key, so a substitute cannot match.
 */
export async function fetchPinnedKey(conn: XmppConnection, jid: string, pinned: string): Promise<PinnedKeyResult> {
  let fetched: FetchedKey;
  try {
    fetched = await fetchPublicKey(conn, jid);
  } catch {
    return { refused: 'no-key' };
  }
  try {
    const key = await openpgp.readKey({ binaryKey: fetched.binary });
    if (key.isPrivate() || normalizeFingerprint(key.getFingerprint()) !== normalizeFingerprint(pinned))
      return { refused: 'key-mismatch' };
    return { key };
  } catch {
    return { refused: 'key-mismatch' };
  }
}

/**
 * Whether a colleague announces any key (issue 12 §3): only their list node is read, nothing is
 * pinned. True / false as the server answers (no node: false); throws when it does not answer.
 */
export async function announcesKey(conn: XmppConnection, bareJid: string): Promise<boolean> {
  let res: XmlElement;
  try {
    res = await conn.iq(itemsIq(bareJid, KEYS_LIST_NODE));
  } catch (err) {
    // Never published: Prosody has no such node for an account that never signed in.
    if (condition(err) === 'item-not-found') return false;
    throw err;
  }
  const pubsub = res.getChild('pubsub', PUBSUB);
  return announcedKeys(pubsub ? firstItemPayload(pubsub, 'public-keys-list') : undefined).length > 0;
}

/** XEP-0373 §5.2: publishes the encrypted secret-key backup (base64) to our whitelist-only node. */
export async function publishSecretKeyBackup(
  conn: XmppConnection,
  base64: string,
  retry?: PublishRetry,
): Promise<void> {
  await publishWith(conn, SECRET_KEY_NODE, 'current', xml('secretkey', { xmlns: OX_NS }, base64), WHITELIST, retry);
}

/** Our own encrypted secret-key backup, or null when none is published (XEP-0373 §5.3). */
export async function fetchSecretKeyBackup(conn: XmppConnection, ownBareJid: string): Promise<string | null> {
  let res: XmlElement;
  try {
    res = await conn.iq(itemsIq(ownBareJid, SECRET_KEY_NODE));
  } catch (err) {
    if (condition(err) === 'item-not-found') return null;
    throw err;
  }
  const pubsub = res.getChild('pubsub', PUBSUB);
  const b64 = (pubsub ? firstItemPayload(pubsub, 'secretkey')?.getText() : '')?.replace(/\s+/g, '') ?? '';
  if (!b64) return null;
  if (b64.length > MAX_KEY_BASE64 || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64))
    throw new Error('secret-key backup malformed');
  return b64;
}

/** Whether our account already announces a public key (another workstation, another client). */
export async function fetchOwnAnnouncedKey(conn: XmppConnection, ownBareJid: string): Promise<FetchedKey | null> {
  try {
    return await fetchPublicKey(conn, ownBareJid);
  } catch (err) {
    const c = condition(err);
    if (c === 'item-not-found' || (err instanceof Error && err.message === 'no OpenPGP key announced')) return null;
    throw err;
  }
}
