// A secure text to a patient, sent from the Patients screen or the inbox's patient conversation
// (renderer/src/lib/state/patient-send.ts): "sending" is up exactly while main answers, the stored
// text is applied, a refusal shows in words, and a call that rejects still lowers the flag.
import { describe, expect, it } from 'vitest';
import type { PatientText } from '../../common/contract/domain';
import type { Result } from '../../common/result';
import { errorTextFor } from '../../renderer/src/lib/errors';
import { sendPatientText, type PatientSendTarget } from '../../renderer/src/lib/state/patient-send';

const text = { id: 't1', phone: '+15551230000', state: 'queued', replies: [] } as unknown as PatientText;

function target(): PatientSendTarget & { applied: PatientText[] } {
  const applied: PatientText[] = [];
  return { sending: false, error: 'the last refusal', applied, apply: (t) => applied.push(t) };
}

describe('sending a secure text to a patient', () => {
  it('raises "sending" and clears the old error while the call is out, then applies and returns the stored text', async () => {
    const into = target();
    let during: { sending: boolean; error: string | null } | null = null;
    const sent = await sendPatientText(into, () => {
      during = { sending: into.sending, error: into.error };
      return Promise.resolve<Result<PatientText>>({ ok: true, value: text });
    });
    expect(during).toEqual({ sending: true, error: null });
    expect(sent).toBe(text);
    expect(into.applied).toEqual([text]);
    expect(into.sending).toBe(false);
    expect(into.error).toBeNull();
  });

  it('on a refusal returns null, applies nothing and puts the refusal in words in `error`', async () => {
    const into = target();
    const error = { code: 'FORBIDDEN' as const, message: 'not allowed' };
    const sent = await sendPatientText(into, () => Promise.resolve<Result<PatientText>>({ ok: false, error }));
    expect(sent).toBeNull();
    expect(into.applied).toEqual([]);
    expect(into.error).toBe(errorTextFor('patients', error));
    expect(into.error).not.toBe('');
    expect(into.sending).toBe(false);
  });

  it('lowers "sending" when the call itself rejects', async () => {
    const into = target();
    await expect(sendPatientText(into, () => Promise.reject(new Error('window closed')))).rejects.toThrow(
      'window closed',
    );
    expect(into.sending).toBe(false);
  });
});
