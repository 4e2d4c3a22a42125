/**
 * Texts to patients inside a signed-in session (issue 17 item 2), over a real Prosody with the real
 * patient gateway and the SMS sink: the text is stored first (encrypted store), handed to the
 * gateway encrypted to a link secret and the compliance account's pinned key (the clinic's archive
 * key), and moves through the gateway's states; stored while offline it goes once at the next
 * connection; every step is audited with ids and states only; without the archive key in the
 * policy nothing is sent; a <state/> that does not come from the gateway changes nothing.
 */
import { xml } from '@xmpp/client';
import * as openpgp from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSink } from '../../gateway/sms/sink';
import { NS_PATIENT_GATEWAY } from '../../main/xmpp/patient-gateway';
import { publishPublicKey } from '../../main/xmpp/pep-keys';
import type { XmppConnection } from '../../main/xmpp/transport/connection';
import { adminKey } from '../support/crypto-fixtures';
import { fakeClock } from '../support/fake-clock';
import { startTestGateway, type TestGateway } from '../support/gateway-support';
import { startProsody, type ProsodyServer } from '../support/prosody';
import { makeClient, rawConnection, waitFor, type TestClient } from '../support/xmpp-support';

const RITA = 'rita@clinic.test';
const COMP = 'compliance@clinic.test';
const TEXT = 'Your wound swab grew nothing; keep the dressing dry until Friday.';
const draft = (phone: string) => ({
  patientName: 'Maria Lopez',
  phone,
  check: 'dob' as const,
  dob: '1984-02-29',
  text: TEXT,
  smsTemplate: 'Your clinic sent you a secure message: {link}',
});

