/**
 * Messaging over XMPP (ARCHITECTURE.md §6, PROTOCOL.md): connection, directory, OpenPGP keys
 * (XEP-0373), messages (XEP-0374), durable outbox and catch-up. One instance per unlock.
 *
 * messaging.ts composes: transport/connection.ts (+ socket-guard, stream-management, tls-trust), directory.ts,
 * account-key.ts (our key: generate, restore from backup, publish), pep-keys.ts (PEP I/O),
 * trust.ts (contacts' keys), caps.ts (entity caps, live key-list notices), inbound.ts,
 * outbox.ts (+ origin-id.ts), catch-up.ts (MAM).
 */
export type { AccountConfig, Messaging, MessagingOptions } from './types';
export { createMessaging } from './messaging';
