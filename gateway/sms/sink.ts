/**
 * The local SMS sink: each text becomes `<dir>/<n>-<providerRef>.json` ({ to, body, at,
 * providerRef }), written atomically (temp file + rename) so a reader never sees half a file.
 * Tests and the demo's "patient phone" read these. Only for tests and demos: the files hold the
 * link secret, as a real phone's inbox would.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../clock';
import type { OutgoingSms, SentSms, SmsProvider } from './provider';

export interface SinkSms {
  to: string;
  body: string;
  at: string;
  providerRef: string;
}

export function sinkProvider(dir: string, clock: Clock): SmsProvider {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  let seq = readdirSync(dir).filter((f) => f.endsWith('.json')).length;
  return {
    name: 'sink',
    send(sms: OutgoingSms): Promise<SentSms> {
      const providerRef = `SINK${randomBytes(12).toString('hex')}`;
      const file = join(dir, `${String(++seq).padStart(6, '0')}-${providerRef}.json`);
      const record: SinkSms = { to: sms.to, body: sms.body, at: new Date(clock.now()).toISOString(), providerRef };
      writeFileSync(`${file}.tmp`, JSON.stringify(record), { mode: 0o600 });
      renameSync(`${file}.tmp`, file);
      return Promise.resolve({ providerRef, delivered: true });
    },
  };
}

/** Every text in the sink, oldest first (tests, the demo's patient phone). */
export function readSink(dir: string): SinkSms[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((f) => f.endsWith('.json'));
  } catch {
    return [];
  }
  return names.sort().map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as SinkSms);
}
