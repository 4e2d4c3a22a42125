import { describe, expect, it } from 'vitest';
import { AppError } from '../../common/result';
import { errorName, redact } from '../../main/log';

describe('what a log line may say about an error', () => {
  it('names the error class and never carries its message', () => {
    const secret = 'Patient Jane Doe, room 4';
    expect(errorName(new TypeError(secret))).toBe('TypeError');
    expect(errorName(new AppError('NOT_CONNECTED', secret))).toBe(new AppError('NOT_CONNECTED', secret).name);
    const custom = new Error(secret);
    custom.name = 'SqliteError';
    expect(errorName(custom)).toBe('SqliteError');
    for (const e of [new Error(secret), new RangeError(secret)]) expect(errorName(e)).not.toContain('Jane');
  });

  it('says unknown for anything thrown that is not an Error', () => {
    for (const thrown of ['Patient Jane Doe', 42, null, undefined, { name: 'Fake', message: 'x' }])
      expect(errorName(thrown)).toBe('unknown');
  });

  it('redacts sensitive field names and keeps the rest', () => {
    expect(redact({ error: 'TypeError', passphrase: 'p', bodyLength: 3, count: 2 })).toEqual({
      error: 'TypeError',
      passphrase: '[redacted]',
      bodyLength: '[redacted]',
      count: 2,
    });
  });
});
