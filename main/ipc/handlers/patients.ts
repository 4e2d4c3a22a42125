/**
 * patients:* (issue 17 items 2 and 5): texts to patients through the clinic's patient gateway, the
 * imported patient list, templates and segment sends, stored in the session's encrypted store
 * (main/xmpp/patient-texts.ts, patient-segments.ts and main/patients/patient-list.ts do the work).
 */
import type { DomainHandlers, HandlerContext } from './context';

type PatientChannels =
  | 'patients:send'
  | 'patients:list'
  | 'patients:thread'
  | 'patients:markRead'
  | 'patients:sendInThread'
  | 'patients:import'
  | 'patients:directory'
  | 'patients:templates'
  | 'patients:saveTemplate'
  | 'patients:deleteTemplate'
  | 'patients:sendSegment'
  | 'patients:segments';

export function patientHandlers(ctx: HandlerContext): DomainHandlers<PatientChannels> {
  const patients = () => ctx.session.active().messaging.patients;
  return {
    'patients:send': (draft) => patients().send(draft),
    'patients:list': () => patients().list(),
    // A patient conversation in the inbox (issue 17): main/xmpp/patient-conversations.ts.
    'patients:thread': ({ phone }) => patients().conversations.thread(phone),
    'patients:markRead': ({ phone }) => {
      patients().conversations.markRead(phone);
      return null;
    },
    'patients:sendInThread': (draft) => patients().conversations.send(draft),
    'patients:import': (input) => patients().lists.importCsv(input),
    'patients:directory': () => patients().lists.directory(),
    'patients:templates': () => patients().lists.templates(),
    'patients:saveTemplate': (t) => patients().lists.saveTemplate(t),
    'patients:deleteTemplate': ({ id }) => {
      patients().lists.deleteTemplate(id);
      return null;
    },
    'patients:sendSegment': (draft) => patients().segments.send(draft),
    'patients:segments': () => patients().segments.list(),
  };
}
