/**
 * patients:*PlainSms* (issue 17 item 4): a patient's documented request for plain SMS and a plain
 * send, main/xmpp/patient-plain-sms.ts. The live policy is checked here too, so a policy turned off
 * while the session runs refuses at once (the session's part checks and audits it as well).
 */
import { AppError } from '../../../common/result';
import type { DomainHandlers, HandlerContext } from './context';

type PlainSmsChannels =
  | 'patients:plainSmsRequests'
  | 'patients:recordPlainSmsRequest'
  | 'patients:withdrawPlainSmsRequest'
  | 'patients:sendPlainSms';

export function plainSmsHandlers(ctx: HandlerContext): DomainHandlers<PlainSmsChannels> {
  const plain = () => {
    if (!ctx.policy.policy.patientPlainSmsAllowed)
      throw new AppError(
        'FORBIDDEN',
        'Plain SMS is not allowed by the clinic policy (patientPlainSmsAllowed is off).',
        {
          refused: 'policy-off',
        },
      );
    return ctx.session.active().messaging.patients.plainSms;
  };
  return {
    'patients:plainSmsRequests': () => plain().requests(),
    'patients:recordPlainSmsRequest': (draft) => plain().record(draft),
    'patients:withdrawPlainSmsRequest': ({ patientId }) => {
      plain().withdraw(patientId);
      return null;
    },
    'patients:sendPlainSms': (draft) => plain().send(draft),
  };
}
