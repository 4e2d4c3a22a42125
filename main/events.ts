/** Typed main → renderer event bus. Transports (Electron IPC, harness WebSocket) subscribe to it. */
import { events, type EventName, type EventPayload } from '../common/ipc-contract';
import type { Logger } from './log';

export type EventListener = (name: EventName, payload: unknown) => void;

export interface EventBus {
  emit<E extends EventName>(name: E, payload: EventPayload<E>): void;
  subscribe(listener: EventListener): () => void;
}

export function createEventBus(logger: Logger): EventBus {
  const listeners = new Set<EventListener>();
  return {
    emit(name, payload) {
      const parsed = events[name].safeParse(payload);
      if (!parsed.success) {
        logger.error('event payload does not match the contract', { event: name });
        return;
      }
      for (const l of listeners) l(name, parsed.data);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
