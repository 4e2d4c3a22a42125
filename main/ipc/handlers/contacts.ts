/**
 * contacts:* — the directory (shared roster + stored trust + live presence) and the two trust
 * decisions a person makes: "fingerprints match" (verify) and "I acknowledge the new key".
 */
import type { DomainHandlers, HandlerContext } from './context';

export function contactHandlers(
  ctx: HandlerContext,
): DomainHandlers<'contacts:directory' | 'contacts:get' | 'contacts:verify' | 'contacts:acceptKeyChange'> {
  return {
    'contacts:directory': () => ctx.session.active().messaging.directory(),
    'contacts:get': ({ jid }) => ctx.session.active().messaging.contact(jid),
    'contacts:verify': ({ jid, fingerprint }) => ctx.session.active().messaging.verifyContact(jid, fingerprint),
    'contacts:acceptKeyChange': ({ jid, fingerprint }) =>
      ctx.session.active().messaging.acceptKeyChange(jid, fingerprint),
  };
}
