/** Messages between the decrypt pool (main thread) and its workers. Plain data only. */
import type { OxLimits } from './signcrypt';
import type { RejectReason } from './errors';

export interface WorkerInit {
  armoredSecretKey: string;
  limits: OxLimits;
}

export interface WorkerJob {
  id: number;
  senderJid: string;
  senderFingerprint: string;
  /** Sent only the first time this worker sees the key; it caches the parsed key. */
  senderBinary?: Uint8Array;
  base64: string;
  ourJid: string;
  delayStamp?: number;
  now: number;
}

export type WorkerReply =
  | { id: number; ok: true; body: string; timestamp: number; to: string[]; senderFingerprint: string; contentDigest: string }
  | { id: number; ok: false; reason: RejectReason }
  | { id: number; ok: false; internal: true };
