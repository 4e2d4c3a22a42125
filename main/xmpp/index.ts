/**
 * Messaging over XMPP (ARCHITECTURE.md §6, PROTOCOL.md): connection, directory, OpenPGP keys
 * (XEP-0373), messages (XEP-0374), durable outbox and catch-up. One instance per unlock.
 *
 * messaging.ts composes: lifecycle.ts (start, stop, reconnect over transport/connection.ts: its
 * state machine, socket-guard, stream-management, tls-trust, lib-patches), session-setup.ts (fresh session vs resumed), directory.ts,
 * account-key.ts (our key: generate, restore from backup, publish), pep-keys.ts (PEP I/O),
 * trust.ts (contacts' keys; key-status.ts: who has published one at all), caps.ts (entity caps, live key-list notices), decrypt.ts (the decrypt
 * workers), stanza-router.ts → inbound.ts (live) and catch-up.ts (MAM), both through receive.ts,
 * and outbox.ts (+ outbox-send.ts, origin-id.ts).
 */
export type { AccountConfig, Messaging, MessagingOptions } from './types';
export { createMessaging } from './messaging';
export { checkAdminCommands, type AdminCheckResult } from './admin-check';
export type { AdminCommandText, AdminCommandVia } from './admin-commands';
export { fetchLeaseOnce, readLease, writeLease, type LeaseFetchResult } from './lease-storage';
