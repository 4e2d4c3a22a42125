/**
 * Issue 10 item 12 (part): a contact-key refresh cut off by stopping messaging (lock, quit,
 * switch user) used to log "contact key unavailable: not-found" — and, for a colleague not yet
 * pinned, mark the key unavailable and audit it — although the colleague's key was there all
 * along. Stopping cancels the refresh quietly; the next connect asks again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../main/clock';
import { createEventBus } from '../../main/events';
import { silentLogger, type LogFields, type Logger } from '../../main/log';
import type { XmppConnection } from '../../main/xmpp/transport/connection';
import { createTrust } from '../../main/xmpp/trust';
import { startProsody, type ProsodyServer } from '../support/prosody';
import { auditTypes, makeClient, rawConnection, type TestClient } from '../support/xmpp-support';

const A = 'alice@clinic.test';
const B = 'bob@clinic.test';

describe('a contact-key refresh cut off by stopping', () => {
  let server: ProsodyServer;
  let alice: TestClient;
  let bob: TestClient;

  beforeAll(async () => {
    server = await startProsody({
      users: [
        { jid: A, password: 'alice-pw-1', name: 'Alice Archer' },
        { jid: B, password: 'bob-pw-1', name: 'Bob Baker' },
      ],
    });
    // Bob publishes his key; Alice's directory knows Bob (shared roster) but has not pinned him yet.
    [bob, alice] = [await makeClient(server, B, 'bob-pw-1'), await makeClient(server, A, 'alice-pw-1')];
  });
  afterAll(async () => {
    await Promise.all([alice, bob].filter(Boolean).map((c) => c.close()));
    await server?.stop();
  });

  /** Alice's store and audit log with a connection of her own (a second resource) and a logger we read. */
  function aliceTrust(resource: string) {
    const lines: { level: string; msg: string; fields?: LogFields }[] = [];
    const at = (level: string) => (msg: string, fields?: LogFields) => lines.push({ level, msg, fields });
    const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
    const conn: XmppConnection = rawConnection(server, A, 'alice-pw-1', resource);
    const trust = createTrust({
      store: alice.store,
      audit: alice.audit,
      events: createEventBus(silentLogger),
      logger,
      clock: systemClock,
      conn: () => conn,
      presenceOf: () => 'offline',
    });
    return { conn, trust, lines };
  }

  it('stopping during the refresh logs nothing misleading and records nothing about the key', async () => {
    expect(alice.store.contacts.get(B)?.fingerprint ?? null).toBeNull();
    const { conn, trust, lines } = aliceTrust('refresh-stopped');
    await conn.start();
    const refreshing = trust.refresh(B); // its first PEP request is on the wire now
    await conn.stop();
    await refreshing;
    expect(lines).toEqual([]);
    expect(alice.store.contacts.get(B)?.trust).not.toBe('unavailable');
    expect(auditTypes(alice).filter((a) => a.type === 'key-unavailable')).toEqual([]);

    // The same refresh, not stopped, finds Bob's key: the stopped one was cut off, not refused.
    const again = aliceTrust('refresh-finished');
    await again.conn.start();
    await again.trust.refresh(B);
    await again.conn.stop();
    expect(alice.store.contacts.get(B)).toMatchObject({ trust: 'pinned', fingerprint: bob.messaging.ownFingerprint() });
    expect(again.lines.filter((l) => l.msg.includes('unavailable'))).toEqual([]);
  });
});
