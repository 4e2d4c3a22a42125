/**
 * First sign-in on this PC: a new profile (vault), its services opened with the account the user
 * typed, and the first XMPP connection (key publication or restore). Split out of session.ts
 * (issue 11) because it is the one operation that must undo itself: a half-made profile (wrong
 * XMPP password, no TLS, server unreachable) is removed, not left behind.
 */
import { createHash } from 'node:crypto';
import type { Logger } from '../log';
import type { Policy } from '../policy/schema';
import { zeroKeys } from '../vault/keys';
import type { Vault } from '../vault/vault';
import { closeServices, type OpenServices, type ServiceWiring } from './open-services';
import { rememberPolicy } from './policy-snapshot';
import type { CreateProfileInput } from './types';

export interface FirstSignInDeps {
  vault: Vault;
  wiring: ServiceWiring;
  logger: Logger;
  /** Where the policy came from, recorded in the audit log as acknowledged. */
  policySource: string | null;
  /** The policy the person signs in under: the SHA-256 of its messaging text goes to the audit log (issue 15 item 5). */
  policy: Policy;
}

/** Resolves with the open, started profile (not yet the session's); throws after removing what it made. */
export async function firstSignIn(
  { vault, wiring, logger, policySource, policy }: FirstSignInDeps,
  input: CreateProfileInput,
): Promise<OpenServices> {
  // The name colleagues know comes from the clinic directory (issue 12 §5); until it is read, the
  // one typed (asked for only when the directory has none) or the user name.
  const opened = await vault.createProfile({
    jid: input.jid,
    displayName: input.displayName ?? input.jid.split('@')[0]!,
    passphrase: input.passphrase,
  });
  const id = opened.profile.id;
  let open: OpenServices | null = null;
  try {
    open = wiring.open(
      opened,
      { jid: opened.profile.jid, password: input.xmppPassword, server: input.server },
      input.passphrase,
    );
    open.active.audit.append('sign-in', { profileId: id, jid: opened.profile.jid, firstRun: true });
    // The hash proves which wording was accepted, after IT has changed the text since.
    const policySha256 = createHash('sha256').update(policy.messagingPolicyText, 'utf8').digest('hex');
    open.active.audit.append('policy-acknowledged', { profileId: id, source: policySource, policySha256 });
    rememberPolicy(open.active.store, policy);
    await open.active.messaging.start({
      firstRun: true,
      keyBackupCode: input.keyBackupCode,
      replaceAccountKey: input.replaceAccountKey,
      nameRequired: input.displayName === undefined,
    });
    const name = open.active.messaging.directoryName();
    if (name !== null && name !== open.active.displayName) {
      await vault.renameProfile(id, name);
      open.active.displayName = name;
    }
    return open;
  } catch (err) {
    if (open) await closeServices(open, logger);
    else zeroKeys(opened.keys);
    await vault.removeProfile(id, 'first-sign-in-failed');
    throw err;
  }
}
