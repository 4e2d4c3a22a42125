/**
 * The audit log's events in plain words (issue 12 §9): "Opened a conversation with Dr. Okafor",
 * shown beside the exact record. Built only from the entry's type and its detail — ids, JIDs,
 * counts and reasons, never message text (main writes none there) — and a name for a JID.
 */
import type { AuditEntry, AuditEventType } from '../../../common/ipc-contract';
import { ROOM_PROBLEM_TEXTS } from './errors';

type Detail = AuditEntry['detail'];
/** A colleague's name for a JID (the directory's), or the JID itself. */
export type NameOf = (jid: string) => string;

const str = (d: Detail, k: string): string | null => (typeof d[k] === 'string' ? d[k] : null);
const num = (d: Detail, k: string): number | null => (typeof d[k] === 'number' ? d[k] : null);
const plural = (n: number, one: string, many: string): string => `${n.toLocaleString()} ${n === 1 ? one : many}`;

const lockWords: Partial<Record<string, string>> = {
  manual: 'Locked by you',
  idle: 'Locked after a time without use',
  'os-lock': 'Locked because the computer was locked',
  suspend: 'Locked because the computer went to sleep',
  'switch-user': 'Locked to switch user',
  startup: 'Locked when Clinic Messenger started',
  quit: 'Locked when Clinic Messenger closed',
  'remote-wipe': 'Locked to erase this profile (IT’s command)',
};

/** Why a remote-wipe command was ignored (main/session/remote-wipe.ts), in words. */
const wipeWords: Partial<Record<string, string>> = {
  'not-enabled': 'remote wipe is not set up on this PC',
  'wrong-sender': 'not sent by the clinic’s admin account',
  malformed: 'not a valid command',
  forged: 'its signature is not valid',
  'unpinned-signer': 'signed by a key the clinic’s policy does not trust',
  'not-yet-valid': 'dated in the future',
  expired: 'expired',
  'wrong-account': 'meant for another person',
  'wrong-device': 'meant for another computer',
  replayed: 'already carried out before',
  'predates-profile': 'issued before this profile was created',
};

/** What an unsafe room no longer keeps (main/xmpp/room-config.ts), in words. */
const roomProblemWords: Partial<Record<string, string>> = ROOM_PROBLEM_TEXTS;

/** A name for the JID in `key`, or `fallback` when the entry has none. */
function who(d: Detail, key: string, nameOf: NameOf, fallback = 'a colleague'): string {
  const jid = str(d, key);
  return jid ? nameOf(jid) : fallback;
}

