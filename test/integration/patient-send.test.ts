/**
 * Texting a patient from the desktop's side (issue 17 item 2), over a real Prosody with the real
 * patient gateway as its component and the SMS sink: the app's code finds the gateway by service
 * discovery, checks the SMS text, makes the DOB verifier and encrypts to a fresh link secret plus
 * the clinic's archive key; the patient opens the link with their DOB (the gateway checks the
 * app's verifier) and the secret from the SMS decrypts it, as does the archive key; the sender
 * hears each state; the gateway's refusals reach the sender as plain errors; nothing with PHI goes
 * into the SMS, and the gateway's database holds no plaintext.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { xml, type XmlElement } from '@xmpp/client';
import * as openpgp from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSink } from '../../gateway/sms/sink';
import { sendTextToPatient, type PatientTextDeps } from '../../main/patients/send-text';
import { findPatientGateway, parseStateMessage, type PatientStateChange } from '../../main/xmpp/patient-gateway';
import type { XmppConnection } from '../../main/xmpp/transport/connection';
import { adminKey } from '../support/crypto-fixtures';
import { fakeClock } from '../support/fake-clock';
import { postForm, startTestGateway, type TestGateway } from '../support/gateway-support';
import { startProsody, type ProsodyServer } from '../support/prosody';
import { rawConnection, waitFor } from '../support/xmpp-support';

const RITA = 'rita@clinic.test';
const TEXT = 'Your biopsy came back benign. Dr. Lind will call you on Monday.';
const TEMPLATE = 'Your clinic sent you a secure message: {link}';

describe('texting a patient from the desktop', () => {
  const clock = fakeClock();
  let server: ProsodyServer;
  let gw: TestGateway;
  let rita: XmppConnection;
  let archive: openpgp.PrivateKey;
  let deps: PatientTextDeps;
  const states: PatientStateChange[] = [];
  const otherStanzas: XmlElement[] = [];
  let n = 0;

  beforeAll(async () => {
    server = await startProsody({ users: [{ jid: RITA, password: 'rita-pw-1', name: 'Rita Reception' }] });
    gw = await startTestGateway(server, clock);
    rita = rawConnection(server, RITA, 'rita-pw-1', 'desk', (el) => {
      const s = parseStateMessage(el, server.component.domain);
      if (s) states.push(s);
      else if (el.is('message')) otherStanzas.push(el);
    });
    await rita.start();
    await rita.send(xml('presence'));
    archive = await adminKey('Clinic archive');
    deps = {
      iq: (el) => rita.iq(el),
      domain: server.domain,
      archiveKey: archive.toPublic(),
      now: () => new Date(clock.now()),
    };
  });
  afterAll(async () => {
    await rita?.stop();
    await gw?.close();
    await server?.stop();
  });

  const input = (over: Partial<Parameters<typeof sendTextToPatient>[1]> = {}) => ({
    request: `req-${++n}`,
    phone: '+15550101010',
    patientName: 'Maria Lopez',
    dob: '1984-02-29',
    text: TEXT,
    smsTemplate: TEMPLATE,
    ...over,
  });
  const open = (id: string, dob: string) =>
    fetch(`${gw.baseUrl}/api/m/${id}/open`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ dob }),
    });

  it('finds the gateway among the server components by service discovery', async () => {
    expect(await findPatientGateway(deps.iq, server.domain)).toBe(server.component.domain);
  });

  it('the patient opens it with their DOB and the link secret; the archive key reads it too; the sender hears each state', async () => {
    const sent = await sendTextToPatient(deps, input());
    expect(sent.state).toBe('sms-delivered');
    expect(sent.patient).toMatch(/^p-[0-9a-f]{24}@patients\./);

    const sms = readSink(gw.sinkDir).filter((t) => t.to === '+15550101010');
    expect(sms).toHaveLength(1);
    const link = new RegExp(
      `^Your clinic sent you a secure message: http://127\\.0\\.0\\.1:8999/m/${sent.id}#([A-Za-z0-9_-]{22})$`,
    );
    const secret = link.exec(sms[0]!.body)?.[1];
    expect(secret, 'the SMS is the template with the link, nothing else').toBeTruthy();

    expect(await (await open(sent.id, '1984-03-01')).json()).toMatchObject({ error: 'wrong-dob' });
    const ok = await open(sent.id, '1984-02-29');
    expect(ok.status).toBe(200);
    const { ciphertext } = (await ok.json()) as { ciphertext: string };
    const message = await openpgp.readMessage({ binaryMessage: Buffer.from(ciphertext, 'base64') });
    const byLink = await openpgp.decrypt({ message, passwords: [secret!], format: 'utf8' });
    expect(byLink.data).toBe(TEXT);
    const again = await openpgp.readMessage({ binaryMessage: Buffer.from(ciphertext, 'base64') });
    const byArchive = await openpgp.decrypt({ message: again, decryptionKeys: archive, format: 'utf8' });
    expect(byArchive.data).toBe(TEXT);
    // A wrong secret (a guessed or altered fragment) opens nothing.
    const wrong = await openpgp.readMessage({ binaryMessage: Buffer.from(ciphertext, 'base64') });
    await expect(openpgp.decrypt({ message: wrong, passwords: ['A'.repeat(22)] })).rejects.toThrow();

    await waitFor('opened state', () => states.find((s) => s.id === sent.id && s.state === 'opened'));
    const mine = states.filter((s) => s.id === sent.id).map((s) => s.state);
    expect(mine).toEqual(['sms-delivered', 'opened']);
    expect(states.every((s) => s.patient === sent.patient)).toBe(true);
  });

  it('a retry with the same request id texts nobody twice', async () => {
    const first = input({ phone: '+15550202020' });
    const a = await sendTextToPatient(deps, first);
    const b = await sendTextToPatient(deps, first);
    expect(b.id).toBe(a.id);
    expect(readSink(gw.sinkDir).filter((t) => t.to === '+15550202020')).toHaveLength(1);
  });

  it('refuses PHI in the SMS text before anything leaves the app', async () => {
    const before = readSink(gw.sinkDir).length;
    for (const smsTemplate of ['Maria, your results: {link}', 'Message for 1984-02-29 {link}', 'No link at all'])
      await expect(sendTextToPatient(deps, input({ smsTemplate, phone: '+15550303030' }))).rejects.toMatchObject({
        code: 'FORBIDDEN',
      });
    await expect(sendTextToPatient(deps, input({ phone: '555-0100' }))).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(sendTextToPatient(deps, input({ dob: '29/02/1984' }))).rejects.toMatchObject({ code: 'BAD_INPUT' });
    expect(readSink(gw.sinkDir)).toHaveLength(before);
  });

  it('an opt-out stops the next text, and the sender reads why', async () => {
    const phone = '+15550404040';
    await sendTextToPatient(deps, input({ phone }));
    const stop = await postForm(`${gw.baseUrl}/sms/sink/inbound`, { From: phone, Body: 'Stop' });
    expect(stop.status).toBeLessThan(300);
    const refused = sendTextToPatient(deps, input({ phone }));
    await expect(refused).rejects.toMatchObject({ code: 'CONFLICT', details: { refused: 'opted-out' } });
    await expect(refused).rejects.toThrow(/opted out/);
  });

  it("the gateway's database holds neither the text, the DOB nor the link secret", () => {
    const db = readFileSync(join(gw.dir, 'gateway.sqlite'));
    for (const needle of ['benign', 'Dr. Lind', '1984-02-29', 'Maria'])
      expect(db.includes(Buffer.from(needle)), needle).toBe(false);
    expect(otherStanzas.filter((m) => m.getChild('body'))).toEqual([]);
  });
});
