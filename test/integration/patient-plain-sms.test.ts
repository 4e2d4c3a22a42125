/**
 * Plain SMS on a patient's documented request (issue 17 item 4) inside signed-in sessions, over a
 * real Prosody with the real patient gateway and its SMS sink, a real SQLCipher store and audit log:
 * refused when the policy is off (patientPlainSmsAllowed); refused without a recorded request;
 * refused by the gateway while its own config is off (plainSms.allowed); sent when all allow — the
 * sink gets the text as it is, the gateway's database and log do not hold it afterwards; the opt-out
 * still applies; a withdrawn request stops the next send. Recording, withdrawal, each plain send and
 * each refusal are audited with the patient's row id and the staff JID, never the text, the number
 * or the reference.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppError } from '../../common/result';
import { readSink } from '../../gateway/sms/sink';
import { fakeClock } from '../support/fake-clock';
import { startTestGateway, type TestGateway } from '../support/gateway-support';
import { startProsody, type ProsodyServer } from '../support/prosody';
import { auditTypes, makeClient, type TestClient } from '../support/xmpp-support';

const RITA = 'rita@clinic.test';
const NINA = 'nina@clinic.test';
const ANN = '+15550608001';
const BEN = '+15550608002';
const TEXT = 'Plain-canary: your ferritin came back at 12 ng/mL, as you asked to be told by text.';
const REFERENCE = 'Signed request form, scanned to the chart';
const CSV = `first name,last name,phone,dob\nAnn,Plainly,${ANN},1961-04-05\nBen,Linked,${BEN},1972-08-09\n`;

async function refusal(p: Promise<unknown> | (() => unknown)): Promise<AppError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    return err as AppError;
  }
  throw new Error('expected a refusal');
}

describe('plain SMS on a patient’s documented request', () => {
  const clock = fakeClock();
  let server: ProsodyServer;
  let gw: TestGateway;
  let rita: TestClient;
  let nina: TestClient;
  let ann: string;

  beforeAll(async () => {
    server = await startProsody({
      users: [
        { jid: RITA, password: 'rita-pw-1', name: 'Rita Reception' },
        { jid: NINA, password: 'nina-pw-1', name: 'Nina Nurse' },
      ],
    });
    // The gateway as installed: plain SMS off.
    gw = await startTestGateway(server, clock);
    rita = await makeClient(server, RITA, 'rita-pw-1', { clock, policy: { patientPlainSmsAllowed: true } });
    nina = await makeClient(server, NINA, 'nina-pw-1', { clock });
    for (const c of [rita, nina]) {
      c.messaging.patients.lists.importCsv({ csv: new TextEncoder().encode(CSV), skipRefused: false });
    }
    ann = rita.messaging.patients.lists.directory().find((p) => p.phone === ANN)!.id;
  });
  afterAll(async () => {
    await rita?.close();
    await nina?.close();
    await gw?.close();
    await server?.stop();
  });

  const sinkTo = (phone: string) => readSink(gw.sinkDir).filter((s) => s.to === phone);

  it('is refused while the policy is off, and audited', async () => {
    const plain = nina.messaging.patients.plainSms;
    const annHere = nina.messaging.patients.lists.directory().find((p) => p.phone === ANN)!.id;
    for (const e of [
      await refusal(() => plain.requests()),
      await refusal(() => plain.record({ patientId: annHere, reference: REFERENCE })),
      await refusal(plain.send({ patientId: annHere, text: TEXT, warningConfirmed: true })),
    ])
      expect([e.code, e.details?.refused]).toEqual(['FORBIDDEN', 'policy-off']);
    expect(sinkTo(ANN)).toEqual([]);
    expect(auditTypes(nina).filter((a) => a.detail.plainSms === 'refused')).toHaveLength(3);
  });

  it('is refused without a recorded request, then by the gateway while its config is off', async () => {
    const plain = rita.messaging.patients.plainSms;
    const none = await refusal(plain.send({ patientId: ann, text: TEXT, warningConfirmed: true }));
    expect([none.code, none.details?.refused]).toEqual(['FORBIDDEN', 'no-request']);

    const recorded = plain.record({ patientId: ann, reference: REFERENCE });
    expect(recorded).toEqual({ patientId: ann, reference: REFERENCE, recordedBy: RITA, recordedAt: clock.now() });
    expect(plain.requests()).toEqual([recorded]);

    const off = await refusal(plain.send({ patientId: ann, text: TEXT, warningConfirmed: true }));
    expect([off.code, off.details?.refused]).toEqual(['CONFLICT', 'plain-sms-off']);
    expect(off.message).toMatch(/does not send plain SMS/);
    expect(sinkTo(ANN)).toEqual([]);
  });

  it('is sent when the policy, the request and the gateway allow it; the gateway keeps none of the text', async () => {
    await gw.close();
    gw = await startTestGateway(server, clock, (b) => ({ ...b, plainSms: { allowed: true } }));
    const plain = rita.messaging.patients.plainSms;
    const sent = await plain.send({ patientId: ann, text: TEXT, warningConfirmed: true });
    expect(sent).toMatchObject({ state: 'sms-delivered' });
    expect(sinkTo(ANN).map((s) => s.body)).toEqual([TEXT]);

    const files = readdirSync(gw.dir)
      .filter((f) => f.startsWith('gateway.sqlite'))
      .map((f) => readFileSync(join(gw.dir, f)));
    expect(files.length).toBeGreaterThan(0);
    const log = gw.logLines.join('\n');
    for (const canary of ['Plain-canary', 'ferritin', '12 ng/mL']) {
      for (const f of files) expect(f.includes(Buffer.from(canary)), `gateway database holds ${canary}`).toBe(false);
      expect(log.includes(canary), `gateway log holds ${canary}`).toBe(false);
    }
    expect(log).toContain('"event":"plain-sms-queued"');

    // The opt-out still applies.
    await gw.service.inboundSms(ANN, 'STOP');
    const out = await refusal(plain.send({ patientId: ann, text: 'Another', warningConfirmed: true }));
    expect([out.code, out.details?.refused]).toEqual(['CONFLICT', 'opted-out']);
    expect(sinkTo(ANN)).toHaveLength(2); // the text and the opt-out confirmation
  });

  it('is withdrawn, after which a send is refused; the audit has ids and who, never the text', async () => {
    const plain = rita.messaging.patients.plainSms;
    plain.withdraw(ann);
    expect(plain.requests()).toEqual([]);
    const gone = await refusal(plain.send({ patientId: ann, text: TEXT, warningConfirmed: true }));
    expect(gone.details?.refused).toBe('no-request');
    expect((await refusal(() => plain.withdraw(ann))).code).toBe('NOT_FOUND');

    // Oldest first (the audit lists the newest first).
    const trail = auditTypes(rita)
      .filter((a) => a.type === 'patient-text' && a.detail.plainSms)
      .map((a) => a.detail)
      .reverse();
    expect(trail).toEqual([
      { plainSms: 'refused', reason: 'no-request', by: RITA, patient: ann },
      { plainSms: 'request-recorded', patient: ann, by: RITA },
      { plainSms: 'refused', reason: 'plain-sms-off', by: RITA, patient: ann },
      { plainSms: 'sent', patient: ann, by: RITA, id: expect.any(String), state: 'sms-delivered' },
      { plainSms: 'refused', reason: 'opted-out', by: RITA, patient: ann },
      { plainSms: 'request-withdrawn', patient: ann, by: RITA },
      { plainSms: 'refused', reason: 'no-request', by: RITA, patient: ann },
      { plainSms: 'refused', reason: 'no-request', by: RITA, patient: ann },
    ]);
    const all = JSON.stringify(auditTypes(rita));
    for (const secret of ['Plain-canary', 'ferritin', ANN, 'Signed request', 'Plainly'])
      expect(all).not.toContain(secret);
  });
});
