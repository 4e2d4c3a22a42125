// The browser harness carries JSON text frames (test/support/harness/ws-bridge.ts): bytes in a
// channel's input or output (attachments:send's file, attachments:read's answer) travel as a
// tagged base64 string and come back as a Uint8Array with the same bytes.
import { describe, expect, it } from 'vitest';
import { fromWire, toWire } from '../support/harness/ws-bridge';

describe('harness wire bytes', () => {
  it('a Uint8Array anywhere in a value survives JSON text and comes back byte for byte', () => {
    const data = new Uint8Array(70_000).map((_, i) => (i * 31) % 256);
    const value = { conversationId: 'c1', file: { name: 'x.png', data }, list: [new Uint8Array([0, 255])] };
    const text = JSON.stringify(toWire(value));
    expect(text).not.toContain('"0":');
    const back = fromWire(JSON.parse(text)) as typeof value;
    expect(back.file.data).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(back.file.data).equals(Buffer.from(data))).toBe(true);
    expect(back.list[0]).toEqual(new Uint8Array([0, 255]));
    expect(back.conversationId).toBe('c1');
  });

  it('a Buffer view into a larger pool is sent as its own bytes only', () => {
    const pool = Buffer.from('xxxxHELLOyyyy');
    const view = new Uint8Array(pool.buffer, pool.byteOffset + 4, 5);
    expect(fromWire(JSON.parse(JSON.stringify(toWire(view))))).toEqual(new Uint8Array(Buffer.from('HELLO')));
  });

  it('leaves values without bytes as they are, and an object with more keys than the tag alone', () => {
    const plain = { ok: true, value: { items: [{ id: 'a', n: 1, x: null }] } };
    expect(fromWire(JSON.parse(JSON.stringify(toWire(plain))))).toEqual(plain);
    const lookalike = { $clinicBytes: 'AAAA', other: 1 };
    expect(fromWire(lookalike)).toEqual(lookalike);
  });
});