const words: Record<AuditEventType, (d: Detail, nameOf: NameOf) => string> = {
  'sign-in': (d) => (d.firstRun ? 'Signed in on this PC for the first time' : 'Signed in'),
  unlock: () => 'Unlocked Clinic Messenger',
  'unlock-failed': (d) => {
    const n = num(d, 'attempts');
    return n
      ? `${plural(n, 'wrong passphrase was', 'wrong passphrases were')} typed before this unlock`
      : 'A wrong passphrase was typed';
  },
  'audit-rollback': () => 'This PC’s record was older than expected (an earlier copy may have been put back)',
  lock: (d) => lockWords[str(d, 'reason') ?? ''] ?? 'Locked',
  'profile-wiped': () => 'This profile was erased from this PC',
  'policy-applied': () => 'The clinic’s policy was applied',
  'policy-acknowledged': () => 'Accepted the clinic’s messaging policy',
  'passphrase-changed': () => 'Changed the passphrase',
  'message-sent': (d, n) =>
    d.device === 'other'
      ? `Sent a message to ${who(d, 'to', n)} from another workstation`
      : `Sent a message to ${who(d, 'to', n)}`,
  'message-received': (d, n) => `Received a message from ${who(d, 'from', n)}`,
  'message-rejected': (d, n) =>
    d.direction === 'out'
      ? `Refused a copy of a message to ${who(d, 'peer', n)} that could not be verified`
      : `Refused a message from ${who(d, 'peer', n)} that could not be verified`,
  'message-edited': (d, n) => changeWords('Edited', d, n),
  'message-deleted': (d, n) => changeWords('Deleted', d, n),
  'message-change-rejected': (d, n) =>
    `Refused ${d.change === 'retract' ? 'a deletion' : 'an edit'} of a message ${
      d.reason === 'unknown-message' ? 'that is not on this PC' : 'by someone other than its sender'
    } (from ${who(d, 'peer', n)})`,
  'message-opened': (d, n) => `Opened a conversation with ${who(d, 'peer', n)}`,
  'message-search': (d) => `Searched messages (${plural(num(d, 'count') ?? 0, 'result', 'results')} shown)`,
  'message-previewed': (d) =>
    `Showed message previews in the inbox (${plural(num(d, 'count') ?? 0, 'message', 'messages')})`,
  'key-generated': () => 'Created your encryption key',
  'key-published': () => 'Published your encryption key for colleagues',
  'key-pinned': (d, n) => `Saved ${who(d, 'jid', n)}’s encryption key on first use`,
  'key-changed': (d, n) => `${who(d, 'jid', n, 'A colleague')}’s encryption key changed`,
  'key-change-acknowledged': (d, n) => `Accepted ${who(d, 'jid', n)}’s new encryption key`,
  'key-verified': (d, n) => `Verified ${who(d, 'jid', n)}’s encryption key`,
  'key-unavailable': (d, n) => `Could not get ${who(d, 'jid', n)}’s encryption key`,
  'key-backup-published': () => 'Saved an encrypted backup of your key on the clinic server',
  'key-backup-shown': () => 'Showed your key backup code',
  'key-restored': () => 'Restored your encryption key from its backup',
  'key-replaced': () => 'Replaced your account’s encryption key with a new one',
  'attachment-opened': (d) =>
    d.view === 'viewer' ? 'Opened an attachment in the viewer' : 'Showed an attachment’s preview',
  export: (d) =>
    d.kind === 'attachment'
      ? d.to === 'app'
        ? d.allowed === false
          ? 'Tried to open an attachment in another app (not allowed)'
          : 'Opened an attachment in another app (a copy on this PC until the session locks)'
        : d.allowed === false
          ? 'Tried to save an attachment (not allowed)'
          : 'Saved an attachment to this PC'
      : d.allowed === false
        ? 'Tried to export the audit report (not allowed)'
        : 'Exported the audit report',
  'wipe-command': (d) =>
    d.outcome === 'accepted'
      ? 'IT’s erase command for this profile was accepted: the profile is being erased'
      : `Ignored an erase command (${wipeWords[str(d, 'reason') ?? ''] ?? str(d, 'reason') ?? 'not valid'})`,
  'admin-check': (d) =>
    d.reached === true
      ? 'Checked the clinic server for IT commands at unlock'
      : 'Could not reach the clinic server to check for IT commands at unlock',
  'lease-enabled': () => 'Offline access now needs a lease from the clinic server (clinic policy)',
  'lease-renewed': (d) =>
    typeof d.expiresAt === 'number'
      ? `Offline lease renewed until ${new Date(d.expiresAt).toLocaleString()}`
      : 'Offline lease renewed',
  'lease-revoked': () => 'The clinic server withdrew this profile’s offline lease',
  'retention-purged': (d) =>
    `Removed ${plural(num(d, 'deleted') ?? 0, 'message', 'messages')} older than ${plural(num(d, 'days') ?? 0, 'day', 'days')}`,
  'audit-anchor': (d) =>
    d.result === 'key-mismatch'
      ? 'Did not send this record to the compliance account: its key is not the one the clinic policy names'
      : 'Did not send this record to the compliance account: it has published no key',
  'patient-text': (d) => {
    const state = String(d.state);
    const words: Record<string, string> = {
      sending: 'Text to a patient stored, to go to the patient gateway',
      queued: 'Text to a patient taken by the patient gateway',
      'sms-delivered': 'Text to a patient: the SMS reached the phone',
      opened: 'Text to a patient: opened after the identity check',
      replied: 'Text to a patient: the patient replied',
      expired: 'Text to a patient: the link expired and the gateway deleted it',
      failed: 'Text to a patient not sent',
    };
    const why = typeof d.reason === 'string' ? ` (${d.reason})` : '';
    return `${words[state] ?? 'Text to a patient'}${state === 'failed' ? why : ''}`;
  },
  'room-membership': (d, n) => {
    const room = typeof d.room === 'string' ? d.room : 'a care-team room';
    if (d.change === 'policy') return `Left ${room}: it is no longer members-only and non-anonymous`;
    if (d.change === 'created')
      return `Created ${room} with ${typeof d.members === 'number' ? d.members : 'its'} members`;
    if (d.change === 'create-failed') {
      const step = d.step === 'members' ? 'adding its members' : d.step === 'check' ? 'checking it' : 'setting it up';
      const why = typeof d.reason === 'string' ? ` (${d.reason})` : '';
      const after = d.removed === true ? 'it was removed again' : 'the server may still hold it';
      return `Could not create ${room}: ${step} failed${why}; ${after}`;
    }
    if (d.change === 'create-undone') return `Removed ${room}, which could not be finished earlier`;
    const verb = d.change === 'removed' ? 'removed from' : d.change === 'joined' ? 'joined' : 'added to';
    return `${who(d, 'jid', n, 'A colleague')} ${verb} ${room}`;
  },
  'room-policy': (d) => {
    const room = typeof d.room === 'string' ? d.room : 'a care-team room';
    // A sentence starts with a capital (the room's address may not).
    const label = typeof d.room === 'string' ? `Care-team room ${d.room}` : 'A care-team room';
    if (d.change === 'unsafe') {
      const why = (str(d, 'problems') ?? '')
        .split(',')
        .map((p) => roomProblemWords[p])
        .filter(Boolean);
      return `Stopped sending to ${room} and accepting its messages: ${why.length ? why.join(' and ') : 'it no longer keeps the clinic’s rules'}`;
    }
    if (d.change === 'safe') return `${label} keeps the clinic’s rules again: sending to it resumed`;
    return d.announcement === true
      ? `${label} is an announcement room: only its owners post`
      : `${label} is no longer an announcement room: every member posts`;
  },
};

/** Who changed a message (message-change.ts `by`): the colleague, this PC or another workstation of ours. */
function changeWords(verb: 'Edited' | 'Deleted', d: Detail, n: NameOf): string {
  if (d.by === 'peer') return `${who(d, 'peer', n, 'A colleague')} ${verb.toLowerCase()} a message for everyone`;
  const where = d.by === 'other' ? ' from another workstation' : '';
  return `${verb} a message to ${who(d, 'peer', n)} for everyone${where}`;
}

/** One audit entry as a sentence a person understands. */
export function auditSentence(e: Pick<AuditEntry, 'type' | 'detail'>, nameOf: NameOf): string {
  const f = words[e.type] as ((d: Detail, n: NameOf) => string) | undefined;
  // An event this renderer has no words for yet still says something readable.
  return f ? f(e.detail, nameOf) : e.type.replace(/-/g, ' ');
}
