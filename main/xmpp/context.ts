/** What the messaging parts share: the options, the live connection, our identity, and event helpers. */
import type { Message } from '../../common/contract/domain';
import type { Clock } from '../clock';
import type { DecryptJob, Identity, OpenedSigncrypt } from '../crypto';
import type { Rooms } from './rooms';
import type { XmppConnection } from './transport/connection';
import type { Trust } from './trust';
import type { MessagingOptions } from './types';

export interface MessagingContext {
  opts: MessagingOptions;
  /** opts.transportClock, resolved: the timers of the network side (MessagingOptions.transportClock). */
  net: Clock;
  ownJid: string;
  trust: Trust;
  conn(): XmppConnection | null;
  identity(): Identity | null;
  /** A row was inserted (isNew) or changed state. */
  emitMessage(m: Message, isNew: boolean): void;
  emitConversation(conversationId: string): void;
  /** Decrypt + verify one signcrypt (on the worker pool when it is running). Rejects like openSigncrypt. */
  decrypt(job: DecryptJob): Promise<OpenedSigncrypt>;
  /** Whether a peer is on the clinic's domain (the policy's server, else our own): nothing else is sent to or accepted from. */
  peerAllowed(jid: string): boolean;
  /** A new verified message arrived live (the session decides what it shows: MessagingOptions.onLiveMessage). */
  announceLive(m: Message, peer: string): void;
  /** The user has this conversation in view (and the session is open): inbound messages are stored read. */
  inView(conversationId: string): boolean;
  /** Inbound messages of a conversation in view were stored read: tell the sender (XEP-0333). */
  readOnArrival(conversationId: string): void;
  /** Care-team rooms (issue 18, rooms.ts); set once the parts are built. */
  rooms?: Rooms;
}
