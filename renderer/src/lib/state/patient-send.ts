/**
 * A secure text sent through main (issue 17): the Patients screen's form (patients:send) and the
 * inbox's patient conversation (patients:sendInThread) raise the same "sending" flag, apply the
 * stored text the same way and show a refusal in the same words.
 */
import type { PatientText } from '../../../../common/contract/domain';
import type { Result } from '../../../../common/result';
import { errorTextFor } from '../errors';

/** The state a send reports into (PatientsState, PatientThreadState). */
export interface PatientSendTarget {
  sending: boolean;
  error: string | null;
  apply(t: PatientText): unknown;
}

/**
 * `sending` is up while the call is out, and down again however it ends (a rejected call too).
 * The stored text (in whatever state the gateway left it), applied; or null with the refusal in `error`.
 */
export async function sendPatientText(
  into: PatientSendTarget,
  call: () => Promise<Result<PatientText>>,
): Promise<PatientText | null> {
  into.sending = true;
  into.error = null;
  try {
    const r = await call();
    if (r.ok) {
      into.apply(r.value);
      return r.value;
    }
    into.error = errorTextFor('patients', r.error);
    return null;
  } finally {
    into.sending = false;
  }
}
