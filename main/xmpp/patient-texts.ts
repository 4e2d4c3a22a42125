/**
 * Texts to patients inside a signed-in session (issue 17 item 2): stored first (the row's id is the
 * gateway request id), then encrypted and handed to the patient gateway over the session's
 * connection, up to DELIVER_AT_ONCE at once (a segment's texts, issue 17 item 5); a text counts as
 * handed over only on the gateway's answer. Offline, a text waits ('sending') and goes at the next
 * connection — the gateway answers a repeated request id with its first answer, so nobody is
 * texted twice. The gateway's
 * <state/> messages move each text forward. Every step is audited with ids and states only.
 * The pieces: main/patients/ (SMS text check, DOB verifier, delivery), patient-gateway.ts (stanzas).
 */
import { randomUUID } from 'node:crypto';
import type { XmlElement } from '@xmpp/client';
import type { PatientText } from '../../common/contract/domain';
import type { ChannelParsedInput } from '../../common/ipc-contract';
import { AppError } from '../../common/result';
import { errorName } from '../log';
import type { Policy } from '../policy/schema';
import { createPatientList, type PatientList } from '../patients/patient-list';
import { inWindow } from '../patients/segment-schedule';
import { deliverPatientText, preparePatientText, type PreparedPatientText } from '../patients/send-text';
import { patientConversationId } from '../store/repos/patient-conversations';
import type { StoredPatientText } from '../store/repos/patient-texts';
import type { MessagingContext } from './context';
import { createPatientConversations, type PatientConversations, type SendPrepared } from './patient-conversations';
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
  /** Patient conversations in the inbox (a number's texts and replies; patient-conversations.ts). */
  readonly conversations: Pick<PatientConversations, 'thread' | 'markRead' | 'send'>;
}

const LIST_LIMIT = 200;
/**
 * Texts in flight to the gateway at once: each waits for the gateway's answer (its SMS provider's),
 * so a few at once keep it busy; a small window keeps a lost connection's retries small.
 */
const DELIVER_AT_ONCE = 8;

/** What one delivery pass looks up once, before its first text: the archive key and the gateway's address. */
interface PassLookups {
  key: Awaited<ReturnType<typeof fetchPinnedKey>>;
  gateway: string | null;
}
type Conn = NonNullable<ReturnType<MessagingContext['conn']>>;

/** A pass's lookups. Looked up once per pass (a segment is one pass): the key is checked against the policy each time. */
async function lookUp(
  c: Conn,
  archive: () => { jid: string; fingerprint: string },
  domain: string,
): Promise<PassLookups> {
  const { jid, fingerprint } = archive();
  const key = await fetchPinnedKey(c, jid, fingerprint);
  return { key, gateway: await findPatientGateway((el) => c.iq(el), domain) };
}

const shown = ({ dobVerifier: _v, linkId: _l, ...t }: StoredPatientText): PatientText => t;

/** The clinic's archive account and its key, which every patient text is also encrypted to. */
function archiveAccountOf(policy: Pick<Policy, 'complianceAccount' | 'complianceKeyFingerprint'>): {
  jid: string;
  fingerprint: string;
} {
  if (!policy.complianceAccount || !policy.complianceKeyFingerprint)
    throw new AppError(
      'FORBIDDEN',
      "Texting patients needs the clinic's archive key: IT sets complianceAccount and complianceKeyFingerprint in the policy.",
    );
  return { jid: policy.complianceAccount, fingerprint: policy.complianceKeyFingerprint };
}

export function createPatientTexts(ctx: MessagingContext): PatientTexts {
  const { store, audit, events, logger, clock, policy } = ctx.opts;
  const domain = ctx.ownJid.slice(ctx.ownJid.indexOf('@') + 1);
  /** One delivery pass at a time: a text is never handed over twice at once. */
  let pass: Promise<void> = Promise.resolve();

  const emit = (t: StoredPatientText | undefined) => {
    if (!t) return;
    events.emit('patient:updated', shown(t));
    ctx.emitConversation(patientConversationId(t.phone)); // its patient conversation's inbox row
    segments.textChanged(t.id);
  };

  const archiveAccount = () => archiveAccountOf(policy);

  /** Hands one stored text to the gateway; leaves it 'sending' when the connection is the problem. */
  async function deliver(t: StoredPatientText, { key, gateway }: PassLookups, c: Conn): Promise<void> {
    if (!c.isReady()) return;
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
          gateway,
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
      const c = ctx.conn();
      const unsent = store.patientTexts.unsent();
      if (!c?.isReady() || unsent.length === 0) return;
      const seen = await lookUp(c, archiveAccount, domain).catch((err: unknown) => {
        logger.warn('patient texts not handed over yet', { error: errorName(err) });
      });
      if (!seen) return;
      // Each stored row once per pass, at most DELIVER_AT_ONCE in flight; passes never overlap.
      await inWindow(unsent, DELIVER_AT_ONCE, (t) =>
        deliver(t, seen, c).then(
          () => 'next' as const,
          (err: unknown) => {
            // Not the gateway's refusal (the connection went, no gateway yet): tried again at the next connection.
            logger.warn('patient text not handed over yet', { id: t.id, error: errorName(err) });
            return 'stop' as const;
          },
        ),
      );
    });
    return pass;
  }

  /** A text already checked (here, or a new text in a patient conversation): stored, then handed over. */
  const sendPrepared: SendPrepared = async ({ patientName, prepared, body }) => {
    const t = store.patientTexts.insert({ id: randomUUID(), patientName, ...prepared, body });
    audit.append('patient-text', { id: t.id, state: 'sending' });
    emit(t);
    await deliverUnsent();
    return shown(store.patientTexts.get(t.id) ?? t);
  };
  const conversations = createPatientConversations(ctx, { sendPrepared, requireArchive: () => void archiveAccount() });
  const inbound = createPatientGatewayInbound(ctx, emit, (t, body) => conversations.replied(t, body));
  const segments: PatientSegments = createPatientSegments(ctx, {
    requireArchive: () => void archiveAccount(),
    flush: deliverUnsent,
  });

  return {
    async send(draft) {
      archiveAccount();
      const prepared = await preparePatientText(draft);
      return sendPrepared({ patientName: draft.patientName.trim(), prepared, body: draft.text });
    },
    list: () => store.patientTexts.list(LIST_LIMIT).map(shown),
    onStanza: (el) => inbound.onStanza(el),
    connected() {
      // A segment's recipients not yet prepared (a crash in the middle) first, then every text
      // still 'sending'. Neither rejects: each failure is logged and left for the next connection.
      void segments.resume();
    },
    lists: createPatientList({ store, audit, clock }),
    segments,
    conversations,
  };
}
