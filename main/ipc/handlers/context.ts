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
  /**
   * Where to save an exported file (attachments:export): the system's save dialog in Electron, a
   * test's folder in the harness; null when the person cancelled. Absent: saving is not available.
   */
  chooseSavePath?: (suggestedName: string) => Promise<string | null>;
  /**
   * Hands a file to the system's default app for its type (attachments:openExternally): Electron's
   * shell.openPath; rejects when no app could open it. Absent: opening in another app is not available.
   */
  openExternally?: (path: string) => Promise<void>;
  /**
   * Starts the system's drag of a file out of the window (attachments:dragOut): Electron's
   * webContents.startDrag. Absent: dragging files out is not available.
   */
  startDrag?: (path: string) => Promise<void>;
}

/** A domain contributes the handlers for a subset of channels. */
export type DomainHandlers<C extends ChannelName> = Pick<HandlerMap, C>;
