// The patient e2e files' shared setup (issue 17): a clinic with the receptionist signed up at her
// desk and the real patient gateway as a component of the clinic's Prosody, and the page move every
// Patients-screen test starts with.
import type { Page } from 'playwright-core';
import type { GatewayConfigInput } from '../../gateway/config';
import type { PolicyInput } from '../../main/policy/schema';
import { publishPublicKey } from '../../main/xmpp/pep-keys';
import type { XmppConnection } from '../../main/xmpp/transport/connection';
import { adminKey } from './crypto-fixtures';
import { fakeClock, type FakeClock } from './fake-clock';
import { startTestGateway, type TestGateway } from './gateway-support';
import { startClinic, type Clinic, type Person, type Workstation } from './ui-support';
import { rawConnection } from './xmpp-support';

/** IT's compliance account: the policy pins its archive key, and secure texts are encrypted to it too. */
export const COMPLIANCE = 'compliance@clinic.test';

export interface PatientDesk {
  clinic: Clinic;
  /** The receptionist's workstation ('desk'), signed up. */
  rec: Workstation;
  gw: TestGateway;
  /** Stops the compliance account's session (when there is one), the gateway, then the clinic. */
  close(): Promise<void>;
}

/**
 * A clinic of `reception` alone, with the gateway (`gateway` adds to its test config; its clock is
 * `clock`) and her workstation signed up. With `compliance`, the policy names the compliance account
 * and pins a fresh archive key, and that account publishes the key as clinic-admin publish-key does.
 * `policy` adds to the test policy.
 */
export async function patientDesk(
  prefix: string,
  reception: Person,
  opts: {
    compliance?: boolean;
    policy?: Partial<PolicyInput>;
    clock?: FakeClock;
    gateway?: (base: GatewayConfigInput) => GatewayConfigInput;
  } = {},
): Promise<PatientDesk> {
  const archive = opts.compliance ? await adminKey('Clinic archive') : undefined;
  const fingerprint = archive?.getFingerprint().toUpperCase();
  const clinic = await startClinic(prefix, [reception], {
    ...(fingerprint ? { complianceAccount: COMPLIANCE, complianceKeyFingerprint: fingerprint } : {}),
    ...opts.policy,
  });
  let comp: XmppConnection | undefined;
  let gw: TestGateway | undefined;
  const close = async () => {
    await comp?.stop();
    await gw?.close();
    await clinic.close();
  };
  try {
    if (archive && fingerprint) {
      await clinic.prosody.addUser({ jid: COMPLIANCE, password: 'comp-pw-1', name: 'Compliance' });
      comp = rawConnection(clinic.prosody, COMPLIANCE, 'comp-pw-1', 'admin');
      await comp.start();
      await publishPublicKey(comp, fingerprint, archive.toPublic().write(), new Date());
    }
    gw = await startTestGateway(clinic.prosody, opts.clock ?? fakeClock(), opts.gateway);
    const rec = await clinic.open('desk');
    await clinic.signUp(rec.page, reception);
    return { clinic, rec, gw, close };
  } catch (err) {
    // The caller gets nothing to close: stop what did start, and report the failure that stopped the start.
    await close().catch(() => {});
    throw err;
  }
}

/** From any screen, through the main navigation: the Patients screen, its heading shown. */
export async function openPatients(page: Page): Promise<void> {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Patients' }).click();
  await page.getByRole('heading', { name: 'Patients', level: 1 }).waitFor();
}
