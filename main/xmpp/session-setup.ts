/**
 * What a ready stream needs before messages flow (PROTOCOL.md "Connecting"): a fresh session gets
 * our key settled and published, carbons, the roster, the decrypt workers, the archive catch-up
 * (our presence once its first page has come), what a lost server may have dropped
 * (outbox-resend.ts) and the outbox; a resumed one (XEP-0198) only flushes the outbox, since the
 * server kept everything else. First run: the key must be settled before sign-in completes.
 */
import { xml } from '@xmpp/client';
import { AppError } from '../../common/result';
import type { Identity } from '../crypto';
import { errorName } from '../log';
import type { AccountKey } from './account-key';
import type { AuditAnchoring } from './audit-anchoring';
import type { PatientTexts } from './patient-texts';
import { ownPresenceStanza } from './own-presence';
import { fetchOwnName } from './own-name';
import type { CatchUp } from './catch-up';
import type { MessagingContext } from './context';
import type { DecryptService } from './decrypt';
import { holdOfflineFlood, releaseOfflineStorage } from './offline-storage';
import type { Directory } from './directory';
import type { Outbox } from './outbox';
import type { ReadSync } from './read-sync';
import type { Rooms } from './rooms';
import { NS } from './stanzas';
import type { XmppConnection } from './transport/connection';
import type { StartOptions } from './types';

export interface SessionSetupDeps {
  ctx: MessagingContext;
  accountKey: AccountKey;
  directory: Directory;
  decryption: DecryptService;
  catchUp: CatchUp;
  outbox: Outbox;
  readSync: ReadSync;
  anchoring: AuditAnchoring;
  patients: PatientTexts;
  rooms?: Pick<Rooms, 'connected' | 'sessionLost'>;
}

