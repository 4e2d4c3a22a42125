/**
 * A care-team room's settings as this workstation acts on them (issue 18 §4, §5; docs/protocol.md
 * "Care-team rooms"): whether the room still keeps the clinic's policy, and whether it is an
 * announcement room. Both are read from the room's disco#info (room-config.ts) — at each join,
 * before each send attempt, when a stanza from the room says its configuration changed, and when
 * the person sends to a room that was unsafe — and recorded with an audit entry for each change.
 *
 * - An unsafe room (no longer members-only, or no longer non-anonymous) gets nothing from us and
 *   nothing from it is accepted (`room-unsafe`), whatever the server says about the sender.
 * - In an announcement room only an owner posts: we refuse to send unless we are an owner, and a
 *   message whose real sender was not an owner at that time is refused (`not-owner`), even though
 *   the server (mod_muc_clinic_policy) should never have passed it on.
 */
import { xml } from '@xmpp/client';
import { AppError } from '../../common/result';
import { mayPostAt, type AffiliationChange } from '../crypto/room-membership';
import { errorName } from '../log';
import type { MessagingContext } from './context';
import { NS_DISCO_INFO } from './disco';
import { problemsFrom, problemsText, readRoomConfig, type RoomConfig } from './room-config';
import type { XmppConnection } from './transport/connection';

/** Why a room's message is refused by the room's settings (audited as message-rejected). */
export type RoomPolicyRefusal = 'room-unsafe' | 'not-owner';

const PROBLEM_WORDS = {
  open: 'people who are not on its member list can join it',
  anonymous: 'it no longer shows who wrote each message',
} as const;

export function createRoomPolicy(ctx: MessagingContext) {
  const { store, audit, clock, logger } = ctx.opts;
  /** Per room, the last re-read asked for: each waits for the one before (a later notice gets a fresh read). */
  const reading = new Map<string, Promise<RoomConfig>>();

  /** Records what the room said; audits and shows each change. */
  function record(room: string, config: RoomConfig): void {
    const r = store.rooms.get(room);
    if (!r) return;
    const unsafe = problemsText(config.problems);
    const changed = store.transaction(() => {
      const c = store.rooms.setConfig(room, { announcement: config.announcement, unsafe }, clock.now());
      if (c.unsafe)
        audit.append('room-policy', unsafe ? { room, change: 'unsafe', problems: unsafe } : { room, change: 'safe' });
      if (c.announcement)
        audit.append('room-policy', { room, change: 'announcement', announcement: config.announcement });
      return c;
    });
    if (changed.unsafe)
      logger.warn(unsafe ? 'xmpp: room no longer keeps the policy' : 'xmpp: room keeps the policy again', {
        conversationId: r.conversationId,
      });
    if (changed.unsafe || changed.announcement) ctx.emitConversation(r.conversationId);
  }

  async function read(c: XmppConnection, room: string): Promise<RoomConfig> {
    const info = await c.iq(xml('iq', { type: 'get', to: room }, xml('query', { xmlns: NS_DISCO_INFO })));
    const config = readRoomConfig(info);
    record(room, config);
    return config;
  }

  /** Reads the room's disco#info now and records it; rejects when the room did not answer. */
  function recheck(c: XmppConnection, room: string): Promise<RoomConfig> {
    const before = reading.get(room);
    // The read before this one failed for its own caller, who was told; this one reads afresh.
    const run = (before ?? Promise.resolve()).catch(() => undefined).then(() => read(c, room));
    reading.set(room, run);
    const done = () => {
      if (reading.get(room) === run) reading.delete(room);
    };
    run.then(done, done);
    return run;
  }

  /** A stanza from the room said its configuration changed: read it again (a failure is logged; the next send reads it). */
  function noticed(c: XmppConnection | null, room: string): Promise<void> {
    if (!c?.isReady() || !store.rooms.get(room)) return Promise.resolve();
    return recheck(c, room).then(
      () => undefined,
      (err: unknown) => logger.warn('xmpp: room settings not read', { error: errorName(err) }),
    );
  }

  /** Settles once every re-read asked for so far for `room` finished: a message is judged after them. */
  const settled = (room: string): Promise<void> =>
    (reading.get(room) ?? Promise.resolve()).then(
      () => undefined,
      () => undefined,
    );

  /**
   * Why the room's settings refuse a message from `sender` sent at `at` (null: they do not).
   * `changes`: the room's affiliation changes as recorded (for who was an owner then).
   */
  function refusal(
    room: string,
    sender: string,
    changes: readonly AffiliationChange[],
    at: Date,
  ): RoomPolicyRefusal | null {
    const r = store.rooms.get(room);
    if (!r) return null;
    if (r.unsafe !== null) return 'room-unsafe';
    if (r.announcement && !mayPostAt(changes, sender, at, true)) return 'not-owner';
    return null;
  }

  /** Throws when we may not post to the room as we know it now (ROOM_UNSAFE, ROOM_OWNERS_ONLY). */
  function checkPost(room: string): void {
    const r = store.rooms.get(room);
    if (!r) return;
    if (r.unsafe !== null) {
      const why = problemsFrom(r.unsafe).map((p) => PROBLEM_WORDS[p]);
      throw new AppError(
        'ROOM_UNSAFE',
        `Not sent: this care-team room is not safe for patient information right now (${why.join(' and ')}). Nothing is sent to it until IT fixes it.`,
        { room, problems: r.unsafe },
      );
    }
    const mine = store.rooms.members(room).find((m) => m.jid === ctx.ownJid)?.affiliation;
    if (r.announcement && mine !== 'owner')
      throw new AppError('ROOM_OWNERS_ONLY', 'Not sent: only the room’s owners post in this announcement room.', {
        room,
      });
  }

  return { recheck, noticed, settled, refusal, checkPost };
}

export type RoomPolicy = ReturnType<typeof createRoomPolicy>;
