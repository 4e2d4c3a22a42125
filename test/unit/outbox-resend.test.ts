// The outbox's list of what the server acknowledged lately (main/xmpp/outbox-resend.ts): what a
// fresh session after a lost one sends again.
import { describe, expect, it } from 'vitest';
import { createResendList, RESEND_WINDOW_MS } from '../../main/xmpp/outbox-resend';

function list() {
  let now = 5_000_000;
  const l = createResendList({ now: () => now });
  return { l, at: (t: number) => void (now = 5_000_000 + t) };
}

describe('the resend list', () => {
  it('gives the acknowledged ids oldest ack first, once', () => {
    const { l, at } = list();
    at(0);
    l.acked('7');
    at(10);
    l.acked('3');
    at(20);
    l.acked('9');
    expect(l.take()).toEqual(['7', '3', '9']);
    expect(l.take()).toEqual([]);
  });

  it(`keeps only the acks of the last ${RESEND_WINDOW_MS / 1000} s before the newest one`, () => {
    const { l, at } = list();
    at(0);
    l.acked('1');
    at(1_000);
    l.acked('2');
    at(RESEND_WINDOW_MS + 500); // '1' is now older than the window, '2' is not
    l.acked('3');
    expect(l.take()).toEqual(['2', '3']);
  });

  it('moves an id acknowledged again (a resend) to the end, without a second entry', () => {
    const { l, at } = list();
    at(0);
    l.acked('1');
    l.acked('2');
    at(5);
    l.acked('1');
    expect(l.take()).toEqual(['2', '1']);
  });

  it('forgets everything on an orderly stop', () => {
    const { l } = list();
    l.acked('1');
    l.clear();
    expect(l.take()).toEqual([]);
  });
});
