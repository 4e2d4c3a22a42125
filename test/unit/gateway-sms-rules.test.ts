/**
 * Pure rules of the patient gateway's SMS side (issue 17 items 1 and 4): opt-out keywords, and
 * Twilio's X-Twilio-Signature checked against the example in Twilio's security documentation.
 */
import { describe, expect, it } from 'vitest';
import { classifyKeyword, OPT_OUT_KEYWORDS } from '../../gateway/sms/opt-out';
import { twilioSignature, verifyTwilioSignature } from '../../gateway/sms/twilio-signature';

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
