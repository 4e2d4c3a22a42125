/**
 * Twilio's webhook signature (https://www.twilio.com/docs/usage/security#validating-requests):
 * X-Twilio-Signature = base64(HMAC-SHA1(auth token, URL + each POST parameter's name and value,
 * sorted by name, concatenated without separators)). The URL is the one Twilio requested,
 * scheme, host, path and query as configured (webhookBaseUrl), not what a proxy forwarded.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export function twilioSignature(authToken: string, url: string, params: Iterable<[string, string]>): string {
  const sorted = [...params].sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  const data = sorted.reduce((acc, [k, v]) => acc + k + v, url);
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
}

/** Constant-time check of the header; a missing or empty header is never valid. */
export function verifyTwilioSignature(
  authToken: string,
  url: string,
  params: Iterable<[string, string]>,
  header: string | undefined,
): boolean {
  if (!header) return false;
  const expected = Buffer.from(twilioSignature(authToken, url, params));
  const given = Buffer.from(header);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
