// A publish the server refuses for a moment is tried again (main/xmpp/pep-keys.ts publishWith with
// retry): a clustered ejabberd answers item-not-found when two nodes create PEP nodes at once and
// Mnesia aborts the transaction as a deadlock. Without the retry the session's setup stopped at the key
// publication: no presence, no catch-up (seen in the server matrix's cluster run). Pure logic: a
// scripted connection and a fake clock.
import { xml, type XmlElement } from '@xmpp/client';
import { describe, expect, it } from 'vitest';
import { isTransientRefusal, publishPublicKey, publishWith } from '../../main/xmpp/pep-keys';
import type { XmppConnection } from '../../main/xmpp/transport/connection';
import { fakeClock } from '../support/fake-clock';

const refusal = (condition: string) => Object.assign(new Error(condition), { condition });

/** A connection whose iq() answers from a script: an error condition to throw, or "ok" for a result. */
function scripted(answers: string[]) {
  const sent: XmlElement[] = [];
  const conn = {
    iq: (el: XmlElement) => {
      sent.push(el);
      const next = answers.shift() ?? 'ok';
      return next === 'ok' ? Promise.resolve(xml('iq', { type: 'result' })) : Promise.reject(refusal(next));
    },
  } as unknown as XmppConnection;
  return { conn, sent };
}

/** Lets the promise chain run, moving the fake clock on while it waits. */
async function drive<T>(p: Promise<T>, clock: ReturnType<typeof fakeClock>): Promise<T> {
  let done = false;
  const mark = () => {
    done = true;
  };
  // Only to know when to stop driving; the caller gets `p` itself, with its rejection.
  p.then(mark, mark);
  for (let i = 0; i < 200 && !done; i++) {
    await new Promise((r) => setImmediate(r));
    clock.advance(1_000);
  }
  return p;
}

const payload = () => xml('x', { xmlns: 'urn:test' });

describe('publishing through a transient refusal', () => {
  it('tries again after item-not-found and internal-server-error, then succeeds', async () => {
    const clock = fakeClock();
    const { conn, sent } = scripted(['item-not-found', 'internal-server-error', 'item-not-found', 'ok']);
    await drive(publishWith(conn, 'node', 'current', payload(), { 'pubsub#access_model': 'open' }, { clock }), clock);
    expect(sent).toHaveLength(4);
    // The same publish each time (same node, same item id): publishing is idempotent.
    expect(new Set(sent.map((s) => s.toString())).size).toBe(1);
  });

  it('waits between tries on the clock it is given', async () => {
    const clock = fakeClock();
    const { conn, sent } = scripted(['internal-server-error', 'ok']);
    const p = publishWith(conn, 'node', 'current', payload(), {}, { clock });
    await new Promise((r) => setImmediate(r));
    expect(sent).toHaveLength(1);
    expect(clock.pending()).toBe(1);
    clock.advance(100); // less than half the first wait (250 ms, equal jitter)
    await new Promise((r) => setImmediate(r));
    expect(sent).toHaveLength(1);
    clock.advance(250);
    await p;
    expect(sent).toHaveLength(2);
  });

  it('gives up after the attempts allowed, with the server refusal', async () => {
    const clock = fakeClock();
    const { conn, sent } = scripted(Array(10).fill('internal-server-error'));
    await expect(
      drive(publishWith(conn, 'n', 'i', payload(), {}, { clock, attempts: 3 }), clock),
    ).rejects.toMatchObject({ condition: 'internal-server-error' });
    expect(sent).toHaveLength(3);
  });

  it('does not retry a refusal that means no, nor without a retry option', async () => {
    const clock = fakeClock();
    const forbidden = scripted(['forbidden']);
    await expect(drive(publishWith(forbidden.conn, 'n', 'i', payload(), {}, { clock }), clock)).rejects.toMatchObject({
      condition: 'forbidden',
    });
    expect(forbidden.sent).toHaveLength(1);
    const plain = scripted(['internal-server-error']);
    await expect(publishWith(plain.conn, 'n', 'i', payload(), {})).rejects.toMatchObject({
      condition: 'internal-server-error',
    });
    expect(plain.sent).toHaveLength(1);
  });

  it('retries each step of a key publication: the data node, then the list', async () => {
    const clock = fakeClock();
    const { conn, sent } = scripted(['ok', 'item-not-found', 'ok']);
    await drive(
      publishPublicKey(conn, 'A'.repeat(40), new Uint8Array([1, 2, 3]), new Date(clock.now()), { clock }),
      clock,
    );
    const nodes = sent.map((s) => s.getChild('pubsub')?.getChild('publish')?.attrs.node as string);
    expect(nodes).toEqual([
      `urn:xmpp:openpgp:0:public-keys:${'A'.repeat(40)}`,
      'urn:xmpp:openpgp:0:public-keys',
      'urn:xmpp:openpgp:0:public-keys',
    ]);
  });

  it('classifies the conditions', () => {
    expect(isTransientRefusal(refusal('internal-server-error'))).toBe(true);
    expect(isTransientRefusal(refusal('item-not-found'))).toBe(true);
    // ejabberd's answer to an unknown publish-option: permanent in practice, although type wait.
    for (const c of ['resource-constraint', 'forbidden', 'conflict', 'not-allowed', 'not-authorized'])
      expect(isTransientRefusal(refusal(c))).toBe(false);
    expect(isTransientRefusal(new Error('timeout'))).toBe(false);
    expect(isTransientRefusal(null)).toBe(false);
  });
});
