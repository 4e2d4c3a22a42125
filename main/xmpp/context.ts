/** What the messaging parts share: the options, the live connection, our identity, and event helpers. */
import type { Message } from '../../common/contract/domain';
import type { Clock } from '../clock';
import type { DecryptJob, Identity, OpenedSigncrypt } from '../crypto';
import type { XmppConnection } from './connection';
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
  /** A new verified message arrived live: OS notification per policy preview. */
  notify(m: Message, peer: string): void;
}
