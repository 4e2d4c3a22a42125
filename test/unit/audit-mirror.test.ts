// The audit head mirror's writes (session/audit-mirror.ts): coalesced after an append, a failed
// keychain write logged with its cause (never a secret) and tried again at the next flush.
import { describe, expect, it } from 'vitest';
import { AppError } from '../../common/result';
import type { LogFields } from '../../main/log';
import { createAuditMirror } from '../../main/session/audit-mirror';
import type { Store } from '../../main/store';
import type { Keychain, RecordName } from '../../main/vault/keychain';
import { fakeClock } from '../support/fake-clock';

const PROFILE = 'aaaaaaaa-0000-4000-8000-000000000001';

function setup() {
  const clock = fakeClock();
  let seq = 1;
  const store = { audit: { head: () => ({ seq, mac: Buffer.alloc(32, seq) }) } } as unknown as Store;
  const written = new Map<RecordName, string>();
  let failing: Error | null = null;
  const keychain = {
    setRecord: (name: RecordName, value: Buffer) => {
      if (failing) return Promise.reject(failing);
      written.set(name, value.toString('utf8'));
      return Promise.resolve();
    },
  } as unknown as Keychain;
  const warnings: { msg: string; fields?: LogFields }[] = [];
  const logger = {
    debug: () => undefined,
    info: () => undefined,
    error: () => undefined,
    warn: (msg: string, fields?: LogFields) => warnings.push({ msg, fields }),
  };
  const mirror = createAuditMirror({ keychain, profileId: PROFILE, store, clock, logger });
  return {
    clock,
    mirror,
    written,
    warnings,
    fail: (err: Error | null) => (failing = err),
    append: () => (seq += 1),
    head: () => JSON.parse(written.get(`${PROFILE}:audit-head`) ?? 'null') as { seq: number } | null,
  };
}

describe('audit head mirror', () => {
  it('writes once per burst of appends, a few seconds after the first', async () => {
    const t = setup();
    t.mirror.touch();
    t.append();
    t.mirror.touch();
    t.clock.advance(4_999);
    expect(t.head()).toBeNull();
    t.clock.advance(1);
    await t.mirror.flush();
    expect(t.head()).toEqual({ seq: 2, mac: '02'.repeat(32) });
  });

  it('logs a failed keychain write with its cause and code, and writes it at the next flush', async () => {
    const t = setup();
    t.fail(new AppError('KEYCHAIN_UNAVAILABLE', 'The system keychain is locked.', { operation: 'write' }));
    await t.mirror.flush();
    expect(t.head()).toBeNull();
    expect(t.warnings).toEqual([
      {
        msg: 'audit head mirror could not be written',
        fields: { profileId: PROFILE, code: 'KEYCHAIN_UNAVAILABLE', reason: 'The system keychain is locked.' },
      },
    ]);
    t.fail(null);
    await t.mirror.flush();
    expect(t.head()?.seq).toBe(1);
  });

  it('logs only the name of an error that is not the keychain’s', async () => {
    const t = setup();
    t.fail(new TypeError('something with a value in it'));
    await t.mirror.flush();
    expect(t.warnings[0]?.fields).toEqual({ profileId: PROFILE, code: 'TypeError' });
  });
});
