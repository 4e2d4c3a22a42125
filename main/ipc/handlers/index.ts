import type { HandlerMap } from '../router';
import { appHandlers } from './app';
import type { HandlerContext } from './context';

/** The explicit channel → handler map. Each domain contributes its own slice. */
export function createHandlers(ctx: HandlerContext): HandlerMap {
  return {
    ...appHandlers(ctx),
  } as HandlerMap;
}
