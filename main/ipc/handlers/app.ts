import type { DomainHandlers, HandlerContext } from './context';

export function appHandlers(ctx: HandlerContext): DomainHandlers<'app:info' | 'app:activity' | 'app:connection'> {
  return {
    'app:info': () => ({ ...ctx.app }),
    'app:activity': () => {
      ctx.session.reportActivity();
      return null;
    },
    'app:connection': () => ctx.session.connection(),
  };
}
