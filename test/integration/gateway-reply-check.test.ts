/**
 * Which identity check a patient's reply is marked with (issue 17 item 3: "patient, identity
 * checked by date of birth" or "by code"), real gateway and real Prosody, the patient played with
 * fetch and openpgp as the page does. The gateway decides it at the open that gave the reply token:
 * the date of birth alone → 'dob'; the date of birth plus the step-up's one-time code (late, or a
 * new device) → 'code'. A page that claims 'code' in its reply request is not believed, and a
 * step-up once on a link does not mark a later DOB-only reply 'code'.
 */
import { randomBytes } from 'node:crypto';
import type { XmlElement } from '@xmpp/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePatientReply } from '../../common/patient-reply';
import { readSink } from '../../gateway/sms/sink';
import type { XmppConnection } from '../../main/xmpp/transport/connection';
import { fakeClock } from '../support/fake-clock';
import {
  GATEWAY_NS,
  postStep,
  replyKeyPair,
  sealForPatient,
  sealReply,
  sendIq,
  startGatewayWithRita,
} from '../support/gateway-support';
import type { GatewayWithRita, TestGateway } from '../support/gateway-support';
import type { ProsodyServer } from '../support/prosody';
import { waitFor } from '../support/xmpp-support';

const PHONE = '+15550700000';
const DOB = '1961-07-14';
const HOUR = 60 * 60_000;

type Grant = { token: string; keys: string; until: string };

describe('a reply is marked with the check the gateway saw, not the one the page claims', () => {
  const clock = fakeClock();
  const stanzas: XmlElement[] = [];
  let setup: GatewayWithRita;
  let server: ProsodyServer;
  let gw: TestGateway;
  let rita: XmppConnection;
  let keys: Uint8Array[];
  let n = 0;

  beforeAll(async () => {
    setup = await startGatewayWithRita(clock, {
      overrides: (b) => ({
        ...b,
        replies: { maxBytes: 4096, maxPerLink: 5, windowMinutes: 30 },
        limits: { perPhonePerDay: 0, quietHours: null },
      }),
      onStanza: (el) => {
        if (el.is('message')) stanzas.push(el);
      },
    });
    ({ server, gw, rita } = setup);
    const [ritaKeys, archive] = await Promise.all([replyKeyPair('xmpp:rita@clinic.test'), replyKeyPair('archive')]);
    keys = [ritaKeys.publicBinary, archive.publicBinary];
  });
  afterAll(async () => {
    await setup?.close();
  });

  const device = () => randomBytes(16).toString('base64url');
  const send = async () => {
    const m = await sealForPatient('Please call us about your appointment.', PHONE, DOB);
    const iq = await sendIq(m, server.component.domain, { request: `c${++n}`, replyKeys: keys });
    return (await rita.iq(iq)).getChild('sent', GATEWAY_NS)!.attrs.id!;
  };
  /** Opens the link and returns the reply grant (the open must succeed). */
  const open = async (id: string, body: Record<string, string>): Promise<Grant> => {
    const res = await postStep(gw, id, 'open', body);
    expect(res.status).toBe(200);
    return ((await res.json()) as { reply: Grant }).reply;
  };
  /** The date of birth is answered "code required"; the code texted to the phone. */
  const stepUp = async (id: string, dev: string): Promise<string> => {
    const res = await postStep(gw, id, 'open', { dob: DOB, device: dev });
    expect(await res.json()).toMatchObject({ error: 'code-required' });
    return /\b([0-9]{6})\b/.exec(readSink(gw.sinkDir).at(-1)!.body)![1]!;
  };
  /** Posts a reply (with whatever else the page adds) and returns how Rita's copy is marked. */
  const replyMarked = async (id: string, grant: Grant, extra: Record<string, string> = {}) => {
    const sealed = await sealReply('Thanks, I will call.', grant.keys);
    const res = await postStep(gw, id, 'reply', {
      ...extra,
      token: grant.token,
      ciphertext: Buffer.from(sealed).toString('base64'),
    });
    expect(res.status).toBe(200);
    const { replyId } = (await res.json()) as { replyId: string };
    const stanza = await waitFor('the reply at Rita', () =>
      stanzas.find((s) => s.getChild('reply', GATEWAY_NS)?.attrs.id === replyId),
    );
    const parsed = parsePatientReply(stanza, { gatewayDomain: server.component.domain });
    if (!parsed?.ok) throw new Error(`reply not parsed: ${parsed?.problem ?? 'none'}`);
    return parsed.reply.verified;
  };

  it('the date of birth alone: the reply is marked dob', async () => {
    const id = await send();
    const grant = await open(id, { dob: DOB, device: device() });
    expect(await replyMarked(id, grant)).toBe('dob');
  });

  it('the date of birth plus the one-time code (opened more than 24 h after delivery): marked code', async () => {
    const id = await send();
    const phone = device();
    clock.advance(25 * HOUR);
    const code = await stepUp(id, phone);
    const grant = await open(id, { dob: DOB, code, device: phone });
    expect(await replyMarked(id, grant)).toBe('code');
  });

  it('a new device passes the code (code); the first device later opens with the DOB alone (dob)', async () => {
    const id = await send();
    const [phone, laptop] = [device(), device()];
    await open(id, { dob: DOB, device: phone });
    const code = await stepUp(id, laptop);
    expect(await replyMarked(id, await open(id, { dob: DOB, code, device: laptop }))).toBe('code');
    // The link had a step-up, but this open checked the date of birth only.
    expect(await replyMarked(id, await open(id, { dob: DOB, device: phone }))).toBe('dob');
  });

  it('a page that claims code in its reply after a DOB-only open is not believed', async () => {
    const id = await send();
    const grant = await open(id, { dob: DOB, device: device() });
    expect(await replyMarked(id, grant, { verified: 'code', check: 'code', code: '123456' })).toBe('dob');
    expect(gw.store.get(id)!.state).toBe('replied');
  });
});
