/**
 * Patient replies over the real wire (issue 17 item 3): Rita, on a real Prosody, sends a text with
 * her public key and the archive key as reply keys; the patient (played with fetch and openpgp, as
 * the page does) passes the check, encrypts a reply to those keys and posts it; the gateway checks
 * it is ciphertext to exactly those keys, keeps nothing readable, and delivers it to Rita's JID as
 * a chat message from the patient's JID — while she is offline too (Prosody's offline storage).
 * The desktop's parser (common/patient-reply.ts) accepts the stanza, and Rita's and the archive's
 * keys decrypt it. Hostile input: an oversized reply, a replayed token, plaintext, a reply to the
 * wrong keys, a reply without a check, a link without reply keys, an expired link; secret keys as
 * reply keys are refused at the send.
 */
import Database from 'better-sqlite3-multiple-ciphers';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { xml, type XmlElement } from '@xmpp/client';
import * as openpgp from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePatientReply } from '../../common/patient-reply';
import { runGateway, type RunningGateway } from '../../gateway/gateway';
import { openGatewayStore } from '../../gateway/store/store';
import type { XmppConnection } from '../../main/xmpp/transport/connection';
import { fakeClock } from '../support/fake-clock';
import {
  GATEWAY_NS,
  postStep,
  RITA,
  replyKeyPair,
  sealForPatient,
  sealReply,
  sendIq,
  startTestGateway,
  type TestGateway,
} from '../support/gateway-support';
import { startProsody, type ProsodyServer } from '../support/prosody';
import { rawConnection, waitFor } from '../support/xmpp-support';

const PHONE = '+15550700000';
const DOB = '1961-07-04';
/** The patient's browser (the page's device token): every open here is from the same one. */
const DEVICE = randomBytes(16).toString('base64url');

type Keys = Awaited<ReturnType<typeof replyKeyPair>>;

