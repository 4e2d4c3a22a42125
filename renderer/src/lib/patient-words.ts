/**
 * A secure text to a patient in words (issue 17): its state, the same on the Patients screen's
 * list and in the inbox's patient conversation. Why one was not sent is an error text, so it lives
 * with the others in lib/errors.ts (patientTextFailure).
 */
import type { PatientTextState } from '../../../common/contract/domain';

export const patientTextStateLabel: Record<PatientTextState, string> = {
  sending: 'Waiting to send',
  queued: 'With the gateway',
  'sms-delivered': 'SMS delivered',
  opened: 'Opened',
  replied: 'Replied',
  expired: 'Expired',
  failed: 'Not sent',
};
