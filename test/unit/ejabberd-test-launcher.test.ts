import { describe, expect, it, vi } from 'vitest';
import { portTakenIn } from '../support/ejabberd';
import { PortTakenError, startAfreshWhenPortTaken } from '../support/loopback';

// The test launcher's answer to a port that another process took between choosing and binding it
// (test/support/ejabberd.ts): seen in CI as a cluster node that never started.
describe('ejabberd test launcher: a taken port', () => {
  // The node's log in that CI run, shortened.
  const failedStart = [
    '2026-12-05 10:01:22.098169+00:00 [info] <0.205.0>@ejabberd_mnesia:create/2:270 Creating Mnesia ram table',
    '2026-12-05 10:01:22.114770+00:00 [error] <0.335.0>@ejabberd_listener:report_socket_error/3:481 Failed to open ' +
      'socket at 127.0.0.1:31141 for ejabberd_c2s: address already in use',
    '2026-12-05 10:01:22.123267+00:00 [critical] <0.123.0>@ejabberd_app:start/2:68 Failed to start ejabberd application',
  ].join('\n');

  it('is found in the log by its listener line', () => {
    expect(portTakenIn(failedStart)).toBe(
      'Failed to open socket at 127.0.0.1:31141 for ejabberd_c2s: address already in use',
    );
  });

  it('is not read into other failed starts', () => {
    const otherFailure = failedStart
      .split('\n')
      .filter((line) => !line.includes('address already in use'))
      .join('\n');
    expect(portTakenIn(otherFailure)).toBeUndefined();
    expect(portTakenIn('')).toBeUndefined();
  });

  it('starts again on a taken port, up to three times in all', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    let tries = 0;
    const flaky = () => (++tries < 3 ? Promise.reject(new PortTakenError('taken')) : Promise.resolve('up'));
    await expect(startAfreshWhenPortTaken(flaky)).resolves.toBe('up');
    expect(tries).toBe(3);

    tries = 0;
    const alwaysTaken = () => (tries++, Promise.reject(new PortTakenError('still taken')));
    await expect(startAfreshWhenPortTaken(alwaysTaken)).rejects.toThrow('still taken');
    expect(tries).toBe(3);
    // Each new start is said, with its reason: two for each of the two launches.
    expect(warn.mock.calls.map((c) => String(c[0]))).toEqual([
      'taken: starting again on other ports',
      'taken: starting again on other ports',
      'still taken: starting again on other ports',
      'still taken: starting again on other ports',
    ]);
    warn.mockRestore();
  });

  it('does not start again for any other failure', async () => {
    let tries = 0;
    const broken = () => (tries++, Promise.reject(new Error('did not start')));
    await expect(startAfreshWhenPortTaken(broken)).rejects.toThrow('did not start');
    expect(tries).toBe(1);
  });
});
