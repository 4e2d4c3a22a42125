/**
 * The patient gateway (gateway/) for integration tests: a config pointing at a test Prosody's
 * component, a temp SQLite file and SMS sink, run in-process with a fake clock; its log lines are
 * kept so tests can grep them. Staff talk to it over a raw XMPP connection, as the app will.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { xml, type XmlElement } from '@xmpp/client';
import * as openpgp from 'openpgp';
import { parseGatewayConfig, type GatewayConfig, type GatewayConfigInput } from '../../gateway/config';
import { makeDobVerifier } from '../../gateway/dob';
import { runGateway, type RunningGateway } from '../../gateway/gateway';
import type { XmppConnection } from '../../main/xmpp/transport/connection';
import type { FakeClock } from './fake-clock';
import { startProsody, type ProsodyServer } from './prosody';
import { rawConnection } from './xmpp-support';

export const GATEWAY_NS = 'urn:clinic-messenger:patient-gateway:0';

export interface TestGateway extends RunningGateway {
  config: GatewayConfig;
  dir: string;
  sinkDir: string;
  logLines: string[];
  baseUrl: string;
  close(): Promise<void>;
}

export async function startTestGateway(
  server: ProsodyServer,
  clock: FakeClock,
  overrides: (base: GatewayConfigInput, dir: string) => GatewayConfigInput = (b) => b,
  env: Record<string, string> = {},
): Promise<TestGateway> {
  const dir = mkdtempSync(join(tmpdir(), 'gateway-test-'));
  const sinkDir = join(dir, 'sms-sink');
  const base: GatewayConfigInput = {
    xmpp: {
      domain: server.component.domain,
      staffDomain: server.domain,
      secret: { env: 'TEST_GATEWAY_SECRET' },
      host: '127.0.0.1',
      port: server.component.port,
    },
    http: { listen: { host: '127.0.0.1', port: 0 }, publicBaseUrl: 'http://127.0.0.1:8999', behindProxy: true },
    storage: { sqlitePath: join(dir, 'gateway.sqlite') },
    sms: { provider: 'sink', dir: sinkDir },
  };
  const config = parseGatewayConfig(overrides(base, dir), dir, {
    env: { TEST_GATEWAY_SECRET: server.component.secret, ...env },
    readFile: () => {
      throw new Error('no files in this test config');
    },
  });
  const logLines: string[] = [];
  const running = await runGateway(config, { clock, logLine: (l) => logLines.push(l) });
  return {
    ...running,
    config,
    dir,
    sinkDir,
    logLines,
    baseUrl: `http://127.0.0.1:${running.httpPort}`,
    async close() {
      await running.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The staff member of the gateway's integration tests: her account texts patients and gets their replies. */
export const RITA = 'rita@clinic.test';

export interface GatewayWithRita {
  server: ProsodyServer;
  gw: TestGateway;
  /** Rita's raw connection, started and available. */
  rita: XmppConnection;
  /** Stops Rita, then the gateway, then Prosody. */
  close(): Promise<void>;
}

/**
 * A test Prosody with Rita's account, the gateway as its component (`overrides` and `env` as for
 * startTestGateway) and Rita on a raw connection, available as the app is: Prosody delivers the
 * gateway's messages to the bare JID's online resources. `onStanza` sees every stanza she gets.
 */
export async function startGatewayWithRita(
  clock: FakeClock,
  opts: {
    overrides?: (base: GatewayConfigInput, dir: string) => GatewayConfigInput;
    env?: Record<string, string>;
    onStanza?: (el: XmlElement) => void;
  } = {},
): Promise<GatewayWithRita> {
  let server: ProsodyServer | undefined;
  let gw: TestGateway | undefined;
  let rita: XmppConnection | undefined;
  const close = async () => {
    await rita?.stop();
    await gw?.close();
    await server?.stop();
  };
  try {
    server = await startProsody({ users: [{ jid: RITA, password: 'rita-pw-1', name: 'Rita Reception' }] });
    gw = await startTestGateway(server, clock, opts.overrides, opts.env);
    rita = rawConnection(server, RITA, 'rita-pw-1', 'desk', opts.onStanza);
    await rita.start();
    await rita.send(xml('presence'));
  } catch (e) {
    // The caller gets nothing to close: stop what did start, and report the failure that stopped the start.
    await close().catch(() => {});
    throw e;
  }
  return { server, gw, rita, close };
}

export interface PatientMessage {
  text: string;
  phone: string;
  dob: string;
  /** The link secret (base64url, 16 bytes). */
  fragment: string;
  ciphertext: Uint8Array;
}

/** What the desktop will do: a fresh link secret, the text encrypted to it (OpenPGP, password). */
export async function sealForPatient(text: string, phone: string, dob: string): Promise<PatientMessage> {
  const fragment = randomBytes(16).toString('base64url');
  const message = await openpgp.createMessage({ text });
  const ciphertext = await openpgp.encrypt({ message, passwords: [fragment], format: 'binary' });
  return { text, phone, dob, fragment, ciphertext };
}

export async function sendIq(
  m: PatientMessage,
  to: string,
  opts: { request: string; sms?: string; expiresDays?: number; check?: 'dob' | 'code'; replyKeys?: Uint8Array[] },
): Promise<XmlElement> {
  return xml(
    'iq',
    { type: 'set', to, id: `send-${opts.request}` },
    xml(
      'send',
      {
        xmlns: GATEWAY_NS,
        request: opts.request,
        ...(opts.expiresDays !== undefined ? { 'expires-days': opts.expiresDays } : {}),
        ...(opts.check ? { check: opts.check } : {}),
      },
      xml('phone', {}, m.phone),
      opts.check === 'code' ? null : xml('dob-verifier', {}, await makeDobVerifier(m.dob)),
      xml('sms', {}, opts.sms ?? 'Your clinic sent you a secure message: {link}'),
      xml('fragment', {}, m.fragment),
      xml('ciphertext', {}, Buffer.from(m.ciphertext).toString('base64')),
      opts.replyKeys
        ? xml('reply-keys', {}, ...opts.replyKeys.map((k) => xml('key', {}, Buffer.from(k).toString('base64'))))
        : null,
    ),
  );
}

/** A key pair as the app has one (curve25519Legacy, v4: main/crypto/keys.ts): the staff member's or the archive's. */
export async function replyKeyPair(
  name: string,
): Promise<{ privateKey: openpgp.PrivateKey; publicBinary: Uint8Array }> {
  const { privateKey } = await openpgp.generateKey({
    type: 'ecc',
    curve: 'curve25519Legacy',
    userIDs: [{ name }],
    format: 'object',
  });
  return { privateKey, publicBinary: privateKey.toPublic().write() };
}

/** What the patient's browser does with the keys the open step returned. */
export async function sealReply(text: string, keysBase64: string): Promise<Uint8Array> {
  const encryptionKeys = await openpgp.readKeys({ binaryKeys: Buffer.from(keysBase64, 'base64') });
  const message = await openpgp.createMessage({ text });
  return openpgp.encrypt({ message, encryptionKeys, format: 'binary' });
}

/** Posts a step of the patient page's API (open, reply, …) for link `id`, as JSON, as the page does. */
export async function postStep(gw: TestGateway, id: string, step: string, body: unknown): Promise<Response> {
  return fetch(`${gw.baseUrl}/api/m/${id}/${step}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

/** Posts a form to the gateway's HTTP side. */
export async function postForm(
  url: string,
  fields: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(fields),
  });
}
