/**
 * The workstation's decision on an admin command (main/session/remote-wipe.ts), with real OpenPGP
 * keys and a real device log in a temp folder; the audit log is a list (what was appended is the
 * decision under test). The network paths are in test/integration/remote-wipe.test.ts.
 * Time is the fixed date below, handed to openpgp and to the decision: passes on any day.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PrivateKey } from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEventType } from '../../common/ipc-contract';
import type { AuditLog } from '../../main/audit';
import { newWipeCommand, signAdminCommand } from '../../main/crypto/admin-command';
import { normalizeFingerprint } from '../../main/crypto/keys';
import { silentLogger } from '../../main/log';
import { defaultPolicy, type Policy } from '../../main/policy/schema';
import { createRemoteWipe, executedNonces } from '../../main/session/remote-wipe';
import { classifyError, isAccountRefusal } from '../../main/xmpp/transport/classify-error';
import { appendDeviceLog } from '../../main/vault/device-log';
import type { Keychain } from '../../main/vault/keychain';
import { adminKey } from '../support/crypto-fixtures';
import { fakeClock } from '../support/fake-clock';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const HOUR = 3600_000;
const ALICE = 'alice@clinic.example';
const IT = 'it-admin@clinic.example';
const PROFILE = { id: 'profile-0001', jid: ALICE, createdAt: NOW - 2 * HOUR };

let admin: PrivateKey;
let fpr: string;
const dir = mkdtempSync(join(tmpdir(), 'remote-wipe-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  admin = await adminKey('Clinic IT');
  fpr = normalizeFingerprint(admin.getFingerprint());
});

function setup(policy: Partial<Policy> = { adminKeyFingerprints: [fpr], adminAccount: IT }) {
  const audited: { type: AuditEventType; detail: Record<string, unknown> }[] = [];
  const audit = { append: (type, detail = {}) => audited.push({ type, detail }) } as Pick<AuditLog, 'append'>;
  const wipe = createRemoteWipe({
    policy: { ...defaultPolicy, ...policy },
    clock: fakeClock(NOW),
    logger: silentLogger,
    audit: audit as AuditLog,
    userDataDir: dir,
    profile: PROFILE,
  });
  return { wipe, audited };
}

async function signed(opts: { issuedAt?: number; device?: string | null } = {}) {
  const now = new Date(opts.issuedAt ?? NOW - HOUR);
  const command = newWipeCommand({ account: ALICE, device: opts.device ?? null, now, validityMs: 7 * 24 * HOUR });
  return { command, text: await signAdminCommand(command, admin, now) };
}

describe('remote wipe: the decision on one command', () => {
  it('accepts a valid command from the admin account, audits it once and hands over nonce, signer and via', async () => {
    const { wipe, audited } = setup();
    const { command, text } = await signed({ device: PROFILE.id });
    const outcome = await wipe.handle({ text, from: IT }, 'live');
    expect(outcome).toEqual({ accepted: true, wipe: { nonce: command.nonce, signer: fpr, via: 'live' } });
    expect(audited).toEqual([
      {
        type: 'wipe-command',
        detail: { outcome: 'accepted', via: 'live', from: IT, nonce: command.nonce, signer: fpr },
      },
    ]);
    // Found again in catch-up, or any other command after it: nothing more happens.
    expect(await wipe.handle({ text, from: IT }, 'archive')).toBeNull();
    expect(await wipe.handle({ text: (await signed()).text, from: IT }, 'live')).toBeNull();
    expect(audited).toHaveLength(1);
  });

  it('ignores everything while remote wipe is off, without checking a signature', async () => {
    for (const policy of [{}, { adminKeyFingerprints: [fpr] }, { adminAccount: IT }] as Partial<Policy>[]) {
      const { wipe, audited } = setup(policy);
      expect(await wipe.handle({ text: (await signed()).text, from: IT }, 'live')).toEqual({
        accepted: false,
        reason: 'not-enabled',
      });
      expect(audited[0]?.detail).toMatchObject({ outcome: 'ignored', reason: 'not-enabled', nonce: null });
    }
  });

  it('audits the same ignored command once per session, and a different one again', async () => {
    const { wipe, audited } = setup();
    const { text } = await signed();
    expect(await wipe.handle({ text, from: 'mallory@clinic.example' }, 'live')).toEqual({
      accepted: false,
      reason: 'wrong-sender',
    });
    expect(await wipe.handle({ text, from: 'mallory@clinic.example' }, 'archive')).toBeNull();
    expect(await wipe.handle({ text: `${text} `, from: 'mallory@clinic.example' }, 'archive')).not.toBeNull();
    expect(audited).toHaveLength(2);
  });

  it('refuses a command issued before the profile was created (meant for an earlier one): predates-profile', async () => {
    const { wipe, audited } = setup();
    const { command, text } = await signed({ issuedAt: PROFILE.createdAt - HOUR });
    expect(await wipe.handle({ text, from: IT }, 'unlock')).toEqual({ accepted: false, reason: 'predates-profile' });
    expect(audited[0]?.detail).toMatchObject({ reason: 'predates-profile', nonce: command.nonce, signer: fpr });
  });

  it('refuses a nonce this PC already carried out (the device log outlives the profile): replayed', async () => {
    const { command, text } = await signed();
    const keychain = {
      getRecord: () => Promise.resolve(null),
      setRecord: () => Promise.resolve(),
    } as unknown as Keychain;
    await appendDeviceLog(dir, keychain, {
      at: NOW,
      event: 'profile-wiped',
      profileId: 'earlier-profile',
      detail: { reason: 'admin-command', nonce: command.nonce },
    });
    expect(executedNonces(dir).has(command.nonce)).toBe(true);
    const { wipe } = setup();
    expect(await wipe.handle({ text, from: IT }, 'unlock')).toEqual({ accepted: false, reason: 'replayed' });
  });
});

describe('wipeOnAccountDisabled: what counts as the server refusing the account', () => {
  const sasl = (condition: string) =>
    classifyError(Object.assign(new Error(condition), { name: 'SASLError', condition }));

  it('a SASL not-authorized, account-disabled or credentials-expired: refused', () => {
    for (const c of ['not-authorized', 'account-disabled', 'credentials-expired'])
      expect(isAccountRefusal(sasl(c))).toBe(true);
  });

  it('a transient SASL failure, the network or anything else: never a refusal', () => {
    for (const c of ['temporary-auth-failure', 'aborted', 'malformed-request', 'invalid-mechanism'])
      expect(isAccountRefusal(sasl(c))).toBe(false);
    const refusedConnection = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    expect(isAccountRefusal(classifyError(refusedConnection))).toBe(false);
    expect(isAccountRefusal(new Error('not-authorized'))).toBe(false);
  });
});
