/**
 * patients:send / patients:list (issue 17 item 2): texts to patients through the clinic's patient
 * gateway, stored in the session's encrypted store (main/xmpp/patient-texts.ts does the work).
 */
import type { DomainHandlers, HandlerContext } from './context';

export function patientHandlers(ctx: HandlerContext): DomainHandlers<'patients:send' | 'patients:list'> {
  return {
    'patients:send': (draft) => ctx.session.active().messaging.patients.send(draft),
    'patients:list': () => ctx.session.active().messaging.patients.list(),
  };
}
