/**
 * Patients' recorded requests for plain SMS (issue 17 item 4), kept in the session's encrypted store
 * as one settings value (no table of its own): patient row id → who recorded it, when, and where the
 * request is documented. A withdrawal removes the entry; the audit keeps the history.
 */
import type { PlainSmsRequest } from '../../common/contract/patient-plain-sms';
import type { Store } from './types';

const KEY = 'patients.plainSmsRequests';

type Saved = Record<string, Omit<PlainSmsRequest, 'patientId'>>;

export interface PlainSmsRequests {
  list(): PlainSmsRequest[];
  get(patientId: string): PlainSmsRequest | undefined;
  /** Records (or replaces) the patient's request. */
  record(r: PlainSmsRequest): PlainSmsRequest;
  /** false: there was none. */
  withdraw(patientId: string): boolean;
}

export function plainSmsRequests(store: Pick<Store, 'getSetting' | 'setSetting'>): PlainSmsRequests {
  const read = (): Saved => store.getSetting<Saved>(KEY) ?? {};
  const entry = (patientId: string, r: Saved[string]): PlainSmsRequest => ({ patientId, ...r });
  return {
    list: () =>
      Object.entries(read())
        .map(([id, r]) => entry(id, r))
        .sort((a, b) => a.recordedAt - b.recordedAt),
    get(patientId) {
      const r = read()[patientId];
      return r ? entry(patientId, r) : undefined;
    },
    record({ patientId, ...r }) {
      store.setSetting(KEY, { ...read(), [patientId]: r });
      return entry(patientId, r);
    },
    withdraw(patientId) {
      const all = read();
      if (!Object.hasOwn(all, patientId)) return false;
      delete all[patientId];
      store.setSetting(KEY, all);
      return true;
    },
  };
}
