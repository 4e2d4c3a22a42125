/**
 * One workstation's app core as the renderer drives it, for the session-* integration tests: a
 * session (real keychain, SQLCipher profile in a temp folder) behind the IPC router, every event
 * it emits recorded, and a profile signed in to a test Prosody through vault:createProfile.
 */
import type { EventName } from '../../common/ipc-contract';
import type { Result } from '../../common/result';
import type { Clock } from '../../main/clock';
import { systemClock } from '../../main/clock';
import { createEventBus, type EventBus } from '../../main/events';
import { createHandlers } from '../../main/ipc/handlers';
import { createRouter, type Router } from '../../main/ipc/router';
import { silentLogger } from '../../main/log';
import { loadPolicy } from '../../main/policy/load';
import type { PolicyInput } from '../../main/policy/schema';
import { createSession, type SessionOptions } from '../../main/session/session';
import type { Session } from '../../main/session/types';
import type { Keychain } from '../../main/vault/keychain';
import type { ProsodyServer } from '../support/prosody';
import { FAST_ARGON2, PASS, tempDir, testKeychain } from './vault-support';

export interface RoutedSession {
  session: Session;
  router: Router;
  events: EventBus;
  /** Every event main emitted, in order (payloads stay in the test process, never printed). */
  seen: { name: EventName; payload: unknown }[];
  profileId: string;
  /** The workstation's user-data folder (profiles, device log) and its keychain. */
  dir: string;
  keychain: Keychain;
  /** Dispatches as the renderer would; the Result as the router returns it. */
  call<T = unknown>(channel: string, payload?: unknown): Promise<Result<T>>;
  /** The value of an ok Result; throws with the code and message of an error. */
  value<T>(r: Promise<Result<T>>): Promise<T>;
  /** Disposes the session and deletes its folder. */
  dispose(): Promise<void>;
}

export async function routedSession(opts: {
  server: ProsodyServer;
  account: { jid: string; password: string; name: string };
  /** Temp folder prefix: says which test left it, should one stay behind. */
  prefix: string;
  policy?: PolicyInput;
  clock?: Clock;
  services?: SessionOptions['services'];
  /** First sign-in replaces a key this account already published (a test run before). */
  replaceAccountKey?: boolean;
  /** "Save as…" (attachments:export): where the save dialog would write; absent: saving is not available. */
  chooseSavePath?: (suggestedName: string) => Promise<string | null>;
  /** "Open in another app" (attachments:openExternally): what the system would be handed; absent: not available. */
  openExternally?: (path: string) => Promise<void>;
  /** Drag-out (attachments:dragOut): what the system's drag would be handed; absent: not available. */
  startDrag?: (path: string) => Promise<void>;
}): Promise<RoutedSession> {
  const { dir, cleanup } = tempDir(opts.prefix);
  const events = createEventBus(silentLogger);
  const policy = loadPolicy(null, { argon2: FAST_ARGON2, trustedCaPem: opts.server.caPem, ...opts.policy });
  const { keychain } = testKeychain();
  const session = createSession({
    userDataDir: dir,
    policy,
    keychain,
    clock: opts.clock ?? systemClock,
    logger: silentLogger,
    events,
    ...(opts.services ? { services: opts.services } : {}),
  });
  const app = { name: 'Clinic Messenger', version: 'test', platform: process.platform, harness: true };
  const router = createRouter({
    handlers: createHandlers({
      app,
      session,
      events,
      policy,
      logger: silentLogger,
      ...(opts.chooseSavePath ? { chooseSavePath: opts.chooseSavePath } : {}),
      ...(opts.openExternally ? { openExternally: opts.openExternally } : {}),
      ...(opts.startDrag ? { startDrag: opts.startDrag } : {}),
    }),
    isLocked: () => !session.isUnlocked(),
    logger: silentLogger,
  });
  const seen: RoutedSession['seen'] = [];
  events.subscribe((name, payload) => seen.push({ name, payload }));
  const call = <T>(channel: string, payload: unknown = null) => router.dispatch(channel, payload) as Promise<Result<T>>;
  const value = async <T>(r: Promise<Result<T>>): Promise<T> => {
    const got = await r;
    if (!got.ok) throw new Error(`expected ok, got ${got.error.code}: ${got.error.message}`);
    return got.value;
  };
  const dispose = async () => {
    await session.dispose();
    cleanup();
  };
  try {
    const { profileId } = await value(
      call<{ profileId: string }>('vault:createProfile', {
        jid: opts.account.jid,
        displayName: opts.account.name,
        xmppPassword: opts.account.password,
        passphrase: PASS,
        server: { host: opts.server.host, port: opts.server.c2sPort, tls: 'starttls' },
        policyAcknowledged: true,
        ...(opts.replaceAccountKey ? { replaceAccountKey: true } : {}),
      }),
    );
    return { session, router, events, seen, profileId, dir, keychain, call, value, dispose };
  } catch (err) {
    await dispose();
    throw err;
  }
}
