/**
 * This profile's account key (XEP-0373 §4–§5, PROTOCOL.md "Keys"): one OpenPGP key per account,
 * kept in the encrypted cache. A first run generates it for a fresh account, restores it from the
 * account's secret-key backup on another workstation, or — only with consent — replaces it; each
 * key is published with an encrypted backup whose code stays in the cache. messaging.ts composes
 * this into a session.
 */
import { AppError } from '../../common/result';
import type { AuditLog } from '../audit';
import {
  BackupCodeError,
  decryptSecretKeyBackup,
  encryptSecretKeyBackup,
  formatBackupCode,
  generateIdentity,
  loadIdentity,
  newBackupCode,
  type Identity,
} from '../crypto';
import { systemClock, type Clock } from '../clock';
import type { Store } from '../store';
import type { XmppConnection } from './transport/connection';
import { fetchOwnAnnouncedKey, fetchSecretKeyBackup, publishPublicKey, publishSecretKeyBackup } from './pep-keys';
import type { StartOptions } from './types';

export const IDENTITY_SETTING = 'identity';
const PUBLISHED_SETTING = 'xmpp:publishedFingerprint';
/** XEP-0373 §5: the code of the published secret-key backup, and which key it holds. */
const KEY_BACKUP_SETTING = 'xmpp:keyBackup';

interface StoredIdentity {
  armoredSecretKey: string;
  fingerprint: string;
}

export interface StoredKeyBackup {
  code: string;
  fingerprint: string;
}

export interface AccountKey {
  /** The loaded key, or null before ensure()/settle(). */
  current(): Identity | null;
  fingerprint(): string | null;
  /** The stored key; generated (and audited) when the profile has none. */
  ensure(): Promise<Identity>;
  /**
   * First run on a workstation: the stored key; else, when the account already announces one,
   * its backup opened with o.keyBackupCode (KEY_BACKUP_REQUIRED / KEY_BACKUP_CODE_WRONG) or a new
   * key with o.replaceAccountKey (ACCOUNT_KEY_EXISTS without it); else a new key.
   */
  settle(c: XmppConnection, o: StartOptions): Promise<Identity>;
  /** Publishes the public key (XEP-0373 §4.1) if not yet published; returns whether it did. */
  publish(c: XmppConnection, id: Identity, now: Date): Promise<boolean>;
  /** Publishes an encrypted backup of the key once per key (XEP-0373 §5). */
  publishBackup(c: XmppConnection, id: Identity): Promise<void>;
  backup(): StoredKeyBackup | null;
}

export function createAccountKey(d: {
  store: Store;
  audit: AuditLog;
  ownJid: string;
  /** The network's clock (MessagingContext.net): the waits between tries of a refused publish. */
  net?: Clock;
}): AccountKey {
  const { store, audit, ownJid } = d;
  // A clustered server may refuse a publish for a moment (pep-keys.ts isTransientRefusal).
  const retry = { clock: d.net ?? systemClock };
  let identity: Identity | null = null;

  async function ensure(): Promise<Identity> {
    if (identity) return identity;
    let stored = store.getSetting<StoredIdentity>(IDENTITY_SETTING);
    if (!stored) {
      const g = await generateIdentity(ownJid);
      stored = { armoredSecretKey: g.armoredSecretKey, fingerprint: g.fingerprint };
      store.setSetting(IDENTITY_SETTING, stored);
      audit.append('key-generated', { jid: ownJid, fingerprint: g.fingerprint });
    }
    identity = await loadIdentity(stored.armoredSecretKey);
    return identity;
  }

  /** The account's key from its backup; null when the backup holds an older key than the announced one. */
  async function restore(backup: string, code: string, announcedFingerprint: string): Promise<Identity | null> {
    let restored: Identity;
    try {
      restored = await decryptSecretKeyBackup(backup, code, ownJid);
    } catch (err) {
      if (err instanceof BackupCodeError)
        throw new AppError(
          'KEY_BACKUP_CODE_WRONG',
          'That backup code does not open this account’s key backup. Check the code and try again.',
        );
      throw new AppError('INTERNAL', 'The key backup on the server is not usable. Ask IT for help.');
    }
    if (restored.fingerprint !== announcedFingerprint) return null;
    store.setSetting(IDENTITY_SETTING, {
      armoredSecretKey: restored.armoredSecretKey,
      fingerprint: restored.fingerprint,
    } satisfies StoredIdentity);
    store.setSetting(PUBLISHED_SETTING, restored.fingerprint);
    store.setSetting(KEY_BACKUP_SETTING, {
      code: formatBackupCode(code),
      fingerprint: restored.fingerprint,
    } satisfies StoredKeyBackup);
    audit.append('key-restored', { jid: ownJid, fingerprint: restored.fingerprint });
    identity = restored;
    return restored;
  }

  return {
    current: () => identity,
    fingerprint: () => identity?.fingerprint ?? store.getSetting<StoredIdentity>(IDENTITY_SETTING)?.fingerprint ?? null,
    ensure,
    async settle(c, o) {
      if (identity || store.getSetting<StoredIdentity>(IDENTITY_SETTING)) return ensure();
      const announced = await fetchOwnAnnouncedKey(c, ownJid);
      if (!announced) return ensure();
      const backup = await fetchSecretKeyBackup(c, ownJid);
      // With a backup, the code restores the key; starting over instead is a choice made without a code.
      if (backup && !(o.replaceAccountKey && !o.keyBackupCode)) {
        if (!o.keyBackupCode) {
          throw new AppError(
            'KEY_BACKUP_REQUIRED',
            'This account already has an encryption key on another workstation. Enter its backup code (on that workstation: Settings, Key backup) to use the same key here.',
          );
        }
        const restored = await restore(backup, o.keyBackupCode, announced.fingerprint);
        if (restored) return restored;
      }
      // No usable backup, or the person chose to start over (e.g. the code is lost): only with consent.
      if (!o.replaceAccountKey) {
        throw new AppError(
          'ACCOUNT_KEY_EXISTS',
          'This account already has an encryption key, and there is no backup of it on the server. Using this workstation replaces it: colleagues must accept the new key, and other workstations of this account can no longer read new messages.',
          { fingerprint: announced.fingerprint },
        );
      }
      const fresh = await ensure();
      audit.append('key-replaced', { jid: ownJid, previous: announced.fingerprint, fingerprint: fresh.fingerprint });
      return fresh;
    },
    async publish(c, id, now) {
      if (store.getSetting<string>(PUBLISHED_SETTING) === id.fingerprint) return false;
      await publishPublicKey(c, id.fingerprint, id.publicKeyBinary, now, retry);
      store.setSetting(PUBLISHED_SETTING, id.fingerprint);
      audit.append('key-published', { jid: ownJid, fingerprint: id.fingerprint });
      return true;
    },
    async publishBackup(c, id) {
      if (store.getSetting<StoredKeyBackup>(KEY_BACKUP_SETTING)?.fingerprint === id.fingerprint) return;
      const code = newBackupCode();
      await publishSecretKeyBackup(c, await encryptSecretKeyBackup(id, code), retry);
      store.setSetting(KEY_BACKUP_SETTING, { code, fingerprint: id.fingerprint } satisfies StoredKeyBackup);
      audit.append('key-backup-published', { jid: ownJid, fingerprint: id.fingerprint });
    },
    backup: () => store.getSetting<StoredKeyBackup>(KEY_BACKUP_SETTING) ?? null,
  };
}
