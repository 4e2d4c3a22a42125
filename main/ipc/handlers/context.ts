import type { ChannelName } from '../../../common/ipc-contract';
import type { EventBus } from '../../events';
import type { Logger } from '../../log';
import type { LoadedPolicy } from '../../policy/load';
import type { Session } from '../../session/types';
import type { UpdateStatusHolder } from '../../update/status';
import type { HandlerMap } from '../router';

export interface AppInfo {
  name: string;
  version: string;
  platform: string;
  harness: boolean;
}

/** What every domain's handlers may touch. Built once in createAppCore. */
export interface HandlerContext {
  app: AppInfo;
  session: Session;
  events: EventBus;
  policy: LoadedPolicy;
  logger: Logger;
  /** The last update decision (main/electron/updater.ts sets it); absent outside Electron. */
  updates?: UpdateStatusHolder;
}

/** A domain contributes the handlers for a subset of channels. */
export type DomainHandlers<C extends ChannelName> = Pick<HandlerMap, C>;
