/**
 * Test clients for the XMPP integration tests: a real Messaging over a real SQLCipher store and a
 * real audit log in a temp dir, talking to the real Prosody from test/support/prosody.ts.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventName } from '../../common/ipc-contract';
import type { Message, ServerConfig } from '../../common/contract/domain';
import { createFileStore } from '../../main/attachments/file-store';
import { createAuditLog, type AuditLog } from '../../main/audit';
import { systemClock, type Clock } from '../../main/clock';
import { createEventBus } from '../../main/events';
import { silentLogger, type LogFields, type Logger } from '../../main/log';
import { defaultPolicy, type Policy } from '../../main/policy/schema';
import { messagingHooks } from '../../main/session/notifications';
import { openStore, type Store } from '../../main/store';
import { createMessaging, type Messaging } from '../../main/xmpp';
import { createConnection, type XmppConnection } from '../../main/xmpp/transport/connection';
import type { MessagingInspect, MessagingMetrics, StartOptions } from '../../main/xmpp/types';
import { xml, type XmlElement } from '@xmpp/client';
import type { ProsodyServer } from './prosody';

/** What a client needs of a test server: Prosody (prosody.ts) or ejabberd (ejabberd.ts). */
export type XmppTestServer = Pick<ProsodyServer, 'host' | 'c2sPort' | 'caPem'> & {
  /** The server matrix's cluster (test/support/test-server.ts): the port of this account's node. */
  portFor?: (jid: string) => number;
};

/** The client port `jid` connects to: its own node's on a cluster, else the server's. */
const portOf = (server: XmppTestServer, jid: string): number => server.portFor?.(jid) ?? server.c2sPort;

export interface TestClient {
  jid: string;
  store: Store;
  audit: AuditLog;
  messaging: Messaging;
  events: { name: EventName; payload: unknown }[];
  dir: string;
  /** Stops messaging, closes the store, removes the temp dir. */
  close(): Promise<void>;
  /** Same profile (store, keys), fresh Messaging: a restart of the app. */
  restart(): Promise<void>;
  outboxIdle(ms?: number): Promise<boolean>;
}

export async function makeClient(
  server: XmppTestServer,
  jid: string,
  password: string,
  o: {
    resource?: string;
    start?: boolean;
    dir?: string;
    startOptions?: Omit<StartOptions, 'firstRun'>;
    inspect?: MessagingInspect;
    /** Benchmarks: where the service's time goes (MessagingOptions.metrics). */
    metrics?: MessagingMetrics;
    /** What the service logs (default: nothing); tests check what is logged, and that no content is. */
    logger?: Logger;
    /** The app's clock (default: the system clock); the network keeps the system clock. */
    clock?: Clock;
    /** Policy keys over the defaults (the server's CA is always added). */
    policy?: Partial<Policy>;
    /** The workstation profile's id (audit anchoring names it). */
    workstationId?: string;
    /** The store's and the audit log's keys (default: random): to open the same profile again. */
    keys?: { store: Buffer; audit: Buffer };
    /** Each event as the bus emits it (benchmarks time arrivals here, not by scanning `events`). */
    onEvent?: (name: EventName, payload: unknown) => void;
    /** Over the account's server settings (default: this server's host and the account's port, starttls). */
    server?: Partial<ServerConfig>;
  } = {},
): Promise<TestClient> {
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'xmpp-client-'));
  const key = o.keys?.store ?? randomBytes(32);
  const clock = o.clock ?? systemClock;
  const store = openStore({ file: join(dir, 'cache.db'), key });
  const audit = createAuditLog({ store, key: o.keys?.audit ?? randomBytes(32), clock });
  const bus = createEventBus(silentLogger);
  const events: TestClient['events'] = [];
  bus.subscribe((name, payload) => {
    o.onEvent?.(name, payload);
    events.push({ name, payload });
  });
  const policy = { ...defaultPolicy, ...o.policy, trustedCaPem: server.caPem };
  // The profile's encrypted attachment files, as the session opens them (open-services.ts).
  const files = createFileStore({ profileDir: dir, filesKey: randomBytes(32) });
  const build = () =>
    createMessaging({
      account: {
        jid,
        password,
        server: { host: server.host, port: portOf(server, jid), tls: 'starttls' as const, ...o.server },
      },
      store,
      audit,
      events: bus,
      logger: o.logger ?? silentLogger,
      policy,
      clock,
      transportClock: systemClock,
      resource: o.resource,
      ...(o.workstationId ? { workstationId: o.workstationId } : {}),
      files,
      reconnect: { baseMs: 100, maxMs: 1_000 },
      // As an open session wires it (main/session/open-services.ts): never locked, the policy's preview.
      ...messagingHooks(() => ({ locked: false, userPreview: null }), {
        policy,
        store,
        events: bus,
      }),
      ...(o.inspect ? { inspect: o.inspect } : {}),
      ...(o.metrics ? { metrics: o.metrics } : {}),
    });
  const client: TestClient = {
    jid,
    store,
    audit,
    messaging: build(),
    events,
    dir,
    async close() {
      await client.messaging.stop();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
    async restart() {
      await client.messaging.stop();
      client.messaging = build();
      await client.messaging.start();
    },
    outboxIdle(ms = 30_000) {
      return client.messaging.inspect.outboxIdle(ms);
    },
  };
  if (o.start !== false) {
    try {
      await client.messaging.start({ firstRun: true, ...o.startOptions });
    } catch (err) {
      await client.close(); // a failed first run leaves nothing behind, as in the app
      throw err;
    }
  }
  return client;
}

