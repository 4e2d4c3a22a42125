/** What the decrypt pool (main thread) and its workers exchange (main/worker/protocol.ts carries it). Plain data only. */
import type { ReadFileSharing } from './file-sharing';
import type { OxLimits } from './signcrypt';

export interface WorkerInit {
  armoredSecretKey: string;
  limits: OxLimits;
}

export interface WorkerJob {
  senderJid: string;
  senderFingerprint: string;
  /** Sent only the first time this worker sees the key; it caches the parsed key. */
  senderBinary?: Uint8Array;
  base64: string;
  ourJid: string;
  delayStamp?: number;
  now: number;
}

export interface OpenedWire {
  body: string;
  /** XEP-0461 reference (origin-id and author), null when none. */
  replyTo: { to: string; id: string } | null;
  /** Marked Urgent inside the signed payload (issue 12 §7). */
  urgent: boolean;
  /** An edit or deletion (XEP-0308 / XEP-0424) of the message with this origin-id, null when none. */
  change: { kind: 'edit' | 'retract'; id: string } | null;
  /** The attachment (XEP-0447/0448) or why it was refused; plain data (Uint8Arrays clone). */
  attachment: ReadFileSharing | null;
  /** @mentions (XEP-0372 references, issue 18): member JID and code-point range over `body`. */
  mentions: { jid: string; begin: number; end: number }[];
  timestamp: number;
  to: string[];
  senderFingerprint: string;
  contentDigest: string;
}

export type DecryptOps = { open: { args: WorkerJob; result: OpenedWire } };

/** The error code of a job the worker could not run (not the message's fault); any other code is a RejectReason. */
export const INTERNAL = 'internal';
