/**
 * XEP-0373 §5 against real Prosody: the first workstation publishes an encrypted backup of the
 * account key; another workstation of the same account restores it with the code, or — only with
 * consent — replaces the key. Never a silent replacement.
 */
import { xml } from '@xmpp/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../main/log';
import { createConnection } from '../../main/xmpp/transport/connection';
import { fetchSecretKeyBackup, SECRET_KEY_NODE } from '../../main/xmpp/pep-keys';
import { startProsody, type ProsodyServer } from '../support/prosody';
import { auditTypes, makeClient, messagesWith, waitFor, type TestClient } from '../support/xmpp-support';

const A = 'alice@clinic.test';
const B = 'bob@clinic.test';
const C = 'carol@clinic.test';
const D = 'dana@clinic.test';
const PW = { [A]: 'alice-pw-1', [B]: 'bob-pw-1', [C]: 'carol-pw-1', [D]: 'dana-pw-1' };

describe('secret-key backup (XEP-0373 §5) against real Prosody', () => {
  let server: ProsodyServer;
  const clients: TestClient[] = [];
  const track = (c: TestClient) => (clients.push(c), c);
  const raw = async (jid: keyof typeof PW) => {
    const c = createConnection({
      jid,
      password: PW[jid],
      host: server.host,
      port: server.c2sPort,
      tls: 'starttls',
      caPems: [server.caPem],
      logger: silentLogger,
      onState: () => {},
      onStanza: () => {},
      onReady: () => {},
    });
    await c.start();
    return c;
  };

  beforeAll(async () => {
    server = await startProsody({
      users: [
        { jid: A, password: PW[A], name: 'Alice Archer', role: 'physician' },
        { jid: B, password: PW[B], name: 'Bob Baker', role: 'nurse' },
        { jid: C, password: PW[C], name: 'Carol Cook' },
        { jid: D, password: PW[D], name: 'Dana Dale' },
      ],
    });
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await server?.stop();
  });

  it('restores the same key on a second workstation with the backup code; asks for it, refuses a wrong one', async () => {
    const desk1 = track(await makeClient(server, A, PW[A], { resource: 'desk-1' }));
    const backup = desk1.messaging.keyBackup();
    expect(backup?.code).toMatch(/^([A-HJ-NP-Z2-9]{4}-){5}[A-HJ-NP-Z2-9]{4}$/);
    expect(backup?.fingerprint).toBe(desk1.messaging.ownFingerprint());
    expect(auditTypes(desk1).map((a) => a.type)).toEqual(
      expect.arrayContaining(['key-generated', 'key-published', 'key-backup-published']),
    );
    // No audit entry carries the code.
    expect(JSON.stringify(auditTypes(desk1))).not.toContain(backup!.code);

    await expect(makeClient(server, A, PW[A], { resource: 'desk-2' })).rejects.toMatchObject({
      code: 'KEY_BACKUP_REQUIRED',
    });
    await expect(
      makeClient(server, A, PW[A], {
        resource: 'desk-2',
        startOptions: { keyBackupCode: 'AAAA-BBBB-CCCC-DDDD-EEEE-FFFF' },
      }),
    ).rejects.toMatchObject({
      code: 'KEY_BACKUP_CODE_WRONG',
    });
    const desk2 = track(
      await makeClient(server, A, PW[A], {
        resource: 'desk-2',
        startOptions: { keyBackupCode: backup!.code.toLowerCase() },
      }),
    );
    expect(desk2.messaging.ownFingerprint()).toBe(desk1.messaging.ownFingerprint());
    expect(desk2.messaging.keyBackup()).toEqual(backup);
    const desk2Audit = auditTypes(desk2).map((a) => a.type);
    expect(desk2Audit).toContain('key-restored');
    expect(desk2Audit).not.toContain('key-generated');

    // Both workstations read what a colleague sends; the colleague sees no key change.
    const bob = track(await makeClient(server, B, PW[B]));
    const sent = await bob.messaging.send(bob.store.conversations.getOrCreate(A).id, 'to both desks');
    for (const desk of [desk1, desk2]) {
      const got = await waitFor('each desk decrypts', () =>
        messagesWith(desk, B).find((m) => m.originId === sent.originId),
      );
      expect(got).toMatchObject({ body: 'to both desks', state: 'delivered' });
    }
    expect(bob.store.contacts.get(A)).toMatchObject({ trust: 'pinned', fingerprint: desk1.messaging.ownFingerprint() });
  });

  it('keeps the backup node private to its account (whitelist)', async () => {
    // Dana's own first sign-in publishes her key and its backup (independent of the test above).
    const dana = track(await makeClient(server, D, PW[D]));
    expect(dana.messaging.keyBackup()?.fingerprint).toBe(dana.messaging.ownFingerprint());
    // The server itself refuses a colleague: a stanza error 'forbidden', not a timeout, not a
    // missing node (that would resolve to null) and not a client-side error.
    const bob = await raw(B);
    try {
      await expect(fetchSecretKeyBackup(bob, D)).rejects.toMatchObject({
        name: 'StanzaError',
        condition: 'forbidden',
        type: 'auth',
      });
    } finally {
      await bob.stop();
    }
    const own = await raw(D);
    try {
      expect(await fetchSecretKeyBackup(own, D)).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
    } finally {
      await own.stop();
    }
  });

  it('replaces a key without a backup only with consent (ACCOUNT_KEY_EXISTS), and says so in the audit', async () => {
    const first = track(await makeClient(server, C, PW[C]));
    const oldFpr = first.messaging.ownFingerprint();
    // A key published by another client, without a backup: remove Carol's backup node.
    const carol = await raw(C);
    try {
      await carol.iq(
        xml(
          'iq',
          { type: 'set' },
          xml('pubsub', { xmlns: 'http://jabber.org/protocol/pubsub#owner' }, xml('delete', { node: SECRET_KEY_NODE })),
        ),
      );
    } finally {
      await carol.stop();
    }
    const refused = await makeClient(server, C, PW[C], { resource: 'laptop' }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'ACCOUNT_KEY_EXISTS', details: { fingerprint: oldFpr } });
    const second = track(
      await makeClient(server, C, PW[C], { resource: 'laptop', startOptions: { replaceAccountKey: true } }),
    );
    expect(second.messaging.ownFingerprint()).not.toBe(oldFpr);
    expect(auditTypes(second).find((a) => a.type === 'key-replaced')?.detail).toEqual({
      jid: C,
      previous: oldFpr,
      fingerprint: second.messaging.ownFingerprint(),
    });
    // The new key is backed up in turn.
    expect(second.messaging.keyBackup()?.fingerprint).toBe(second.messaging.ownFingerprint());
  });
});
