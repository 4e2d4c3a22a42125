/**
 * The demo's patient side (issue 17 item 7): the clinic's archive key (generated per run and
 * published by a compliance account, as `clinic-admin publish-key` does), the patient gateway as a
 * component of the demo's Prosody with its local SMS sink, and the "patient phone" page that shows
 * what the sink received. The app's policy gets the archive account so staff can text patients.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { join } from 'node:path';
import * as openpgp from 'openpgp';
import { parseGatewayConfig } from '../../gateway/config';
import { runGateway } from '../../gateway/gateway';
import { publishPublicKey } from '../../main/xmpp/pep-keys';
import { startPatientPhone } from './patient-phone';
import type { ProsodyServer } from './prosody';
import { rawConnection } from './xmpp-support';

export interface DemoPatients {
  /** Policy keys the app needs to text patients. */
  policy: { complianceAccount: string; complianceKeyFingerprint: string };
  gatewayUrl: string;
  phoneUrl: string;
  close(): Promise<void>;
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

export async function startDemoPatients(prosody: ProsodyServer, work: string): Promise<DemoPatients> {
  const account = `archive@${prosody.domain}`;
  const password = `demo-${randomBytes(9).toString('base64url')}`;
  await prosody.addUser({ jid: account, password, name: 'Clinic archive' });
  const { privateKey } = await openpgp.generateKey({
    type: 'ecc',
    curve: 'curve25519Legacy',
    userIDs: [{ name: 'Clinic archive (demo)' }],
    format: 'object',
  });
  const fingerprint = privateKey.getFingerprint().toUpperCase();
  const conn = rawConnection(prosody, account, password, 'publish');
  await conn.start();
  await publishPublicKey(conn, fingerprint, privateKey.toPublic().write(), new Date());
  await conn.stop();

  const port = await freePort();
  const sinkDir = join(work, 'sms-sink');
  const config = parseGatewayConfig(
    {
      xmpp: {
        domain: prosody.component.domain,
        staffDomain: prosody.domain,
        secret: { env: 'DEMO_GATEWAY_SECRET' },
        host: '127.0.0.1',
        port: prosody.component.port,
      },
      http: { listen: { host: '127.0.0.1', port }, publicBaseUrl: `http://127.0.0.1:${port}`, behindProxy: true },
      storage: { sqlitePath: join(work, 'gateway.sqlite') },
      sms: { provider: 'sink', dir: sinkDir },
    },
    work,
    {
      env: { DEMO_GATEWAY_SECRET: prosody.component.secret },
      readFile: () => {
        throw new Error('the demo gateway reads no files');
      },
    },
  );
  // The gateway's JSON log lines hold ids and states only (gateway/log.ts); the demo keeps them quiet.
  const gateway = await runGateway(config, { logLine: () => undefined });
  const phone = await startPatientPhone(sinkDir);
  return {
    policy: { complianceAccount: account, complianceKeyFingerprint: fingerprint },
    gatewayUrl: `http://127.0.0.1:${gateway.httpPort}`,
    phoneUrl: phone.url,
    async close() {
      await phone.close();
      await gateway.stop();
    },
  };
}
