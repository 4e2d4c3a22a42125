/**
 * The desktop's side of a patient text (issue 17 item 2), pure parts: the SMS text checker keeps
 * names, dates, numbers and the clinic's words out of an SMS; the DOB verifier has the gateway's
 * format and matches what gateway/dob.ts checks; the gateway stanzas are read strictly.
 */
import { xml } from '@xmpp/client';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkDob, parseDobVerifier } from '../../gateway/dob';
import { makeDobVerifier, normalizeDob } from '../../main/patients/dob-verifier';
import { checkSmsText, describeSmsProblem } from '../../common/sms-text';
import { NS_PATIENT_GATEWAY as NS, parseSent, parseStateMessage, patientJidOf } from '../../main/xmpp/patient-gateway';

const GW = 'patients.clinic.test';
const PATIENT = `p-0123456789abcdef01234567@${GW}`;

describe('SMS text checker', () => {
  it('accepts a plain text with the link once', () => {
    expect(checkSmsText('Your clinic sent you a secure message: {link}')).toEqual({
      ok: true,
      text: 'Your clinic sent you a secure message: {link}',
    });
  });

  it.each([
    ['the patient name', 'Hello Maria, a message: {link}', { patientName: 'Maria Lopez' }, 'name', 'maria'],
    ['a family name in another case', 'For LOPEZ: {link}', { patientName: 'Maria Lopez' }, 'name', 'lopez'],
    ['a month', 'Your visit in March: {link}', {}, 'date', 'march'],
    ['a weekday', 'See you Tuesday {link}', {}, 'date', 'tuesday'],
    ['a numeric date', 'Sent 2027-01-15 {link}', {}, 'number', '2027-01-15'],
    ['a phone number', 'Call 555 0100 {link}', {}, 'number', '555 0100'],
    ['a default list word', 'Your lab results: {link}', {}, 'word', 'lab'],
    ['a clinic word', 'From the dermatology desk {link}', { extraWords: ['Dermatology'] }, 'word', 'dermatology'],
    ['a clinic phrase', 'About your flu shot {link}', { extraWords: ['flu shot'] }, 'word', 'flu shot'],
  ])('refuses %s', (_what, text, opts, kind, found) => {
    const r = checkSmsText(text, opts);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems).toContainEqual({ kind, found });
  });

  it('needs {link} exactly once and no other placeholder, within the length', () => {
    for (const t of ['No link', '{link} and {link}', '{link} {name}', `${'a'.repeat(230)} {link}`]) {
      const r = checkSmsText(t);
      expect(r.ok, t).toBe(false);
    }
    const hidden = checkSmsText('Secure\u202e message {link}');
    expect(hidden.ok).toBe(false);
  });

  it('every problem has a sentence for the screen', () => {
    const r = checkSmsText('Maria: results on 5 May {name}', { patientName: 'Maria' });
    expect(r.ok).toBe(false);
    if (!r.ok) for (const p of r.problems) expect(describeSmsProblem(p)).toMatch(/\S/);
  });

  it('never accepts a text with a digit in it or a word from the list (any text)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), fc.integer({ min: 0, max: 9 }), (s, d) => {
        expect(checkSmsText(`${s}${d} {link}`).ok).toBe(false);
        expect(checkSmsText(`${s} biopsy {link}`).ok).toBe(false);
      }),
    );
  });
});

describe('DOB verifier', () => {
  it('has the gateway format and the gateway accepts the right date and no other', async () => {
    const v = await makeDobVerifier(' 1984-02-29 ');
    expect(v).toMatch(/^scrypt\$15\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    const parsed = parseDobVerifier(v);
    expect(parsed).not.toBeNull();
    expect(await checkDob('1984-02-29', parsed!)).toBe(true);
    expect(await checkDob('1984-03-01', parsed!)).toBe(false);
    // A fresh salt every time: two verifiers of one date differ.
    expect(await makeDobVerifier('1984-02-29')).not.toBe(v);
  });

  it('refuses what is not a real date', async () => {
    for (const d of ['1983-02-29', '29/02/1984', '1899-12-31', '', '1984-2-9'])
      await expect(makeDobVerifier(d), d).rejects.toMatchObject({ code: 'BAD_INPUT' });
    expect(normalizeDob('2000-02-29')).toBe('2000-02-29');
  });
});

describe('gateway stanzas', () => {
  const state = (attrs: Record<string, string>, from = `${PATIENT}/x`) =>
    xml('message', { from, to: 'rita@clinic.test', type: 'normal' }, xml('state', { xmlns: NS, ...attrs }));

  it('reads a state change from a patient of this gateway', () => {
    const at = '2027-01-15T08:00:00.000Z';
    expect(parseStateMessage(state({ id: 'AAAAAAAAAAAAAAAAAAAAAA', state: 'opened', at }), GW)).toEqual({
      patient: PATIENT,
      id: 'AAAAAAAAAAAAAAAAAAAAAA',
      state: 'opened',
      at,
      reason: null,
    });
    const failed = parseStateMessage(
      state({ id: 'AAAAAAAAAAAAAAAAAAAAAA', state: 'failed', at, reason: 'sms-undelivered:30007' }),
      GW,
    );
    expect(failed?.reason).toBe('sms-undelivered:30007');
  });

  it('ignores hostile or foreign state messages', () => {
    const at = '2027-01-15T08:00:00.000Z';
    const ok = { id: 'AAAAAAAAAAAAAAAAAAAAAA', state: 'opened', at };
    expect(parseStateMessage(state(ok, 'p-0123456789abcdef01234567@evil.example'), GW)).toBeNull();
    expect(parseStateMessage(state(ok, `rita@${GW}`), GW)).toBeNull();
    expect(parseStateMessage(state(ok, GW), GW)).toBeNull();
    expect(parseStateMessage(state({ ...ok, state: 'read' }), GW)).toBeNull();
    expect(parseStateMessage(state({ ...ok, at: 'yesterday' }), GW)).toBeNull();
    expect(parseStateMessage(state({ ...ok, id: '../../x' }), GW)).toBeNull();
    expect(parseStateMessage(state({ ...ok, reason: '<script>' }), GW)?.reason).toBeNull();
    const err = xml('message', { from: PATIENT, type: 'error' }, xml('state', { xmlns: NS, ...ok }));
    expect(parseStateMessage(err, GW)).toBeNull();
  });

  it('reads the <sent/> answer strictly', () => {
    const sent = (attrs: Record<string, string>) => xml('iq', { type: 'result' }, xml('sent', { xmlns: NS, ...attrs }));
    const good = {
      id: 'AAAAAAAAAAAAAAAAAAAAAA',
      patient: PATIENT,
      state: 'queued',
      expires: '2027-01-22T00:00:00.000Z',
    };
    expect(parseSent(sent(good), GW)).toEqual(good);
    for (const bad of [
      { ...good, patient: 'x@y' },
      { ...good, state: 'sent' },
      { ...good, expires: 'soon' },
      { ...good, id: '' },
    ])
      expect(() => parseSent(sent(bad), GW)).toThrow(/malformed-answer/);
    expect(patientJidOf(PATIENT.toUpperCase(), GW)).toBe(PATIENT);
  });
});
