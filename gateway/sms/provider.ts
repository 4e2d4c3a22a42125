/**
 * The SMS provider adapter (issue 17 item 1): twilio.ts (Twilio's REST API) and sink.ts (files
 * that tests and the demo read). The gateway hands a provider one text at a time and learns of
 * delivery either at once (the sink) or later through a signed webhook (Twilio).
 */
export interface OutgoingSms {
  /** E.164 number. */
  to: string;
  /** PHI-free text with the link; it carries the link secret, so it is never stored or logged. */
  body: string;
}

export interface SentSms {
  /** The provider's id for this text (Twilio's MessageSid); delivery receipts name it. */
  providerRef: string;
  /** True when the provider already knows the text reached the phone (the sink). */
  delivered: boolean;
}

export interface SmsProvider {
  readonly name: 'twilio' | 'sink';
  /** Throws SmsSendError when the provider refuses or cannot be reached. */
  send(sms: OutgoingSms): Promise<SentSms>;
}

/** A provider's refusal; `code` is safe to log and to report (never the number or the text). */
export class SmsSendError extends Error {
  constructor(readonly code: string) {
    super(`the SMS provider did not take the text (${code})`);
    this.name = 'SmsSendError';
  }
}
