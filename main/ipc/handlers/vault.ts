import type { DomainHandlers, HandlerContext } from './context';

type VaultChannels =
  | 'vault:status'
  | 'vault:listProfiles'
  | 'vault:createProfile'
  | 'vault:unlock'
  | 'vault:lock'
  | 'vault:switchUser'
  | 'vault:removeProfile'
  | 'vault:changePassphrase';

/** Profiles, unlock and lock (ARCHITECTURE.md §4). All but changePassphrase answer while locked. */
export function vaultHandlers(ctx: HandlerContext): DomainHandlers<VaultChannels> {
  const { session } = ctx;
  return {
    'vault:status': () => session.status(),
    'vault:listProfiles': () => session.listProfiles(),
    'vault:createProfile': (input) => session.createProfile(input),
    'vault:unlock': ({ profileId, passphrase }) => session.unlock(profileId, passphrase),
    'vault:lock': async ({ reason }) => {
      await session.lock(reason);
      return null;
    },
    'vault:switchUser': async () => {
      await session.lock('switch-user');
      return null;
    },
    'vault:removeProfile': async ({ profileId, passphrase }) => {
      await session.removeProfile(profileId, passphrase);
      return null;
    },
    'vault:changePassphrase': async ({ current, next }) => {
      await session.changePassphrase(current, next);
      return null;
    },
  };
}
