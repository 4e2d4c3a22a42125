/**
 * Texts to patients inside a signed-in session (issue 17 item 2): stored first (the row's id is the
 * gateway request id), then encrypted and handed to the patient gateway over the session's
 * connection; offline, a text waits ('sending') and goes at the next connection — the gateway
 * answers a repeated request id with its first answer, so nobody is texted twice. The gateway's
 * <state/> messages move each text forward. Every step is audited with ids and states only.
 * The pieces: main/patients/ (SMS text check, DOB verifier, delivery), patient-gateway.ts (stanzas).
 */
import { randomUUID } from 'node:crypto';
import type { XmlElement } from '@xmpp/client';
import type { PatientText } from '../../common/contract/domain';
import type { ChannelParsedInput } from '../../common/ipc-contract';
import { AppError } from '../../common/result';
import { errorName } from '../log';
import { createPatientList, type PatientList } from '../patients/patient-list';
import { deliverPatientText, preparePatientText, type PreparedPatientText } from '../patients/send-text';
import type { StoredPatientText } from '../store/repos/patient-texts';
import type { MessagingContext } from './context';
import { createPatientGatewayInbound } from './patient-gateway-inbound';
import { createPatientSegments, type PatientSegments } from './patient-segments';
import { findPatientGateway } from './patient-gateway';
import { fetchPinnedKey } from './pep-keys';

/** What the sender wrote (the patients:send channel's input). */
export type PatientTextDraft = ChannelParsedInput<'patients:send'>;

export interface PatientTexts {
  send(draft: PatientTextDraft): Promise<PatientText>;
  list(): PatientText[];
  /** A message from the patient gateway (true: it was one, and is handled here). */
  onStanza(el: XmlElement): boolean;
  /** A fresh connection: texts stored while offline go now. */
  connected(): void;
  /** The imported patient list and the templates (issue 17 item 5). */
  readonly lists: PatientList;
  /** Segment sends (issue 17 item 5): their texts go through this file's delivery. */
  readonly segments: Pick<PatientSegments, 'send' | 'list'>;
}

const LIST_LIMIT = 200;

/** What one delivery pass looks up once: the archive key and the gateway's address. */
interface PassLookups {
  key?: Awaited<ReturnType<typeof fetchPinnedKey>>;
  gateway?: string | null;
}

const shown = ({ dobVerifier: _v, linkId: _l, ...t }: StoredPatientText): PatientText => t;

export function createPatientTexts(ctx: MessagingContext): PatientTexts {
  const { store, audit, events, logger, clock, policy } = ctx.opts;
  const domain = ctx.ownJid.slice(ctx.ownJid.indexOf('@') + 1);
  /** One delivery pass at a time: a text is never handed over twice at once. */
  let pass: Promise<void> = Promise.resolve();

  const emit = (t: StoredPatientText | undefined) => {
    if (!t) return;
    events.emit('patient:updated', shown(t));
    segments.textChanged(t.id);
  };

  function archiveAccount(): { jid: string; fingerprint: string } {
    if (!policy.complianceAccount || !policy.complianceKeyFingerprint)
      throw new AppError(
        'FORBIDDEN',
        "Texting patients needs the clinic's archive key: IT sets complianceAccount and complianceKeyFingerprint in the policy.",
      );
    return { jid: policy.complianceAccount, fingerprint: policy.complianceKeyFingerprint };
  }

  /** Hands one stored text to the gateway; leaves it 'sending' when the connection is the problem. */
  async function deliver(t: StoredPatientText, seen: PassLookups): Promise<void> {
    const c = ctx.conn();
    if (!c?.isReady()) return;
    const archive = archiveAccount();
    // Looked up once per pass (a segment is one pass): the key is checked against the policy each time.
    const key = (seen.key ??= await fetchPinnedKey(c, archive.jid, archive.fingerprint));
    seen.gateway ??= await findPatientGateway((el) => c.iq(el), domain);
    if ('refused' in key) {
      store.patientTexts.fail(t.id, `archive-${key.refused}`);
      audit.append('patient-text', { id: t.id, state: 'failed', reason: `archive-${key.refused}` });
      return emit(store.patientTexts.get(t.id));
    }
    const prepared: PreparedPatientText = { phone: t.phone, smsText: t.smsText, dobVerifier: t.dobVerifier };
    try {
      const own = ctx.identity();
      // The patient's reply is encrypted to the sender's own key and to the archive key.
      const replyKeys = own ? [own.publicKeyBinary, key.key.write()] : undefined;
      const sent = await deliverPatientText(
        {
          iq: (el) => c.iq(el),
          domain,
          archiveKey: key.key,
          gateway: seen.gateway,
          now: () => new Date(clock.now()),
          ...(replyKeys ? { replyKeys } : {}),
        },
        { ...prepared, request: t.id, text: t.body },
      );
      store.patientTexts.taken(t.id, {
        linkId: sent.id,
        patientJid: sent.patient,
        state: sent.state,
        expiresAt: Date.parse(sent.expires),
      });
      audit.append('patient-text', { id: t.id, state: sent.state, patient: sent.patient });
    } catch (err) {
      // A refusal is the gateway's answer: the text ends there, with the reason to show.
      if (!(err instanceof AppError) || err.code === 'NOT_FOUND' || err.code === 'NOT_CONNECTED') throw err;
      const reason = typeof err.details?.refused === 'string' ? err.details.refused : err.code;
      store.patientTexts.fail(t.id, reason);
      audit.append('patient-text', { id: t.id, state: 'failed', reason });
    }
    emit(store.patientTexts.get(t.id));
  }

  function deliverUnsent(): Promise<void> {
    pass = pass.then(async () => {
      const seen: PassLookups = {};
      for (const t of store.patientTexts.unsent()) {
        try {
          await deliver(t, seen);
        } catch (err) {
          // Not the gateway's refusal (the connection went, no gateway yet): tried again at the next connection.
          logger.warn('patient text not handed over yet', { id: t.id, error: errorName(err) });
          return;
        }
      }
    });
    return pass;
  }

  const inbound = createPatientGatewayInbound(ctx, emit);
  const segments: PatientSegments = createPatientSegments(ctx, {
    requireArchive: () => void archiveAccount(),
    flush: deliverUnsent,
  });

  return {
    async send(draft) {
      archiveAccount();
      const prepared = await preparePatientText(draft);
      const t = store.patientTexts.insert({
        id: randomUUID(),
        patientName: draft.patientName.trim(),
        phone: prepared.phone,
        dobVerifier: prepared.dobVerifier,
        body: draft.text,
        smsText: prepared.smsText,
      });
      audit.append('patient-text', { id: t.id, state: 'sending' });
      emit(t);
      await deliverUnsent();
      return shown(store.patientTexts.get(t.id) ?? t);
    },
    list: () => store.patientTexts.list(LIST_LIMIT).map(shown),
    onStanza: (el) => inbound.onStanza(el),
    connected() {
      // deliverUnsent never rejects (each failure is logged and left for the next connection).
      void deliverUnsent();
    },
    lists: createPatientList({ store, audit, clock }),
    segments,
  };
}
