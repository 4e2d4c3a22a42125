/**
 * Messaging over XMPP (ARCHITECTURE.md §6, PROTOCOL.md): connection, directory, OpenPGP keys
 * (XEP-0373), messages (XEP-0374), durable outbox and catch-up. One instance per unlock.
 */
export type { AccountConfig, Messaging, MessagingOptions } from './types';
export { createMessaging } from './messaging';
