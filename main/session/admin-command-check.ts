/**
 * Whether THIS workstation acts on a verified admin command (issue 15 item 2). Pure: the caller
 * verifies the signature first (main/crypto/admin-command.ts verifyAdminCommand), then asks
 * here with the unlocked profile's account and id. The device id IS the profile id
 * (main/vault/profiles.ts): one per person per workstation, so `--device` wipes that person's
 * profile on that one PC and no other.
 *
 * Replay: the caller keeps every accepted nonce at least until the command's expiresAt (after
 * that, verifyAdminCommand refuses it as expired) and passes `seen`. The nonce is checked last
 * so a command addressed elsewhere never touches the caller's nonce store.
 */
import type { AdminCommand } from '../crypto/admin-command';

export type AdminCommandDecision =
  { accept: true } | { accept: false; reason: 'wrong-account' | 'wrong-device' | 'replayed' };

export function checkAdminCommand(
  command: AdminCommand,
  here: { account: string; deviceId: string; seen: (nonce: string) => boolean },
): AdminCommandDecision {
  // JIDs compare case-insensitively (RFC 7622 nodeprep/nameprep lower-cases ASCII); a resource
  // never belongs in the account.
  const bare = (jid: string) => jid.trim().split('/')[0]!.toLowerCase();
  if (bare(command.account) !== bare(here.account)) return { accept: false, reason: 'wrong-account' };
  if (command.device !== null && command.device.toLowerCase() !== here.deviceId.toLowerCase())
    return { accept: false, reason: 'wrong-device' };
  if (here.seen(command.nonce)) return { accept: false, reason: 'replayed' };
  return { accept: true };
}
