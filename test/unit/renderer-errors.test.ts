// Issue 11 item 4: the error texts the renderer writes itself live in one module
// (renderer/src/lib/errors.ts), keyed by situation and error code; a code a situation does not
// name shows main's own message.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../common/result';
import {
  errorText,
  errorTextFor,
  KEYCHAIN_HELP,
  NOTICE_TEXTS,
  patientTextFailure,
  signInErrorText,
} from '../../renderer/src/lib/errors';

const err = (code: ErrorCode, message = '', details?: Record<string, number>) => ({
  code,
  message,
  ...(details ? { details } : {}),
});

describe('renderer error texts', () => {
  it('a wrong unlock passphrase says how many attempts are left, in the singular for one', () => {
    expect(errorTextFor('unlock', err('WRONG_PASSPHRASE', 'wrong', { remaining: 2 }))).toBe(
      'Wrong passphrase. 2 attempts left before this profile is erased from this PC.',
    );
    expect(errorTextFor('unlock', err('WRONG_PASSPHRASE', 'wrong', { remaining: 1 }))).toBe(
      'Wrong passphrase. 1 attempt left before this profile is erased from this PC.',
    );
    expect(errorTextFor('unlock', err('WRONG_PASSPHRASE', 'wrong'))).toBe('Wrong passphrase.');
  });

  it('a throttled unlock counts down, then says the person may try again', () => {
    expect(errorTextFor('unlock', err('THROTTLED'), 7)).toBe('Too many wrong passphrases. Try again in 7 seconds.');
    expect(errorTextFor('unlock', err('THROTTLED'), 0)).toBe('Too many wrong passphrases. You can try again now.');
  });

  it("an expired offline lease says how long the clinic allows and what to do; other reasons show main's words", () => {
    const unreachable = {
      code: 'LEASE_EXPIRED' as const,
      message: 'main',
      details: { reason: 'unreachable', hours: 72 },
    };
    expect(errorTextFor('unlock', unreachable)).toBe(
      'This computer has been offline longer than your clinic allows (72 hours). Connect to the clinic network and unlock again. Nothing was lost.',
    );
    const refused = { code: 'LEASE_EXPIRED' as const, message: 'The server refused.', details: { reason: 'refused' } };
    expect(errorTextFor('unlock', refused)).toBe('The server refused.');
  });

  it('the same code reads differently where the person meets it', () => {
    const wrong = err('WRONG_PASSPHRASE', 'main says', { remaining: 3 });
    expect(errorTextFor('changePassphrase', wrong)).toBe('The current passphrase is not correct.');
    expect(errorTextFor('keyBackup', wrong)).toBe(
      'That passphrase is not correct. 3 attempts left before this profile is erased from this PC.',
    );
    expect(errorTextFor('send', err('NOT_CONNECTED', 'offline'))).toBe(
      'Not connected to the clinic server. The message will be sent when you reconnect.',
    );
    expect(signInErrorText(err('NOT_CONNECTED', 'offline'))).toBe(
      "Couldn't reach the clinic server. Check the server name and the network, then try again.",
    );
    expect(errorTextFor('send', err('KEY_CHANGED'))).toContain('Not sent: this contact’s key changed');
    expect(errorTextFor('unlock', err('KEYCHAIN_UNAVAILABLE'))).toBe(KEYCHAIN_HELP);
  });

  it("a code the situation does not name shows main's message, or the code when main sent none", () => {
    expect(errorTextFor('send', err('TOO_LARGE', 'The message is longer than 8,000 characters.'))).toBe(
      'The message is longer than 8,000 characters.',
    );
    expect(errorTextFor('changePassphrase', err('INTERNAL'))).toBe('INTERNAL');
    expect(errorText(err('LOCKED', 'Locked.'))).toBe('Locked.');
    expect(signInErrorText(err('WEAK_PASSPHRASE', 'it is a common password'))).toBe(
      'This passphrase is too weak: it is a common password',
    );
  });

  it('making a room: offline before anything was made, or main’s words once a made room was undone', () => {
    expect(errorTextFor('createRoom', err('NOT_CONNECTED', 'Rooms are created while connected.'))).toBe(
      'Not connected to the clinic server, so no room was created. Try again when you are connected.',
    );
    const undone = {
      code: 'NOT_CONNECTED' as const,
      message: 'The room was not created: lost.',
      details: { step: 'members' },
    };
    expect(errorTextFor('createRoom', undone)).toBe('The room was not created: lost.');
    expect(errorTextFor('createRoom', err('CONFLICT', 'The room was not created: refused.'))).toBe(
      'The room was not created: refused.',
    );
  });

  it('a text to a patient that was not sent gives the gateway’s reason; a code it does not know shows as it is', () => {
    expect(patientTextFailure('opted-out')).toBe('the patient has opted out of texts');
    expect(patientTextFailure('archive-no-key')).toBe('the clinic’s archive key is not published; ask IT');
    expect(patientTextFailure('gateway-new-reason')).toBe('gateway-new-reason');
  });

  it('texts that are not an error code are there too', () => {
    expect(NOTICE_TEXTS.lockTimeoutTooLong(15)).toBe("Choose a number of minutes up to 15 (the clinic's maximum).");
    expect(NOTICE_TEXTS.profileWiped).toContain('were erased from this PC');
  });

  it('no renderer file outside lib/errors.ts builds an error text from an error code itself', () => {
    const root = 'renderer/src';
    const files: string[] = [];
    const walk = (d: string) => {
      for (const n of readdirSync(d)) {
        const p = join(d, n);
        if (statSync(p).isDirectory()) walk(p);
        else if (/\.(svelte|ts)$/.test(n)) files.push(p);
      }
    };
    walk(root);
    const offenders = files.filter((f) => {
      if (f === join(root, 'lib/errors.ts')) return false;
      const src = readFileSync(f, 'utf8');
      // `x.message || x.code` (the fallback) and a branch on a code that picks words
      // (`code === 'X' ? 'Some words'`; a one-word value such as a step name is not a text).
      return (
        /\.message \|\| \w+(\.\w+)*\.code/.test(src) || /code === '[A-Z_]+'\s*\?\s*(['`])[^'`]* [^'`]*\1/.test(src)
      );
    });
    expect(offenders).toEqual([]);
  });
});
