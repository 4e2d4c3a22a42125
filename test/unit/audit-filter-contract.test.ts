/**
 * audit:list's filter in the contract (issue 15 item 5): the router refuses a malformed filter
 * with BAD_INPUT before the handler runs, and hands a good one (or none) through unchanged.
 */
import { describe, expect, it, vi } from 'vitest';
import { channelNames } from '../../common/ipc-contract';
import { createRouter, type HandlerMap } from '../../main/ipc/router';
import { silentLogger } from '../../main/log';

function routerWithSpy(): { dispatch: (input: unknown) => Promise<unknown>; spy: ReturnType<typeof vi.fn> } {
  const spy = vi.fn(() => ({ items: [], nextBefore: null }));
  const handlers: Record<string, unknown> = {};
  for (const name of channelNames) handlers[name] = name === 'audit:list' ? spy : vi.fn(() => null);
  const router = createRouter({ handlers: handlers as HandlerMap, isLocked: () => false, logger: silentLogger });
  return { dispatch: (input) => router.dispatch('audit:list', input), spy };
}

const DAY = 86_400_000;

describe('audit:list filter contract', () => {
  it('passes no filter, and a full filter, through to the handler', async () => {
    const { dispatch, spy } = routerWithSpy();
    expect(await dispatch({ before: null })).toEqual({ ok: true, value: { items: [], nextBefore: null } });
    expect(spy).toHaveBeenLastCalledWith({ before: null, limit: 100 });
    const filter = {
      from: 1_800_000_000_000,
      to: 1_800_000_000_000 + DAY - 1,
      types: ['lock'],
      person: 'bob@clinic.example',
    };
    expect(await dispatch({ before: 40, limit: 20, filter })).toMatchObject({ ok: true });
    expect(spy).toHaveBeenLastCalledWith({ before: 40, limit: 20, filter });
  });

  const bad: [string, unknown][] = [
    ['a date as text', { from: '2026-12-01' }],
    ['a negative time', { from: -1 }],
    ['a fractional time', { to: 1.5 }],
    ['a range that ends before it starts', { from: 2 * DAY, to: DAY }],
    ['an unknown event type', { types: ['message-text'] }],
    ['an empty type list', { types: [] }],
    ['a type list longer than the event types', { types: Array.from({ length: 100 }, () => 'lock') }],
    ['a full JID with a resource', { person: 'bob@clinic.example/desk-3' }],
    ['a person without a domain', { person: 'bob' }],
    ['a person as a number', { person: 7 }],
    ['an unknown filter key', { body: 'lab results' }],
    ['a filter that is a string', 'lock'],
  ];
  for (const [what, filter] of bad) {
    it(`refuses ${what} with BAD_INPUT and never calls the handler`, async () => {
      const { dispatch, spy } = routerWithSpy();
      const r = (await dispatch({ before: null, filter })) as { ok: boolean; error?: { code: string } };
      expect(r.ok).toBe(false);
      expect(r.error?.code).toBe('BAD_INPUT');
      expect(spy).not.toHaveBeenCalled();
    });
  }
});
