/**
 * The slice of @xmpp/component 0.13 (untyped JavaScript) the gateway uses, checked against
 * node_modules/@xmpp/component and its @xmpp/component-core, iq and xml.
 */
declare module '@xmpp/component' {
  import type { EventEmitter } from 'node:events';

  export interface XmlElement {
    name: string;
    attrs: Record<string, string | undefined>;
    children: (XmlElement | string)[];
    is(name: string, xmlns?: string): boolean;
    getChild(name: string, xmlns?: string): XmlElement | undefined;
    getChildren(name: string, xmlns?: string): XmlElement[];
    getChildText(name: string, xmlns?: string): string | null;
    getChildElements(): XmlElement[];
    text(): string;
    toString(): string;
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

  export interface IqCallee {
    /**
     * The handler's element becomes the IQ result's child; an <error/> element an IQ error
     * (with the query echoed); a throw an internal-server-error; falsy service-unavailable.
     */
    set(
      ns: string,
      name: string,
      handler: (ctx: { stanza: XmlElement; element: XmlElement; from: Jid }) => unknown,
    ): void;
    get(
      ns: string,
      name: string,
      handler: (ctx: { stanza: XmlElement; element: XmlElement; from: Jid }) => unknown,
    ): void;
  }

  export interface Reconnect extends EventEmitter {
    delay: number;
    stop(): void;
  }

  export interface Component extends EventEmitter {
    status: string;
    jid: Jid | null;
    reconnect: Reconnect;
    iqCallee: IqCallee;
    start(): Promise<Jid>;
    stop(): Promise<unknown>;
    send(el: XmlElement): Promise<void>;
  }

  export function component(opts: { service: string; domain: string; password: string }): Component;
}
