/**
 * Everything outside the renderer that locks the session (ARCHITECTURE.md §4): OS screen lock
 * (when policy.lockOnOsLock), suspend (always: a sleeping laptop may be carried off), and the
 * Ctrl+L accelerator in the application menu (window-scoped, not a global shortcut).
 */
import type { Menu as MenuType, MenuItemConstructorOptions, PowerMonitor } from 'electron';
import type { LockReason } from '../../common/ipc-contract';

export type LockFn = (reason: LockReason) => void;

export function installPowerLockTriggers(
  powerMonitor: Pick<PowerMonitor, 'on'>,
  lock: LockFn,
  opts: { lockOnOsLock: boolean },
): void {
  powerMonitor.on('lock-screen', () => {
    if (opts.lockOnOsLock) lock('os-lock');
  });
  powerMonitor.on('suspend', () => lock('suspend'));
}

const LOCK_ACCELERATOR = 'CmdOrCtrl+L';

export function appMenuTemplate(opts: {
  lock: LockFn;
  quit: () => void;
  isDevelopment: boolean;
  isMac: boolean;
}): MenuItemConstructorOptions[] {
  const session: MenuItemConstructorOptions = {
    label: opts.isMac ? 'Clinic Messenger' : 'File',
    submenu: [
      { id: 'lock', label: 'Lock', accelerator: LOCK_ACCELERATOR, click: () => opts.lock('manual') },
      { type: 'separator' },
      { id: 'quit', label: 'Quit', accelerator: 'CmdOrCtrl+Q', click: () => opts.quit() },
    ],
  };
  // Edit roles keep copy/paste working on macOS, where they are bound through the menu.
  const edit: MenuItemConstructorOptions = {
    label: 'Edit',
    submenu: [
      { role: 'undo' },
      { role: 'redo' },
      { type: 'separator' },
      { role: 'cut' },
      { role: 'copy' },
      { role: 'paste' },
      { role: 'selectAll' },
    ],
  };
  const view: MenuItemConstructorOptions = {
    label: 'View',
    submenu: [
      { role: 'resetZoom' },
      { role: 'zoomIn' },
      { role: 'zoomOut' },
      ...(opts.isDevelopment ? [{ role: 'toggleDevTools' } as const] : []),
    ],
  };
  return [session, edit, view];
}

export function installAppMenu(
  Menu: Pick<typeof MenuType, 'buildFromTemplate' | 'setApplicationMenu'>,
  template: MenuItemConstructorOptions[],
): void {
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}
