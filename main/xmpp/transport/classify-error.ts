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
