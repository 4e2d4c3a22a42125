// The keychain's failures as a person reads them, and the one it tries again: the Secret Service
// leaving the bus in the middle of a call (gnome-keyring-daemon crashed; D-Bus starts it again).
import { describe, expect, it } from 'vitest';
import { AppError } from '../../common/result';
import { keychainError, retryIfServiceVanished } from '../../main/vault/keychain';

const NO_REPLY = new Error(
  'Platform secure storage failure: org.freedesktop.DBus.Error.NoReply: Message recipient disconnected from message bus without replying',
);

/** A keychain call that fails with `failures` in turn, then answers 'secret'. */
function flaky(failures: Error[]) {
  let calls = 0;
  return {
    fn: () => {
      const failure = failures[calls++];
      return failure ? Promise.reject(failure) : Promise.resolve('secret');
    },
    calls: () => calls,
  };
}

describe('keychain: a Secret Service that went away mid-call', () => {
  it('is asked once more on Linux, and its answer is the answer', async () => {
    const call = flaky([NO_REPLY]);
    await expect(retryIfServiceVanished('linux', call.fn)).resolves.toBe('secret');
    expect(call.calls()).toBe(2);
  });

  it('is asked only once more: a second failure is the caller’s', async () => {
    const call = flaky([NO_REPLY, NO_REPLY]);
    await expect(retryIfServiceVanished('linux', call.fn)).rejects.toBe(NO_REPLY);
    expect(call.calls()).toBe(2);
  });

  it('any other failure, and any failure on another platform, is not tried again', async () => {
    const locked = new Error('Platform secure storage failure: the prompt was dismissed');
    const other = flaky([locked]);
    await expect(retryIfServiceVanished('linux', other.fn)).rejects.toBe(locked);
    expect(other.calls()).toBe(1);
    const mac = flaky([NO_REPLY]);
    await expect(retryIfServiceVanished('darwin', mac.fn)).rejects.toBe(NO_REPLY);
    expect(mac.calls()).toBe(1);
  });

  it('says that the keychain stopped answering, not that there is no D-Bus session bus', () => {
    const e = keychainError(NO_REPLY, 'linux', 'read');
    expect(e).toBeInstanceOf(AppError);
    expect(e.code).toBe('KEYCHAIN_UNAVAILABLE');
    expect(e.message).toMatch(/stopped answering in the middle of a request/);
    expect(e.details).toEqual({ operation: 'read' });
    // A bus that cannot be reached at all still says so.
    const noBus = keychainError(new Error('Failed to connect to socket /run/user/0/bus'), 'linux', 'read');
    expect(noBus.message).toMatch(/no working D-Bus session bus/);
  });
});
