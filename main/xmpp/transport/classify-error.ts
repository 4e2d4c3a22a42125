/** Maps whatever @xmpp/client or Node threw during a connection to one of our error codes. */
import { AppError } from '../../../common/result';
import { isCertificateError } from './tls-trust';

export function classifyError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (isCertificateError(err)) {
    return new AppError(
      'TLS_REQUIRED',
      "The server's certificate is not trusted (wrong name, expired, or unknown issuer).",
      { reason: 'certificate' },
    );
  }
  const e = err as { name?: string; condition?: string; code?: string } | null;
  if (e?.name === 'SASLError' || e?.condition === 'not-authorized' || e?.condition === 'account-disabled') {
    return new AppError('AUTH_FAILED', 'The server refused the user name or password.', {
      condition: e?.condition ?? null,
    });
  }
  return new AppError('NOT_CONNECTED', 'Cannot reach the messaging server.', {
    cause: e?.code ?? e?.condition ?? e?.name ?? 'unknown',
  });
}

/**
 * SASL failures (RFC 6120 §6.5) that mean "this account may not sign in": not its transient
 * ones (temporary-auth-failure: the server's own database is down; aborted; malformed-request).
 */
const REFUSALS = new Set(['not-authorized', 'account-disabled', 'credentials-expired']);

/** Whether a failed sign-in is the server refusing the account (not the network, not a transient SASL failure). */
export function isAccountRefusal(err: unknown): boolean {
  const condition = err instanceof AppError ? err.details?.condition : undefined;
  return (
    err instanceof AppError && err.code === 'AUTH_FAILED' && typeof condition === 'string' && REFUSALS.has(condition)
  );
}
