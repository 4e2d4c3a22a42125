/**
 * The slice of @xmpp/client 0.14 (untyped JavaScript) that main/xmpp/ uses. Kept narrow on
 * purpose: every member here is one we rely on, checked against node_modules/@xmpp/*.
 */
declare module '@xmpp/client' {
  import type { EventEmitter } from 'node:events';

  export interface XmlElement {
    name: string;
    attrs: Record<string, string | undefined>;
    children: (XmlElement | string)[];
    parent?: XmlElement;
    is(name: string, xmlns?: string): boolean;
    getChild(name: string, xmlns?: string): XmlElement | undefined;
    getChildren(name: string, xmlns?: string): XmlElement[];
    getChildText(name: string, xmlns?: string): string | null;
    getChildElements(): XmlElement[];
    getText(): string;
    text(): string;
    append(...children: (XmlElement | string)[]): XmlElement;
    toString(): string;
    clone(): XmlElement;
  }

  export function xml(
    name: string,
    attrs?: Record<string, string | number | undefined> | null,
    ...children: (XmlElement | string | null | undefined | false)[]
  ): XmlElement;

  export interface Jid {
    local: string;
    domain: string;
    resource: string;
    bare(): Jid;
    toString(): string;
  }
  export function jid(s: string): Jid;

  export interface StreamManagement extends EventEmitter {
    enabled: boolean;
    enableSent: boolean;
    id: string;
    inbound: number;
    outbound: number;
    outbound_q: { stanza: XmlElement; stamp: string }[];
    timeout: number;
    requestAckInterval: number;
    requestAckDebounce: number;
  }

  export interface IqCaller {
    handlers: Map<string, unknown>;
    request(stanza: XmlElement, timeoutMs?: number): Promise<XmlElement>;
  }

  export interface IqCallee {
    /**
     * The handler's truthy return becomes an IQ result (an element: its child); an <error/>
     * element becomes an IQ error; falsy → service-unavailable. `element` is the query child.
     */
    set(ns: string, name: string, handler: (ctx: { stanza: XmlElement; element: XmlElement }) => unknown): void;
    get(ns: string, name: string, handler: (ctx: { stanza: XmlElement; element: XmlElement }) => unknown): void;
  }

  export interface Reconnect extends EventEmitter {
    delay: number;
    start(): void;
    stop(): void;
  }

  export type Status =
    | 'offline'
    | 'connecting'
    | 'connect'
    | 'opening'
    | 'open'
    | 'online'
    | 'closing'
    | 'close'
    | 'disconnecting'
    | 'disconnect';

  export type Authenticate = (
    credentials: { username: string; password: string },
    mechanism: string,
    userAgent?: XmlElement,
  ) => Promise<void>;

  export interface Client extends EventEmitter {
    status: Status;
    jid: Jid | null;
    socket: unknown;
    options: { service: string; domain: string; lang?: string };
    reconnect: Reconnect;
    streamManagement: StreamManagement;
    iqCaller: IqCaller;
    iqCallee: IqCallee;
    timeout: number;
    isSecure(): boolean;
    start(): Promise<Jid>;
    stop(): Promise<unknown>;
    connect(service: string): Promise<void>;
    open(opts: { domain: string; lang?: string }): Promise<void>;
    disconnect(): Promise<unknown>;
    send(el: XmlElement): Promise<void>;
    sendMany(els: XmlElement[]): Promise<void>;
    socketParameters(service: string): Record<string, unknown> | undefined;
  }

  export function client(opts: {
    service: string;
    domain: string;
    resource?: string;
    credentials?: (authenticate: Authenticate, mechanisms: string[], fast: unknown, entity: Client) => Promise<void>;
  }): Client;
}

declare module 'sasl-scram-sha-1/lib/bitops.js' {
  /** RFC 5802's Hi and its helpers, as the SCRAM-SHA-1 mechanism calls them (transport/lib-patches.ts replaces Hi). */
  const bitops: { Hi(text: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> };
  export default bitops;
}

declare module '@xmpp/tls/lib/Socket.js' {
  /** The TLS socket wrapper STARTTLS builds per upgrade (transport/lib-patches.ts patches its connect). */
  export default class Socket {
    connect(...args: unknown[]): unknown;
  }
}
