/** audit:* — the report view, chain verification and CSV export (export only when policy allows). */
import { AppError } from '../../../common/result';
import type { DomainHandlers, HandlerContext } from './context';

export function auditHandlers(
  ctx: HandlerContext,
): DomainHandlers<'audit:list' | 'audit:verify' | 'audit:exportCsv' | 'audit:anchoring'> {
  return {
    'audit:list': ({ before, limit, filter }) => ctx.session.active().audit.list(before, limit, filter),
    'audit:verify': () => ctx.session.active().audit.verify(),
    'audit:exportCsv': () => {
      const active = ctx.session.active();
      if (!ctx.policy.policy.exportAllowed) {
        active.audit.append('export', { kind: 'audit-csv', allowed: false });
        throw new AppError('FORBIDDEN', 'Exporting is turned off by your clinic policy.');
      }
      const out = active.audit.exportCsv();
      active.audit.append('export', { kind: 'audit-csv', allowed: true });
      return out;
    },
    'audit:anchoring': () => ({
      ...ctx.session.active().messaging.anchoring(),
      overdueHours: ctx.policy.policy.auditAnchorOverdueHours,
    }),
  };
}