export function createSessionSetup({
  ctx,
  accountKey,
  directory,
  decryption,
  catchUp,
  outbox,
  readSync,
  anchoring,
  patients,
  rooms,
}: SessionSetupDeps) {
  const { store, events, logger, clock } = ctx.opts;
  /** The current fresh session's setup (carbons, roster, key publication, catch-up). */
  let setup: Promise<void> = Promise.resolve();
  /** First run: how to settle the account key (start options), and why it could not be settled. */
  let firstRun: StartOptions | null = null;
  let identityError: AppError | null = null;
  /** First run: the account's name in the clinic directory (own-name.ts), null when it has none. */
  let directoryName: string | null = null;

  async function fresh(c: XmppConnection) {
    let id: Identity;
    try {
      // Before the key is settled: a first run that stops here for want of a name has published nothing.
      if (firstRun) await lookUpName(c, firstRun);
      id = firstRun ? await accountKey.settle(c, firstRun) : await accountKey.ensure();
    } catch (err) {
      if (firstRun && err instanceof AppError) identityError = err;
      throw err;
    }
    // XEP-0280 §4: copies of our conversations on every device.
    await c
      .iq(xml('iq', { type: 'set' }, xml('enable', { xmlns: NS.carbons })))
      .catch(() => logger.warn('xmpp: carbons not enabled'));
    await directory.loadRoster().catch(() => logger.warn('xmpp: roster not loaded'));
    await accountKey.publish(c, id, new Date(clock.now()));
    await accountKey
      .publishBackup(c, id)
      .catch((err: unknown) => logger.warn('xmpp: key backup not published', { error: errorName(err) }));
    // The decrypt workers (a first run has only now settled the key they load).
    await decryption.start().catch(() => undefined);
    const flexibleOffline = await catchUpWithPresence(ctx, catchUp, c);
    // Care-team rooms (issue 18): joined before the outbox runs, since only an occupant may post.
    await rooms?.connected(c).catch((err: unknown) => logger.warn('xmpp: rooms not joined', { error: errorName(err) }));
    // The lost stream's server may have dropped what it acknowledged last (outbox-resend.ts): that
    // goes again first, then what is queued, so a conversation keeps its order where it can.
    await outbox.resendUnconfirmed();
    await outbox.flush(true);
    // Whatever was archived after the catch-up's last page and before our presence took effect (a
    // catch-up of one page): it went to offline storage. Live copies of the rest are stored once.
    await catchUp.run();
    if (flexibleOffline) await releaseOfflineStorage(ctx, c);
    // Read state from our other workstations (XEP-0490), now that the messages it names are stored.
    await readSync.catchUp(c);
    // The workers exist for catch-up's burst (issue 13); live messages come one at a time and
    // decrypt on this thread (decrypt.ts), so the idle workers' memory (about 15 MB each, the
    // memory bench) is given back. A reconnect's fresh session starts them again.
    await decryption.close();
    // Keys of people we talk to may have changed while we were away.
    for (const contact of store.contacts.list()) if (contact.fingerprint) void ctx.trust.refresh(contact.jid);
    // Audit entries to the compliance account (issue 15 item 4): now, then every interval.
    anchoring.connected(c);
    // Texts to patients stored while offline (issue 17) go now.
    patients.connected();
  }

  async function lookUpName(c: XmppConnection, o: StartOptions) {
    directoryName = await fetchOwnName(c);
    if (directoryName === null && o.nameRequired)
      throw new AppError(
        'DISPLAY_NAME_REQUIRED',
        'The clinic directory has no name for this account. Enter your name as colleagues should see it.',
      );
  }

  return {
    /** A start begins: remember how a first run settles the key. */
    begin(o: StartOptions | undefined) {
      firstRun = o?.firstRun ? o : null;
      identityError = null;
    },
    /** First run: the account's name in the clinic directory, once connected; null when it has none. */
    directoryName: (): string | null => directoryName,
    /** The stream is ready (connection.ts onReady). */
    ready(c: XmppConnection, resumed: boolean) {
      if (resumed) {
        // flush() logs its own failures; the 2 s timer (lifecycle.ts) tries again.
        void outbox.flush(true);
        return;
      }
      // Before the outbox timer's next pass: a room's messages wait until fresh() has joined it again.
      rooms?.sessionLost();
      setup = fresh(c).catch(async (err: unknown) => {
        logger.warn('xmpp: session setup incomplete', { code: err instanceof AppError ? err.code : errorName(err) });
        events.emit('sync:progress', { done: 0, total: null, finished: true });
        // What the lost server may have dropped still goes (it needs no room joined, and is sent
        // once: the list is emptied by the first call); the outbox timer sends the rest.
        await outbox.resendUnconfirmed();
      });
    },
    /** First sign-in: the key must be published before colleagues can write to us. */
    async finishFirstRun() {
      await setup;
      firstRun = null;
      if (identityError) throw identityError;
    },
    /** The current setup has run (or given up). */
    settled: (): Promise<void> => setup,
  };
}

/**
 * The archive's first page, then our presence, then the rest of the catch-up: a colleague's new
 * message arrives live meanwhile instead of waiting in offline storage for the whole catch-up
 * (issue 13 item 4; decrypt.ts opens it on this thread, not behind the catch-up's jobs in the
 * pool). The offline flood that presence would release is held back: Prosody does so for a
 * session that queried the archive (mod_mam), ejabberd when asked (XEP-0013, offline-storage.ts).
 * Resolves with whether the server holds it for us (then released after the second catch-up).
 * Presence goes once, also when the catch-up had no page to give.
 */
async function catchUpWithPresence(ctx: MessagingContext, catchUp: CatchUp, c: XmppConnection): Promise<boolean> {
  // Asked beside the archive's first page (it never rejects); presence waits for its answer.
  const hold = holdOfflineFlood(ctx, c);
  let presence: Promise<void> | null = null;
  // With our capabilities (caps.ts): the server then pushes colleagues' key-list changes.
  // Show and status as the person last set them (issue 12 §7), kept in the settings.
  const sendPresence = () =>
    (presence ??= hold.then(() =>
      c.send(ownPresenceStanza(ctx.opts.ownPresence?.() ?? { show: 'available', status: '' })),
    ));
  await catchUp.run(sendPresence);
  await sendPresence();
  return hold;
}

export type SessionSetup = ReturnType<typeof createSessionSetup>;
