/**
 * The real OS keychain under a service name of its own. Test files run in parallel against one
 * gnome-keyring (scripts/with-keyring.sh); under one shared service name they would share entries
 * (the probe's, the device-log key) and race on them.
 */
import { randomBytes } from 'node:crypto';
import { createOsKeychain, type Keychain } from '../../main/vault/keychain';

export function isolatedKeychain(prefix: string): Keychain {
  return createOsKeychain({ service: `${prefix}-${randomBytes(8).toString('hex')}` });
}

/**
 * This test file's keychain (vitest loads modules afresh for each file). The workstations of one
 * file share it, as the workstations of one machine share the app's service.
 */
export const fileKeychain: Keychain = isolatedKeychain('clinic-e2e');
