// The audit screen's anchoring status (issue 15 item 5): when the chain was last anchored with the
// compliance account, and a warning once that is overdue by the policy's threshold. Real Prosody
// (the compliance account publishes its key), keychain, SQLCipher, Chromium; main's clock is a
// jump clock (test/support/jump-clock.ts), so "three hours later" needs no waiting. axe: 0 violations.
import * as openpgp from 'openpgp';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeFingerprint } from '../../main/crypto/keys';
import { publishPublicKey } from '../../main/xmpp/pep-keys';
import { jumpClock, type JumpClock } from '../support/jump-clock';
import { rawConnection } from '../support/xmpp-support';
import {
  axeViolations,
  closeWorkstation,
  openWorkstation,
  person,
  screenshot,
  screenshotOnFailure,
  startClinic,
  type Clinic,
  type Workstation,
} from '../support/ui-support';

const reception = person('anchor.desk', 'clinic.test', 'Robin Reyes', 'reception');
const compliance = person('compliance', 'clinic.test', 'Compliance Office', 'admin');
const HOUR = 3600_000;

let clinic: Clinic;
let rec: Workstation;
let clock: JumpClock;

beforeAll(async () => {
  clinic = await startClinic('ui-audit-anchoring', [reception, compliance]);
  // IT's `clinic-admin publish-key`: the compliance key as the compliance account's OpenPGP key.
  const { privateKey } = await openpgp.generateKey({
    type: 'ecc',
    curve: 'curve25519Legacy',
    userIDs: [{ name: 'c' }],
    format: 'object',
  });
  const conn = rawConnection(clinic.prosody, compliance.jid, compliance.password, 'publish');
  await conn.start();
  const fingerprint = normalizeFingerprint(privateKey.getFingerprint());
  await publishPublicKey(conn, fingerprint, privateKey.toPublic().write(), new Date());
  await conn.stop();
  clock = jumpClock();
  rec = await openWorkstation(clinic.browser, {
    userDataDir: join(clinic.dir, 'desk'),
    policy: {
      ...clinic.policy,
      complianceAccount: compliance.jid,
      complianceKeyFingerprint: fingerprint,
      auditAnchorHours: 4,
      auditAnchorOverdueHours: 2,
      // A day: the jumps below must not lock the session (the idle lock would, at the 5-minute default).
      lockTimeoutMaxMinutes: 24 * 60,
    },
    clock,
  });
  await clinic.signUp(rec.page, reception);
}, 300_000);

afterAll(async () => {
  // Opened beside the clinic's own workstations, so closed here: clinic.close() then removes a
  // folder no running core still writes to (CI once saw ENOTEMPTY removing this profile).
  await closeWorkstation(rec);
  await clinic?.close();
});

screenshotOnFailure(() => ({ rec }));

const nav = (name: string) => rec.page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name });

describe('the audit screen and anchoring', () => {
  it('shows when the log was last anchored, and warns once that is overdue', async () => {
    const messaging = () => rec.harness.core.session.active().messaging;
    // The anchoring at connect (after sign-up's setup) has been confirmed by the server.
    await expect.poll(() => messaging().anchoring().lastAnchoredAt, { timeout: 30_000 }).not.toBeNull();
    await nav('Audit').click();
    const line = rec.page.getByTestId('audit-anchored');
    await expect
      .poll(() => line.innerText())
      .toMatch(/up to entry #\d+ was last confirmed by the clinic's compliance account on /);
    expect(await rec.page.getByTestId('audit-anchor-overdue').count()).toBe(0);
    expect(await axeViolations(rec.page)).toEqual([]);
    await screenshot(rec.page, 'audit-anchored');

    // Three hours on, the next anchoring (every four hours) not yet due: past the policy's two hours.
    clock.advance(3 * HOUR);
    await nav('Inbox').click();
    await nav('Audit').click();
    const warning = rec.page.getByRole('alert').filter({ hasText: 'overdue' });
    await expect
      .poll(() => warning.innerText())
      .toMatch(/Sending this log to the compliance account is overdue \(more than 2 hours\)/);
    expect(await axeViolations(rec.page)).toEqual([]);
    await screenshot(rec.page, 'audit-anchor-overdue');

    // The next anchoring, at its interval, clears it. The screen first shows what it last read
    // (the overdue state) until main's answer arrives: wait for the new confirmation time.
    const before = await line.innerText();
    clock.advance(1.5 * HOUR);
    await expect.poll(() => messaging().anchoring().overdue, { timeout: 30_000 }).toBe(false);
    await nav('Inbox').click();
    await nav('Audit').click();
    await expect.poll(() => line.innerText()).not.toBe(before);
    expect(await line.innerText()).toMatch(/last confirmed/);
    expect(await rec.page.getByTestId('audit-anchor-overdue').count()).toBe(0);
  });
});
