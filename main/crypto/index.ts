/**
 * OpenPGP for XMPP (XEP-0373 / XEP-0374) as pure functions: keys, <signcrypt/>, receive
 * checks and a decrypt pool for catch-up. No XMPP I/O here; main/xmpp/ calls these.
 */
export {
  generateIdentity,
  loadIdentity,
  parseContactKey,
  identityAsContact,
  normalizeBareJid,
  normalizeFingerprint,
  type Identity,
  type ContactKey,
  type GeneratedIdentity,
} from './keys';
export {
  signcrypt,
  signcryptWithDigest,
  openSigncrypt,
  defaultOxLimits,
  OX_NS,
  type SigncryptInput,
  type OpenSigncryptInput,
  type OpenedSigncrypt,
  type OxLimits,
  type ReplyRef,
} from './signcrypt';
export {
  SigncryptRejectedError,
  KeyRejectedError,
  rejectReasons,
  keyRejectReasons,
  isRejectReason,
  type RejectReason,
  type KeyRejectReason,
} from './errors';
export { formatXmppDateTime, parseXmppDateTime } from './time';
export { CORRECT_NS, RETRACT_NS, type MessageChange } from './message-change';
export { safetyNumber, type KeyOwner } from './safety-number';
export {
  newBackupCode,
  normalizeBackupCode,
  formatBackupCode,
  encryptSecretKeyBackup,
  decryptSecretKeyBackup,
  BackupCodeError,
} from './key-backup';
export {
  createDecryptPool,
  DecryptPoolError,
  type DecryptPool,
  type DecryptPoolOptions,
  type DecryptPoolMetrics,
  type DecryptJob,
  type DecryptOutcome,
  resolveDecryptWorker,
} from './pool';
