// The audit filter bar's values turned into audit:list's filter (issue 15 item 5): local days with
// both ends inclusive (also across a daylight-saving change), types, a person; what the contract
// would refuse is caught at the bar with a sentence.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channels } from '../../common/ipc-contract';
import { auditEventType } from '../../common/contract/domain';
import {
  auditTypeNames,
  auditTypesByName,
  emptyAuditFilterForm,
  toAuditFilter,
} from '../../renderer/src/lib/audit-filter';

// A zone with daylight saving, so a 23-hour day is one of the cases (Node reads TZ on each use).
const savedTz = process.env.TZ;
beforeAll(() => {
  process.env.TZ = 'America/New_York';
});
afterAll(() => {
  process.env.TZ = savedTz;
});

const form = (over: Partial<ReturnType<typeof emptyAuditFilterForm>>) => ({ ...emptyAuditFilterForm(), ...over });

describe('audit filter form', () => {
  it('an empty form is no filter: the whole log as before', () => {
    expect(toAuditFilter(emptyAuditFilterForm())).toEqual({ ok: true });
  });

  it('turns local days into inclusive bounds, from midnight to the last millisecond of the end day', () => {
    const r = toAuditFilter(form({ from: '2026-06-10', to: '2026-06-10' }));
    expect(r).toEqual({
      ok: true,
      filter: { from: Date.UTC(2026, 5, 10, 4), to: Date.UTC(2026, 5, 11, 4) - 1 },
    });
  });

  it('keeps a whole 23-hour day when the clocks go forward', () => {
    // 2026-03-08 in New York: midnight is 05:00 UTC (EST), the next midnight 04:00 UTC (EDT).
    const r = toAuditFilter(form({ from: '2026-03-08', to: '2026-03-08' }));
    expect(r).toEqual({ ok: true, filter: { from: Date.UTC(2026, 2, 8, 5), to: Date.UTC(2026, 2, 9, 4) - 1 } });
  });

  it('passes types and a person (lower-cased, trimmed), and what it makes passes the contract', () => {
    const r = toAuditFilter(form({ types: ['lock', 'export'], person: '  Dr.Okafor@Clinic.Test ' }));
    expect(r).toEqual({ ok: true, filter: { types: ['lock', 'export'], person: 'dr.okafor@clinic.test' } });
    if (!r.ok) throw new Error('unreachable');
    expect(channels['audit:list'].input.safeParse({ before: null, filter: r.filter }).success).toBe(true);
  });

  it('says what is wrong instead of sending a filter the contract would refuse', () => {
    expect(toAuditFilter(form({ from: '2026-06-11', to: '2026-06-10' }))).toEqual({
      ok: false,
      error: 'The end date is before the start date.',
    });
    expect(toAuditFilter(form({ from: '2026-02-30' }))).toEqual({ ok: false, error: 'The start date is not a date.' });
    expect(toAuditFilter(form({ to: 'yesterday' }))).toEqual({ ok: false, error: 'The end date is not a date.' });
    for (const person of ['bob', 'bob@clinic.test/desk', 'bob smith@clinic.test'])
      expect(toAuditFilter(form({ person }))).toEqual({
        ok: false,
        error: 'Type an address such as alice@clinic.example.',
      });
  });

  it('names every event type the contract defines, each once', () => {
    expect([...auditTypesByName].sort()).toEqual([...auditEventType.options].sort());
    const names = Object.values(auditTypeNames);
    expect(new Set(names).size).toBe(names.length);
  });
});
