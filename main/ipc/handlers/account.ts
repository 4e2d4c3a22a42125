import type { DomainHandlers, HandlerContext } from './context';

/** Who is signed in, and our own OpenPGP fingerprint (XEP-0373 §4) for comparing with colleagues. */
export function accountHandlers(ctx: HandlerContext): DomainHandlers<'account:me'> {
  return {
    'account:me': () => {
      const { jid, displayName, messaging } = ctx.session.active();
      return { jid, displayName, fingerprint: messaging.ownFingerprint() };
    },
  };
}
