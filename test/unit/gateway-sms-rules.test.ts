/**
 * Pure rules of the patient gateway's SMS side (issue 17 items 1 and 4): opt-out keywords, and
 * Twilio's X-Twilio-Signature checked against the example in Twilio's security documentation.
 */
import { describe, expect, it } from 'vitest';
import { classifyKeyword, OPT_OUT_KEYWORDS } from '../../gateway/sms/opt-out';
import { twilioSignature, verifyTwilioSignature } from '../../gateway/sms/twilio-signature';
import { inQuietHours, renderSms } from '../../gateway/rules';
import { SmsSendError } from '../../gateway/sms/provider';
import { twilioProvider } from '../../gateway/sms/twilio';

describe('opt-out keywords', () => {
  it('recognises every keyword in any case, with blanks and punctuation around it', () => {
    for (const k of OPT_OUT_KEYWORDS) {
      for (const body of [k, k.toLowerCase(), ` ${k[0]}${k.slice(1).toLowerCase()}. `, `${k}!`])
        expect(classifyKeyword(body), body).toBe('opt-out');
    }
    expect(classifyKeyword('opt  out')).toBe('opt-out');
    expect(classifyKeyword('OptOut')).toBe('opt-out');
  });

  it('does not treat a sentence that starts with a keyword as an opt-out', () => {
    for (const body of ['End of day works for me', 'stop by tomorrow?', 'cancellation policy', 'STOPP', ''])
      expect(classifyKeyword(body), body).toBeNull();
  });

  it('recognises START as opting back in', () => {
    expect(classifyKeyword('start')).toBe('opt-in');
    expect(classifyKeyword('Unstop')).toBe('opt-in');
  });
});

describe('Twilio request signature', () => {
  // Twilio's documented example (docs/usage/security): auth token 12345, this URL and these params.
  const url = 'https://mycompany.com/myapp.php?foo=1&bar=2';
  const params: [string, string][] = [
    ['CallSid', 'CA1234567890ABCDE'],
    ['Caller', '+12349013030'],
    ['Digits', '1234'],
    ['From', '+12349013030'],
    ['To', '+18005551212'],
  ];

  it("matches the documented signature, whatever order the form's fields came in", () => {
    expect(twilioSignature('12345', url, params)).toBe('0/KCTR6DLpKmkAf8muzZqo1nDgQ=');
    expect(twilioSignature('12345', url, [...params].reverse())).toBe('0/KCTR6DLpKmkAf8muzZqo1nDgQ=');
    expect(verifyTwilioSignature('12345', url, params, '0/KCTR6DLpKmkAf8muzZqo1nDgQ=')).toBe(true);
  });

  it('rejects a missing header, another token, another URL and an altered field', () => {
    const good = '0/KCTR6DLpKmkAf8muzZqo1nDgQ=';
    expect(verifyTwilioSignature('12345', url, params, undefined)).toBe(false);
    expect(verifyTwilioSignature('12345', url, params, '')).toBe(false);
    expect(verifyTwilioSignature('54321', url, params, good)).toBe(false);
    expect(verifyTwilioSignature('12345', 'https://mycompany.com/myapp.php', params, good)).toBe(false);
    const altered: [string, string][] = params.map(([k, v]) => [k, k === 'Digits' ? '1235' : v]);
    expect(verifyTwilioSignature('12345', url, altered, good)).toBe(false);
  });
});

describe('quiet hours and the SMS text', () => {
  // America/Chicago is UTC-6 in January: 03:00Z is 21:00 local, 14:00Z is 08:00 local.
  const at = (utc: string) => Date.parse(`2027-01-15T${utc}:00Z`);
  const night = { start: '21:00', end: '08:00', timeZone: 'America/Chicago' };

  it('knows quiet hours in the clinic time zone, across midnight, start inclusive and end exclusive', () => {
    expect(inQuietHours(night, at('02:59'))).toBe(false); // 20:59 local
    expect(inQuietHours(night, at('03:00'))).toBe(true); // 21:00
    expect(inQuietHours(night, at('08:00'))).toBe(true); // 02:00
    expect(inQuietHours(night, at('13:59'))).toBe(true); // 07:59
    expect(inQuietHours(night, at('14:00'))).toBe(false); // 08:00
    expect(inQuietHours({ start: '12:00', end: '13:00', timeZone: 'UTC' }, at('12:30'))).toBe(true);
    expect(inQuietHours({ start: '12:00', end: '13:00', timeZone: 'UTC' }, at('13:00'))).toBe(false);
    expect(inQuietHours(null, at('03:00'))).toBe(false);
  });

  it('puts the link in once and refuses a template without it, with two, with a stray placeholder or too long', () => {
    expect(renderSms('Your clinic has a message: {link}', 'https://p.example/m/x#y')).toEqual({
      text: 'Your clinic has a message: https://p.example/m/x#y',
    });
    expect(renderSms('No link', 'L')).toEqual({ problem: 'the SMS text must contain {link} exactly once' });
    expect(renderSms('{link} {link}', 'L')).toEqual({ problem: 'the SMS text must contain {link} exactly once' });
    expect(renderSms('Hi {name}: {link}', 'L')).toEqual({ problem: 'the SMS text has an unfilled placeholder' });
    expect(renderSms(`${'a'.repeat(300)} {link}`, 'https://p.example/m/x#y')).toMatchObject({ problem: /longer than/ });
  });
});

describe('Twilio REST adapter', () => {
  const settings = {
    accountSid: `AC${'0'.repeat(32)}`,
    authToken: 'token-0123456789abcdef',
    from: '+15559990000',
    webhookBaseUrl: 'https://p.example',
    apiBaseUrl: 'https://api.twilio.com',
  };
  const answering =
    (status: number, body: unknown): typeof fetch =>
    () =>
      Promise.resolve(new Response(JSON.stringify(body), { status }));

  it("returns Twilio's MessageSid; the text is not known delivered until the receipt", async () => {
    const sid = `SM${'a'.repeat(32)}`;
    const p = twilioProvider(settings, answering(201, { sid, status: 'queued' }));
    expect(await p.send({ to: '+15550001111', body: 'x' })).toEqual({ providerRef: sid, delivered: false });
  });

  it("turns Twilio's error into a code that names no number and no text", async () => {
    const refusal = { code: 21211, message: "The 'To' number +15550001111 is not a valid phone number.", status: 400 };
    const err = await twilioProvider(settings, answering(400, refusal))
      .send({ to: '+15550001111', body: 'x' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SmsSendError);
    expect((err as SmsSendError).code).toBe('twilio-21211');
    expect((err as Error).message).not.toContain('+1555');
    const down = (() => Promise.reject(new TypeError('fetch failed'))) as typeof fetch;
    await expect(twilioProvider(settings, down).send({ to: '+15550001111', body: 'x' })).rejects.toMatchObject({
      code: 'twilio-unreachable',
    });
    await expect(
      twilioProvider(settings, answering(201, { sid: 'nope' })).send({ to: '+1', body: 'x' }),
    ).rejects.toMatchObject({
      code: 'twilio-bad-response',
    });
  });
});
