// A secure text's state in words (renderer/src/lib/patient-words.ts), shared by the Patients
// screen and the inbox's patient conversation. Why one was not sent is an error text
// (lib/errors.ts, tested in renderer-errors.test.ts).
import { describe, expect, it } from 'vitest';
import { patientTextState } from '../../common/contract/domain';
import { patientTextStateLabel } from '../../renderer/src/lib/patient-words';

describe('a secure text to a patient in words', () => {
  it('names every state', () => {
    for (const s of patientTextState.options) expect(patientTextStateLabel[s]).toMatch(/\w/);
    expect(patientTextStateLabel.failed).toBe('Not sent');
  });
});
