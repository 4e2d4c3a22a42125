/**
 * contacts:* — the directory (shared roster + stored trust + live presence) and the two trust
 * decisions a person makes: "the numbers match" (verify) and "I acknowledge the new key".
 */
import { AppError } from '../../../common/result';
import { safetyNumber } from '../../crypto';
import type { DomainHandlers, HandlerContext } from './context';

export function contactHandlers(
  ctx: HandlerContext,
): DomainHandlers<
  'contacts:directory' | 'contacts:get' | 'contacts:verify' | 'contacts:acceptKeyChange' | 'contacts:safetyNumber'
> {
  // 10,400 SHA-512 rounds (~50 ms) per number: computed once per pair of keys, not per screen visit.
  const numbers = new Map<string, string>();
  return {
    'contacts:directory': () => ctx.session.active().messaging.directory(),
    'contacts:get': ({ jid }) => ctx.session.active().messaging.contact(jid),
    'contacts:verify': ({ jid, fingerprint }) => ctx.session.active().messaging.verifyContact(jid, fingerprint),
    'contacts:acceptKeyChange': ({ jid, fingerprint }) =>
      ctx.session.active().messaging.acceptKeyChange(jid, fingerprint),
    'contacts:safetyNumber': ({ jid, fingerprint }) => {
      const { jid: ownJid, messaging } = ctx.session.active();
      const c = messaging.contact(jid);
      // Only for a key this contact really has here: the number stands for what we encrypt to.
      if (fingerprint !== c.fingerprint && fingerprint !== c.pendingFingerprint)
        throw new AppError('NOT_FOUND', 'That is not a key of this colleague.');
      const own = messaging.ownFingerprint();
      if (!own) throw new AppError('NOT_FOUND', 'Your own key is not ready yet.');
      const key = `${ownJid} ${own} ${c.jid} ${fingerprint}`;
      let number = numbers.get(key);
      if (!number) {
        number = safetyNumber({ jid: ownJid, fingerprint: own }, { jid: c.jid, fingerprint });
        if (numbers.size >= 500) numbers.clear();
        numbers.set(key, number);
      }
      return { number };
    },
  };
}
