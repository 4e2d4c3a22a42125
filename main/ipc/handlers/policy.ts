import { remoteWipeEnabled } from '../../policy/schema';
import type { DomainHandlers, HandlerContext } from './context';

/** What the renderer may know of the managed policy: the text to acknowledge and the switches it shows. */
export function policyHandlers(ctx: HandlerContext): DomainHandlers<'policy:get'> {
  return {
    'policy:get': () => ({
      source: ctx.policy.source,
      error: ctx.policy.error,
      messagingPolicyText: ctx.policy.policy.messagingPolicyText,
      exportAllowed: ctx.policy.policy.exportAllowed,
      screenshotsAllowed: ctx.policy.policy.screenshotsAllowed,
      staffMayCreateRooms: ctx.policy.policy.staffMayCreateRooms,
      patientPlainSmsAllowed: ctx.policy.policy.patientPlainSmsAllowed,
      passphraseMinLength: ctx.policy.policy.passphraseMinLength,
      server: ctx.policy.policy.server,
      retentionDays: ctx.policy.policy.retentionDays,
      managedKeys: ctx.policy.managedKeys,
      remoteWipe: remoteWipeEnabled(ctx.policy.policy),
    }),
  };
}
