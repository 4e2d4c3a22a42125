/** Shared pieces for the vault/session integration tests (real keychain, temp folders, fake clock). */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { policySchema, type Policy, type PolicyInput } from '../../main/policy/schema';
import { AppError } from '../../common/result';
import { createOsKeychain, type Keychain } from '../../main/vault/keychain';

export { fakeClock, type FakeClock } from '../support/fake-clock';

/** Fast KDF for tests that are not about the KDF: the policy floor (19 MiB, t=1). */
export const FAST_ARGON2 = { memoryKiB: 19 * 1024, iterations: 1, parallelism: 1 };

export function testPolicy(extra: PolicyInput = {}): Policy {
  return policySchema.parse({ argon2: FAST_ARGON2, ...extra });
}

export const PASS = 'orbit lantern staple mango';
export const OTHER = 'quartz meadow violin tide';

/** A keychain under a service name of its own, so tests never touch each other's (or a real user's) entries. */
export function testKeychain(service = `clinic-messenger-test-${randomUUID()}`): {
  keychain: Keychain;
  service: string;
} {
  return { keychain: createOsKeychain({ service }), service };
}

export function tempDir(prefix = 'vault-test-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Fails fast, with the fix, when the suite is not run inside scripts/with-keyring.sh. */
export async function requireKeychain(): Promise<void> {
  // A service of its own: files run in parallel, and two probes of one service race on its entry.
  const probe = await createOsKeychain({ service: `clinic-messenger-test-probe-${randomUUID()}` }).probe();
  if (!probe.available)
    throw new Error(`These tests need a real keychain: run them inside scripts/with-keyring.sh (${probe.reason})`);
}

/** The AppError a promise rejects with (fails the test when it resolves, or rejects with anything else). */
export async function appError(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof AppError) return err;
    throw new Error(`expected an AppError, got ${err instanceof Error ? err.name : typeof err}`);
  }
  throw new Error('expected an AppError');
}
