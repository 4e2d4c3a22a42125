/**
 * Passphrase rules from policy: enforced here, written once in common/passphrase-rules.ts (the
 * first-run form checks the same rules live).
 */
import { passphraseProblem, type PassphraseContext } from '../../common/passphrase-rules';
import { AppError } from '../../common/result';

export { passphraseProblem, type PassphraseContext } from '../../common/passphrase-rules';

export function assertPassphrase(passphrase: string, ctx: PassphraseContext): void {
  const problem = passphraseProblem(passphrase, ctx);
  if (problem) throw new AppError('WEAK_PASSPHRASE', problem, { minLength: ctx.minLength });
}
