/**
 * Twilio through its documented REST API (https://www.twilio.com/docs/messaging/api/message-resource):
 * POST /2010-04-01/Accounts/{AccountSid}/Messages.json, form-encoded To, From, Body and
 * StatusCallback, HTTP Basic auth with the Account SID and auth token. One HTTPS call with Node's
 * fetch: the official SDK (and its dependencies) is not needed for it. Delivery receipts come back
 * to `<webhookBaseUrl>/sms/twilio/status`, signed (twilio-signature.ts, http/webhooks.ts).
 */
import { SmsSendError, type OutgoingSms, type SentSms, type SmsProvider } from './provider';

export interface TwilioSettings {
  accountSid: string;
  authToken: string;
  from: string;
  webhookBaseUrl: string;
  apiBaseUrl: string;
}

export const TWILIO_STATUS_PATH = '/sms/twilio/status';
export const TWILIO_INBOUND_PATH = '/sms/twilio/inbound';

export function twilioProvider(s: TwilioSettings, fetchImpl: typeof fetch = fetch): SmsProvider {
  const url = `${s.apiBaseUrl}/2010-04-01/Accounts/${s.accountSid}/Messages.json`;
  const auth = `Basic ${Buffer.from(`${s.accountSid}:${s.authToken}`).toString('base64')}`;
  return {
    name: 'twilio',
    async send(sms: OutgoingSms): Promise<SentSms> {
      const body = new URLSearchParams({
        To: sms.to,
        From: s.from,
        Body: sms.body,
        StatusCallback: `${s.webhookBaseUrl}${TWILIO_STATUS_PATH}`,
      });
      let res: Response;
      try {
        res = await fetchImpl(url, {
          method: 'POST',
          headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
          body,
          signal: AbortSignal.timeout(15_000),
        });
      } catch (err) {
        throw new SmsSendError(
          err instanceof Error && err.name === 'TimeoutError' ? 'twilio-timeout' : 'twilio-unreachable',
        );
      }
      // A body that is not JSON is handled below as "no sid" or as the HTTP status.
      const json = (await res.json().catch(() => null)) as { sid?: unknown; code?: unknown } | null;
      if (!res.ok) {
        // Twilio's error body: { code, message, more_info, status }; the message can quote the number.
        const code = typeof json?.code === 'number' ? json.code : res.status;
        throw new SmsSendError(`twilio-${code}`);
      }
      if (typeof json?.sid !== 'string' || !/^(SM|MM)[0-9a-f]{32}$/.test(json.sid))
        throw new SmsSendError('twilio-bad-response');
      return { providerRef: json.sid, delivered: false };
    },
  };
}
