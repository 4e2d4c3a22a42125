import type { DomainHandlers, HandlerContext } from './context';

/** User settings within policy: tighten only (settings:update answers FORBIDDEN otherwise). */
export function settingsHandlers(ctx: HandlerContext): DomainHandlers<'settings:get' | 'settings:update'> {
  const { session, policy } = ctx;
  return {
    'settings:get': () => ({
      ...session.settings(),
      limits: {
        maxLockTimeoutMinutes: policy.policy.lockTimeoutMaxMinutes,
        maxNotificationPreview: policy.policy.notificationPreview,
        urgentBypassesDnd: policy.policy.urgentBypassesDnd,
      },
    }),
    'settings:update': (change) => {
      session.updateSettings(change);
      return null;
    },
  };
}