describe('texts to patients in a session', () => {
  const clock = fakeClock();
  let server: ProsodyServer;
  let gw: TestGateway;
  let comp: XmppConnection;
  let archive: openpgp.PrivateKey;
  let rita: TestClient;
  let fingerprint: string;

  beforeAll(async () => {
    server = await startProsody({
      users: [
        { jid: RITA, password: 'rita-pw-1', name: 'Rita Reception' },
        { jid: COMP, password: 'comp-pw-1', name: 'Compliance' },
        { jid: 'sam@clinic.test', password: 'sam-pw-1', name: 'Sam Desk' },
      ],
    });
    gw = await startTestGateway(server, clock);
    // The compliance account publishes the clinic's archive key (as `clinic-admin publish-key` does).
    archive = await adminKey('Clinic archive');
    fingerprint = archive.getFingerprint().toUpperCase();
    comp = rawConnection(server, COMP, 'comp-pw-1', 'admin');
    await comp.start();
    await publishPublicKey(comp, fingerprint, archive.toPublic().write(), new Date(clock.now()));
    rita = await makeClient(server, RITA, 'rita-pw-1', {
      clock,
      start: false,
      policy: { complianceAccount: COMP, complianceKeyFingerprint: fingerprint },
    });
  });
  afterAll(async () => {
    await rita?.close();
    await comp?.stop();
    await gw?.close();
    await server?.stop();
  });

  const audited = () =>
    rita.audit
      .list(null, 200)
      .items.reverse()
      .filter((e) => e.type === 'patient-text')
      .map((e) => e.detail);

  it('stored while offline, it goes once at the next connection', async () => {
    const t = await rita.messaging.patients.send(draft('+15550111111'));
    expect(t.state).toBe('sending');
    expect(readSink(gw.sinkDir)).toHaveLength(0);
    await rita.messaging.start({ firstRun: true });
    await rita.messaging.inspect.settled();
    await waitFor('taken', () => rita.messaging.patients.list().find((x) => x.id === t.id && x.state !== 'sending'));
    const row = rita.messaging.patients.list().find((x) => x.id === t.id)!;
    expect(row.state).toBe('sms-delivered');
    expect(row.patientJid).toMatch(/^p-[0-9a-f]{24}@patients\.clinic\.test$/);
    expect(readSink(gw.sinkDir).filter((s) => s.to === '+15550111111')).toHaveLength(1);
    // A second connection sends nothing again.
    await rita.restart();
    await rita.messaging.inspect.settled();
    expect(readSink(gw.sinkDir).filter((s) => s.to === '+15550111111')).toHaveLength(1);
  });

  it('the patient opens it; the archive key reads it; the state reaches the session, audited, with an event', async () => {
    const t = await rita.messaging.patients.send(draft('+15550222222'));
    expect(t.state).toBe('sms-delivered');
    const sms = readSink(gw.sinkDir).find((s) => s.to === '+15550222222')!;
    const [, id, secret] = /\/m\/([A-Za-z0-9_-]{22})#([A-Za-z0-9_-]{22})$/.exec(sms.body)!;
    expect(sms.body).not.toMatch(/Maria|Lopez|swab|1984/);
    const res = await fetch(`${gw.baseUrl}/api/m/${id}/open`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ dob: '1984-02-29' }),
    });
    const { ciphertext } = (await res.json()) as { ciphertext: string };
    const read = async (o: { passwords?: string[]; decryptionKeys?: openpgp.PrivateKey }) =>
      (
        await openpgp.decrypt({
          message: await openpgp.readMessage({ binaryMessage: Buffer.from(ciphertext, 'base64') }),
          format: 'utf8',
          ...o,
        })
      ).data;
    expect(await read({ passwords: [secret!] })).toBe(TEXT);
    expect(await read({ decryptionKeys: archive })).toBe(TEXT);

    // A <state/> for this link from another account of the clinic (the server stamps the real
    // sender) is not the gateway's: had it counted, the text would end 'expired', not 'opened'.
    await comp.send(
      xml(
        'message',
        { to: RITA, type: 'normal' },
        xml('state', { xmlns: NS_PATIENT_GATEWAY, id, state: 'expired', at: new Date(clock.now()).toISOString() }),
      ),
    );

    await waitFor('opened', () => rita.messaging.patients.list().find((x) => x.id === t.id && x.state === 'opened'));
    // Another text's round trip through the gateway: by its end the forged message was long handled.
    expect((await rita.messaging.patients.send(draft('+15550555555'))).state).toBe('sms-delivered');
    expect(rita.messaging.patients.list().find((x) => x.id === t.id)?.state).toBe('opened');
    expect(
      audited()
        .filter((d) => d.id === t.id)
        .map((d) => d.state),
    ).toEqual(['sending', 'sms-delivered', 'opened']);
    const updates = rita.events
      .filter((e) => e.name === 'patient:updated')
      .map((e) => e.payload as { id: string; state: string });
    expect(updates.filter((u) => u.id === t.id).map((u) => u.state)).toEqual(['sending', 'sms-delivered', 'opened']);
    // Neither the verifier nor the gateway's link id reaches the renderer.
    expect(Object.keys(updates[0]!)).not.toContain('dobVerifier');
  });

  it('with a one-time code as the check, no date of birth leaves the app and the page asks for a code', async () => {
    const t = await rita.messaging.patients.send({ ...draft('+15550666666'), check: 'code', dob: '' });
    expect(t.state).toBe('sms-delivered');
    expect(t.check).toBe('code');
    const sms = readSink(gw.sinkDir).find((s) => s.to === '+15550666666')!;
    const [, id] = /\/m\/([A-Za-z0-9_-]{22})#/.exec(sms.body)!;
    const check = await fetch(`${gw.baseUrl}/api/m/${id}/check`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(await check.json()).toMatchObject({ check: 'code' });
    // A date of birth opens nothing for a code link.
    const byDob = await fetch(`${gw.baseUrl}/api/m/${id}/open`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ dob: '1984-02-29' }),
    });
    expect(byDob.ok).toBe(false);
  });

  it('without the archive key in the policy nothing is stored or sent', async () => {
    const other = await makeClient(server, 'sam@clinic.test', 'sam-pw-1', { clock });
    try {
      await expect(other.messaging.patients.send(draft('+15550333333'))).rejects.toMatchObject({ code: 'FORBIDDEN' });
      expect(other.messaging.patients.list()).toEqual([]);
      expect(readSink(gw.sinkDir).filter((s) => s.to === '+15550333333')).toHaveLength(0);
    } finally {
      await other.close();
    }
  });

  it('PHI in the SMS text is refused before anything is stored', async () => {
    const n = rita.messaging.patients.list().length;
    await expect(
      rita.messaging.patients.send({ ...draft('+15550444444'), smsTemplate: 'Maria, news from the lab: {link}' }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(rita.messaging.patients.list()).toHaveLength(n);
  });
});
