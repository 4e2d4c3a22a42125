import type { DomainHandlers, HandlerContext } from './context';

export function appHandlers(
  ctx: HandlerContext,
): DomainHandlers<'app:info' | 'app:activity' | 'app:connection' | 'app:updateStatus'> {
  return {
    'app:info': () => ({ ...ctx.app }),
    'app:activity': () => {
      ctx.session.reportActivity();
      return null;
    },
    'app:connection': () => ctx.session.connection(),
    'app:updateStatus': () => ctx.updates?.get() ?? { state: 'unknown', version: null },
  };
}