describe('patient replies through the gateway', () => {
  const clock = fakeClock();
  const stanzas: XmlElement[] = [];
  const texts: string[] = [];
  let server: ProsodyServer;
  let gw: TestGateway;
  let rita: XmppConnection;
  let ritaKeys: Keys;
  let archive: Keys;
  let n = 0;
  /** The gateway started again on the same database (the last test). */
  let restarted: RunningGateway | null = null;

  const connectRita = async () => {
    rita = rawConnection(server, RITA, 'rita-pw-1', 'desk', (el) => {
      if (el.is('message')) stanzas.push(el);
    });
    await rita.start();
    await rita.send(xml('presence'));
  };

  beforeAll(async () => {
    server = await startProsody({ users: [{ jid: RITA, password: 'rita-pw-1', name: 'Rita Reception' }] });
    gw = await startTestGateway(server, clock, (b) => ({
      ...b,
      replies: { maxBytes: 4096, maxPerLink: 3, windowMinutes: 30 },
      limits: { perPhonePerDay: 0, quietHours: null },
    }));
    [ritaKeys, archive] = await Promise.all([replyKeyPair('xmpp:rita@clinic.test'), replyKeyPair('archive')]);
    await connectRita();
  });
  afterAll(async () => {
    await rita?.stop();
    if (restarted) {
      await restarted.stop();
      rmSync(gw.dir, { recursive: true, force: true });
    } else await gw?.close();
    await server?.stop();
  });

  const send = async (text: string, opts: { replyKeys?: Uint8Array[] | null; expiresDays?: number } = {}) => {
    const m = await sealForPatient(text, PHONE, DOB);
    const replyKeys =
      opts.replyKeys === null ? undefined : (opts.replyKeys ?? [ritaKeys.publicBinary, archive.publicBinary]);
    const iq = await sendIq(m, server.component.domain, {
      request: `r${++n}`,
      replyKeys,
      expiresDays: opts.expiresDays,
    });
    const sent = (await rita.iq(iq)).getChild('sent', GATEWAY_NS)!;
    return { id: sent.attrs.id!, patient: sent.attrs.patient! };
  };
  const open = async (id: string) => {
    const res = await postStep(gw, id, 'open', { dob: DOB, device: DEVICE });
    expect(res.status).toBe(200);
    return (await res.json()) as { reply: { token: string; keys: string; until: string } | null };
  };
  const replyStanza = (replyId: string) => stanzas.find((s) => s.getChild('reply', GATEWAY_NS)?.attrs.id === replyId);
  const decrypt = async (bytes: Uint8Array, key: openpgp.PrivateKey) => {
    const message = await openpgp.readMessage({ binaryMessage: bytes });
    return (await openpgp.decrypt({ message, decryptionKeys: key })).data;
  };

  it('a verified patient replies; Rita gets it from the patient JID, the parser accepts it, her key and the archive key read it', async () => {
    const { id, patient } = await send('Do you want to keep Tuesday 10:00?');
    const opened = await open(id);
    expect(opened.reply).not.toBeNull();
    expect(opened.reply!.until).toBe(new Date(clock.now() + 30 * 60_000).toISOString());
    const text = 'Yes, Tuesday works. Thank you!';
    texts.push(text);
    const sealed = await sealReply(text, opened.reply!.keys);
    const res = await postStep(gw, id, 'reply', {
      token: opened.reply!.token,
      ciphertext: Buffer.from(sealed).toString('base64'),
    });
    expect(res.status).toBe(200);
    const { replyId } = (await res.json()) as { replyId: string };

    const stanza = await waitFor('the reply at Rita', () => replyStanza(replyId));
    expect(stanza.attrs.from).toBe(patient);
    expect(stanza.attrs.type).toBe('chat');
    const parsed = parsePatientReply(stanza, { gatewayDomain: server.component.domain });
    expect(parsed).toMatchObject({ ok: true, reply: { patientJid: patient, replyId, messageId: id, verified: 'dob' } });
    const reply = (parsed as { ok: true; reply: { ciphertext: Uint8Array } }).reply;
    expect(await decrypt(reply.ciphertext, ritaKeys.privateKey)).toBe(text);
    expect(await decrypt(reply.ciphertext, archive.privateKey)).toBe(text);
    expect(gw.store.get(id)!.state).toBe('replied');
    await waitFor('replied state', () =>
      stanzas.find(
        (s) =>
          s.getChild('state', GATEWAY_NS)?.attrs.id === id &&
          s.getChild('state', GATEWAY_NS)?.attrs.state === 'replied',
      ),
    );

    // The token was for one reply: the same request again is refused.
    const replay = await postStep(gw, id, 'reply', {
      token: opened.reply!.token,
      ciphertext: Buffer.from(sealed).toString('base64'),
    });
    expect(replay.status).toBe(403);
    expect(await replay.json()).toEqual({ error: 'not-verified' });
  });

  it('a reply while Rita is offline waits in Prosody and reaches her when she signs in', async () => {
    const { id } = await send('Offline reply test.');
    const opened = await open(id);
    await rita.stop();
    const text = 'Sent while you were away.';
    texts.push(text);
    const sealed = await sealReply(text, opened.reply!.keys);
    const res = await postStep(gw, id, 'reply', {
      token: opened.reply!.token,
      ciphertext: Buffer.from(sealed).toString('base64'),
    });
    expect(res.status).toBe(200);
    const { replyId } = (await res.json()) as { replyId: string };
    expect(replyStanza(replyId)).toBeUndefined();
    await connectRita();
    const stanza = await waitFor('the offline reply', () => replyStanza(replyId));
    const parsed = parsePatientReply(stanza, { gatewayDomain: server.component.domain });
    expect(parsed?.ok).toBe(true);
    expect(
      await decrypt((parsed as { ok: true; reply: { ciphertext: Uint8Array } }).reply.ciphertext, ritaKeys.privateKey),
    ).toBe(text);
  });

  it('refuses an oversized reply, plaintext, a reply to other keys or without the archive key, and no check', async () => {
    const { id } = await send('Hostile replies.');
    const opened = await open(id);
    const token = opened.reply!.token;
    const as64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

    const big = await sealReply('x'.repeat(6000) + Math.random(), opened.reply!.keys);
    const tooLarge = await postStep(gw, id, 'reply', { token, ciphertext: as64(big) });
    expect(tooLarge.status).toBe(413);
    expect(await tooLarge.json()).toEqual({ error: 'too-large', maxBytes: 4096 });

    const plain = await openpgp.createMessage({ text: 'plaintext reply' });
    const plainBytes = plain.write() as Uint8Array;
    const literal = await postStep(gw, id, 'reply', { token, ciphertext: as64(plainBytes) });
    expect(literal.status).toBe(400);
    expect(await literal.json()).toEqual({ error: 'bad-reply', reason: 'not-encrypted' });

    const stranger = await replyKeyPair('stranger');
    const onlyRita = await sealReply('only Rita', Buffer.from(ritaKeys.publicBinary).toString('base64'));
    const toStranger = await sealReply(
      'stranger',
      Buffer.concat([ritaKeys.publicBinary, archive.publicBinary, stranger.publicBinary]).toString('base64'),
    );
    const password = await openpgp.encrypt({
      message: await openpgp.createMessage({ text: 'pw' }),
      passwords: ['secret'],
      format: 'binary',
    });
    for (const [what, bytes, reason] of [
      ['no archive key', onlyRita, 'wrong-recipients'],
      ['a third recipient', toStranger, 'wrong-recipients'],
      ['a password', password, 'not-encrypted'],
      ['random bytes', new Uint8Array(300).fill(0xaa), 'not-encrypted'],
    ] as const) {
      const res = await postStep(gw, id, 'reply', { token, ciphertext: as64(bytes) });
      expect(res.status, what).toBe(400);
      expect(await res.json(), what).toEqual({ error: 'bad-reply', reason });
    }
    for (const body of [
      { token },
      { ciphertext: 'AAAA' },
      { token, ciphertext: 'not base64!' },
      { token: 5, ciphertext: 'AAAA' },
    ]) {
      expect((await postStep(gw, id, 'reply', body)).status).toBe(400);
    }
    // None of those used the token up: a good reply still goes.
    const good = await sealReply('finally', opened.reply!.keys);
    texts.push('finally');
    expect((await postStep(gw, id, 'reply', { token, ciphertext: as64(good) })).status).toBe(200);

    // Without a passed check there is no token.
    const fresh = await send('No check yet.');
    const guessed = await postStep(gw, fresh.id, 'reply', { token: 'A'.repeat(43), ciphertext: as64(good) });
    expect(guessed.status).toBe(403);
    expect(await guessed.json()).toEqual({ error: 'not-verified' });
  });

  it('the token ends after the window; a new check gives a new one; replies per link are capped', async () => {
    const { id } = await send('Window.');
    const first = await open(id);
    clock.advance(30 * 60_000);
    const late = await sealReply('late', first.reply!.keys);
    expect(
      (await postStep(gw, id, 'reply', { token: first.reply!.token, ciphertext: Buffer.from(late).toString('base64') }))
        .status,
    ).toBe(403);
    for (let i = 0; i < 3; i++) {
      const again = await open(id);
      const sealed = await sealReply(`reply ${i}`, again.reply!.keys);
      texts.push(`reply ${i}`);
      expect(
        (
          await postStep(gw, id, 'reply', {
            token: again.reply!.token,
            ciphertext: Buffer.from(sealed).toString('base64'),
          })
        ).status,
      ).toBe(200);
    }
    expect((await open(id)).reply).toBeNull();
  });

  it('a link sent without reply keys takes no reply; an expired link neither', async () => {
    const none = await send('No replies.', { replyKeys: null });
    const opened = await open(none.id);
    expect(opened.reply).toBeNull();
    const res = await postStep(gw, none.id, 'reply', { token: 'A'.repeat(43), ciphertext: 'AAAA' });
    expect(res.status).toBe(409);
    expect(await res.json()).toEqual({ error: 'no-replies' });

    const expiring = await send('Expiring.', { expiresDays: 1 });
    const grant = (await open(expiring.id)).reply!;
    clock.advance(86_400_000);
    gw.service.expire();
    const sealed = await sealReply('too late', grant.keys);
    const gone = await postStep(gw, expiring.id, 'reply', {
      token: grant.token,
      ciphertext: Buffer.from(sealed).toString('base64'),
    });
    expect(gone.status).toBe(410);
  });

  it('refuses a secret key, garbage or a duplicate as a reply key at the send', async () => {
    const secret = ritaKeys.privateKey.write();
    for (const [what, keys] of [
      ['a secret key', [secret]],
      ['garbage', [new Uint8Array([1, 2, 3, 4])]],
      ['the same key twice', [ritaKeys.publicBinary, ritaKeys.publicBinary]],
    ] as const) {
      const err = await send(`bad keys ${what}`, { replyKeys: [...keys] }).then(
        () => null,
        (e: { condition?: string; application?: XmlElement }) => e,
      );
      expect(err?.condition, what).toBe('bad-request');
    }
  });

  it('keeps no reply text in the database or the log, and no reply ciphertext once delivered', () => {
    const files = readdirSync(gw.dir).filter((f) => f.startsWith('gateway.sqlite'));
    const db = Buffer.concat(files.map((f) => readFileSync(join(gw.dir, f))));
    const log = gw.logLines.join('\n');
    expect(texts.length).toBeGreaterThan(4);
    for (const t of texts) {
      expect(db.includes(t), t).toBe(false);
      expect(log.includes(t), t).toBe(false);
    }
    expect(log.includes(PHONE)).toBe(false);
    expect(gw.store.undeliveredReplies()).toEqual([]);
    const sqlite = new Database(gw.config.storage.sqlitePath, { readonly: true });
    const rows = sqlite.prepare('SELECT count(*) AS n, count(ciphertext) AS kept FROM replies').get() as {
      n: number;
      kept: number;
    };
    sqlite.close();
    expect(rows.n).toBeGreaterThan(4);
    expect(rows.kept).toBe(0);
    expect(log).toContain('"event":"reply-delivered"');
  });
  it('a reply stored but never handed to the XMPP server goes to Rita when the gateway starts again', async () => {
    const { id } = await send('Restart.');
    const grant = (await open(id)).reply!;
    const sealed = await sealReply('Stored before a crash.', grant.keys);
    await gw.stop();
    // What a crash between storing and sending leaves behind.
    const replyId = randomBytes(16).toString('base64url');
    const store = openGatewayStore(gw.config.storage.sqlitePath);
    store.addReply({ id: replyId, messageId: id, ciphertext: Buffer.from(sealed), verified: 'dob', at: clock.now() });
    expect(store.undeliveredReplies().map((r) => r.id)).toEqual([replyId]);
    store.close();

    restarted = await runGateway(gw.config, { clock, logLine: (l) => gw.logLines.push(l) });
    const stanza = await waitFor('the stored reply at Rita', () => replyStanza(replyId));
    const parsed = parsePatientReply(stanza, { gatewayDomain: server.component.domain });
    if (!parsed?.ok) throw new Error('the redelivered reply did not parse');
    expect(parsed.reply.messageId).toBe(id);
    expect(await decrypt(parsed.reply.ciphertext, ritaKeys.privateKey)).toBe('Stored before a crash.');
    await waitFor('delivered', () => restarted!.store.undeliveredReplies().length === 0);
  });
});