export async function waitFor<T>(what: string, fn: () => T | undefined | null | false, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** All messages of the conversation with `peer`, oldest first. */
export function messagesWith(c: TestClient, peer: string) {
  const conv = c.store.conversations.byPeer(peer);
  if (!conv) return [];
  const out = [];
  let before: string | null = null;
  for (;;) {
    const page = c.store.messages.page(conv.id, { before, limit: 500 });
    out.push(...page.items);
    if (!page.nextCursor) break;
    before = page.nextCursor;
  }
  return out.reverse();
}

/**
 * The origin-ids of `rows` that are among `written`, in the conversation's order; when that is not
 * the written order, first prints how each of them arrived (its place in the written order, its
 * row id = arrival, its sort time and the sender's claim relative to the first one, whether the
 * server stamped it) so a failure on a loaded CI machine says which path delivered what. No
 * content is printed.
 */
export function inWrittenOrder(what: string, rows: Message[], written: Message[]): (string | null)[] {
  const place = new Map(written.map((m, i) => [m.originId, i]));
  const mine = rows.filter((m) => place.has(m.originId));
  const order = mine.map((m) => m.originId);
  if (order.join() !== written.map((m) => m.originId).join()) {
    const t0 = Math.min(...mine.map((m) => m.sentAt));
    const lines = mine.map(
      (m) =>
        `#${place.get(m.originId)} row ${m.id} sortedAt +${m.sentAt - t0} ms claimed +${(m.claimedAt ?? t0) - t0} ms ${m.state}`,
    );
    console.log(`[order] ${what}: ${lines.join('; ')}`);
  }
  return order;
}

/** A logger that keeps what messaging logs as `level message {fields}` lines (names and codes: it logs no content), for a failure's report. */
export function recordingLogger(lines: string[]): Logger {
  const at = (lvl: string) => (msg: string, fields?: LogFields) =>
    void lines.push(`${lvl} ${msg} ${JSON.stringify(fields ?? {})}`);
  return { debug: () => undefined, info: at('info'), warn: at('warn'), error: at('error') };
}

export const auditTypes = (c: TestClient) => {
  const types: { type: string; detail: Record<string, unknown> }[] = [];
  let before: number | null = null;
  for (;;) {
    const page = c.audit.list(before, 500);
    types.push(...page.items.map((i) => ({ type: i.type, detail: i.detail })));
    if (page.nextBefore === null) break;
    before = page.nextBefore;
  }
  return types;
};

/**
 * A bare XMPP connection of a real account (no messaging service on it): what a hostile colleague,
 * or a second device of the same account, can send by hand. Call start() before use.
 */
export function rawConnection(
  server: XmppTestServer,
  jid: string,
  password: string,
  resource: string,
  onStanza: (el: XmlElement) => void = () => {},
): XmppConnection {
  return createConnection({
    jid,
    password,
    host: server.host,
    port: portOf(server, jid),
    tls: 'starttls',
    caPems: [server.caPem],
    resource,
    logger: silentLogger,
    onState: () => {},
    onStanza,
    onReady: () => {},
  });
}

/**
 * What IT's provisioning does for each account (deploy/prosody/README.md): its name in the clinic
 * directory as the account's vCard FN, which the app reads at first sign-in (main/xmpp/own-name.ts)
 * instead of asking for a name.
 */
export async function setDirectoryNames(
  server: XmppTestServer,
  people: { jid: string; password: string; name: string }[],
): Promise<void> {
  await Promise.all(
    people.map(async (p) => {
      const c = rawConnection(server, p.jid, p.password, 'provisioning');
      await c.start();
      try {
        await c.iq(xml('iq', { type: 'set' }, xml('vCard', { xmlns: 'vcard-temp' }, xml('FN', {}, p.name))));
      } finally {
        await c.stop();
      }
    }),
  );
}
