/**
 * `npm run demo` (run by scripts/demo.mjs inside scripts/with-keyring.sh, via tsx).
 * Starts a throwaway Prosody with a small demo clinic — a receptionist, two physicians and a
 * nurse in one shared-roster group — and opens the app against it: in Electron when its
 * binary is installed, otherwise in the browser harness, printing the URL to open.
 * The passwords are random, per run and demo-only: printing them is the point.
 * Ctrl+C stops everything and removes the temp data.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Role } from '../../../common/contract/domain';
import { createConsoleLogger } from '../../../main/log';
import { createOsKeychain } from '../../../main/vault/keychain';
import { startDemoPatients } from '../demo-patients';
import { setDirectoryNames } from '../xmpp-support';
import { startProsody } from '../prosody';
import { findElectronBinary } from '../../../scripts/electron-binary.mjs';
import { startHarness } from './index';

export const DEMO_DOMAIN = 'clinic.test';
const GROUP = 'Riverside Clinic';

const password = (): string => `demo-${randomBytes(9).toString('base64url')}`;

export const demoStaff = [
  { local: 'reception', name: 'Robin Reyes', role: 'reception' },
  { local: 'dr.okafor', name: 'Dr. Adaeze Okafor', role: 'physician' },
  { local: 'dr.lindqvist', name: 'Dr. Erik Lindqvist', role: 'physician' },
  { local: 'nurse.tanaka', name: 'Mei Tanaka, RN', role: 'nurse' },
] as const satisfies readonly { local: string; name: string; role: Role }[];

const cleanups: (() => Promise<void> | void)[] = [];
let stopping = false;

async function stop(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    console.log('\nStopping the demo…');
    for (const c of cleanups.reverse()) {
      try {
        await c();
      } catch (err) {
        console.error(`cleanup step failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }
  process.exit(code);
}

async function main(): Promise<void> {
  // stop() reports each failed cleanup step and exits: it never rejects.
  const onSignal = (): void => void stop(0);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const work = mkdtempSync(join(tmpdir(), 'clinic-demo-'));
  cleanups.push(() => rmSync(work, { recursive: true, force: true }));
  const users = demoStaff.map((s) => ({
    jid: `${s.local}@${DEMO_DOMAIN}`,
    password: password(),
    name: s.name,
    role: s.role,
    group: GROUP,
  }));

  console.log('Starting Prosody with the demo clinic…');
  // Prosody's default SCRAM iteration count, as in production (the tests lower it for speed).
  const prosody = await startProsody({ users, domain: DEMO_DOMAIN, iterationCount: 10_000 });
  cleanups.push(() => prosody.stop());
  // As IT's provisioning does: each account's name in the directory (vCard FN), which first sign-in
  // reads instead of asking for a name (issue 12 §5).
  await setDirectoryNames(prosody, users);
  const caFile = join(work, 'demo-ca.pem');
  writeFileSync(caFile, prosody.caPem);
  // Issue 17 item 7: the patient gateway with its SMS sink, the archive key, and the patient phone page.
  console.log('Starting the patient gateway and the SMS sink…');
  const patients = await startDemoPatients(prosody, work);
  cleanups.push(() => patients.close());

  const server = { domain: prosody.domain, host: prosody.host, port: prosody.c2sPort, tls: 'starttls' as const };
  const electron = process.env.CLINIC_DEMO_BROWSER ? null : findElectronBinary(process.cwd()).path;
  let openLine: string;
  if (electron) {
    const userData = join(work, 'electron-user-data');
    const args = ['.', `--user-data-dir=${userData}`];
    // Chromium refuses to run its sandbox as root; a root demo is a container, not a clinic PC.
    if (process.getuid?.() === 0) args.push('--no-sandbox');
    const child: ChildProcess = spawn(electron, args, {
      stdio: 'inherit',
      // The demo CA is trusted through Node's own mechanism; the managed policy is untouched.
      env: { ...process.env, NODE_EXTRA_CA_CERTS: caFile },
    });
    // The app window was closed: the demo ends with it (stop() never rejects).
    child.on('exit', (code) => void stop(code ?? 0));
    cleanups.push(() => {
      if (child.exitCode === null) child.kill('SIGTERM');
    });
    openLine = 'Electron is opening the app window.';
  } else {
    // Each harness is one workstation (its own profiles, keychain entries and session), so two
    // of them let two people chat from one machine. Different ports: separate browser origins.
    const count = Math.max(1, Math.min(4, Number(process.env.CLINIC_DEMO_WORKSTATIONS ?? 2)));
    const urls: string[] = [];
    for (let i = 0; i < count; i++) {
      const harness = await startHarness({
        userDataDir: join(work, `workstation-${i + 1}`),
        logger: createConsoleLogger('info'),
        // What IT would deploy: the clinic server pre-set and its CA trusted.
        policy: { server, trustedCaPem: prosody.caPem, ...patients.policy },
      });
      cleanups.push(async () => {
        // Remove the demo profiles' OS-keychain entries too (on a desktop the keyring is the
        // person's own, not a throwaway one). Not through vault:removeProfile: that asks for each
        // profile's passphrase, which the demo never knew; the folders go with the work dir.
        const list = await harness.core.router.dispatch('vault:listProfiles', null);
        await harness.close();
        const keychain = createOsKeychain();
        if (list.ok) for (const p of list.value as { id: string }[]) await keychain.delete(p.id);
      });
      urls.push(`    workstation ${i + 1}: ${harness.url}`);
    }
    openLine = `No Electron binary installed: open these URLs in Chromium or Chrome on this machine
(each is a separate workstation; sign in as a different person in each):

${urls.join('\n')}
`;
  }

  const width = Math.max(...users.map((u) => u.jid.length));
  console.log(`
Clinic Messenger demo is running.
${openLine}
XMPP server: ${prosody.domain} at ${prosody.host}:${prosody.c2sPort} (STARTTLS; demo CA ${caFile})
At sign-in, if the form does not show it already, open "Clinic server settings" and enter
server address ${prosody.host} and port ${prosody.c2sPort}.
Shared-roster group "${GROUP}". Demo-only accounts, new passwords every run:
${users.map((u) => `    ${u.jid.padEnd(width)}  ${u.password}   ${u.name} (${u.role})`).join('\n')}

Patients (Patients screen): the patient gateway runs at ${patients.gatewayUrl} with a local SMS sink.
    patient phone: ${patients.phoneUrl}
Open the patient phone in a browser to see each text message a patient receives, with its link.
${electron ? "(In Electron the managed policy is the machine's own: texting patients needs its complianceAccount and complianceKeyFingerprint.)\n" : ''}
Press Ctrl+C to stop; the server, profiles and keys above are deleted.`);
}

main().catch((err: unknown) => {
  console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
  // stop() reports each failed cleanup step and exits: it never rejects.
  void stop(1);
});
