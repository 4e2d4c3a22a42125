/**
 * openpgp's typings take their stream types from '@openpgp/web-stream-tools', an optional peer
 * dependency this app does not install (it hands openpgp whole Uint8Arrays, never streams).
 * Unresolved, those types made every openpgp.encrypt/decrypt/readMessage result an error type,
 * which the type-aware lint reports as unsafe (issue 11 item 8). Node's web streams stand in.
 */
declare module '@openpgp/web-stream-tools' {
  import type { ReadableStream } from 'node:stream/web';
  export type WebStream<T> = ReadableStream<T>;
  export type NodeWebStream<T> = ReadableStream<T>;
}
