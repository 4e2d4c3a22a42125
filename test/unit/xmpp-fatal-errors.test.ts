/**
 * Which connection errors stop reconnecting (main/xmpp/transport/client-events.ts isFatal): the
 * server refusing the account and an untrusted certificate do; a transient SASL failure does not —
 * a clustered ejabberd node that is shutting down answers temporary-auth-failure, and the client
 * must go on to the next attempt (another node, or the same one back), not stop for good.
 */
import { describe, expect, it } from 'vitest';
import { AppError } from '../../common/result';
import { isFatal } from '../../main/xmpp/transport/client-events';
import { classifyError } from '../../main/xmpp/transport/classify-error';

const sasl = (condition?: string) =>
  classifyError(Object.assign(new Error(condition ?? 'sasl'), { name: 'SASLError', condition }));

describe('fatal connection errors', () => {
  it('the account refused (not-authorized, account-disabled, credentials-expired): stop', () => {
    for (const c of ['not-authorized', 'account-disabled', 'credentials-expired'])
      expect(isFatal(sasl(c)), c).toBe(true);
  });

  it('an untrusted certificate or a server without TLS: stop', () => {
    expect(isFatal(new AppError('TLS_REQUIRED', 'no TLS'))).toBe(true);
  });

  it('a transient SASL failure, an unknown one, or the network: retried', () => {
    for (const c of ['temporary-auth-failure', 'aborted', 'malformed-request', undefined])
      expect(isFatal(sasl(c)), String(c)).toBe(false);
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    expect(isFatal(classifyError(reset))).toBe(false);
  });
});
