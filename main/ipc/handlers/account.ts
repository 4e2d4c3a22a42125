import type { DomainHandlers, HandlerContext } from './context';

/** Who is signed in, and our own OpenPGP fingerprint (XEP-0373 §4) for comparing with colleagues. */
export function accountHandlers(ctx: HandlerContext): DomainHandlers<'account:me' | 'account:keyBackup'> {
  return {
    'account:me': () => {
      const { jid, displayName, messaging } = ctx.session.active();
      return { jid, displayName, fingerprint: messaging.ownFingerprint() };
    },
    'account:keyBackup': async ({ passphrase }) => {
      // Whoever stands at an unlocked workstation must not read the code that opens the key.
      await ctx.session.confirmPassphrase(passphrase);
      const { messaging, audit } = ctx.session.active();
      const backup = messaging.keyBackup();
      // Who saw the code that opens the account key, and when (never the code itself).
      if (backup) audit.append('key-backup-shown', { fingerprint: backup.fingerprint });
      return backup;
    },
  };
}
