/**
 * Tray icon with the unread count, and OS notifications for what main decided to show
 * ('notification:shown' is already stripped of PHI per policy.notificationPreview).
 * Clicking a notification brings the window up and emits 'ui:openConversation'.
 */
import type { App, Menu as MenuType, NativeImage, Notification as NotificationType, Tray as TrayType } from 'electron';
import type { EventPayload } from '../../common/ipc-contract';
import type { EventBus } from '../events';
import type { LockFn } from './lock-triggers';

export interface TrayDeps {
  Tray: new (image: NativeImage | string) => Pick<TrayType, 'setToolTip' | 'setContextMenu' | 'on' | 'destroy'>;
  Menu: Pick<typeof MenuType, 'buildFromTemplate'>;
  Notification: (new (opts: {
    title: string;
    body: string;
    silent?: boolean;
    urgency?: 'normal' | 'critical' | 'low';
  }) => Pick<NotificationType, 'on' | 'show' | 'close'>) & {
    isSupported(): boolean;
  };
  app: Pick<App, 'setBadgeCount'>;
  icon: NativeImage | string;
}

export interface TrayOptions {
  events: EventBus;
  showWindow: () => void;
  lock: LockFn;
  quit: () => void;
}

function unreadLabel(total: number): string {
  return total > 0 ? `Clinic Messenger — ${total} unread` : 'Clinic Messenger';
}

/** Returns a disposer. */
export function installTrayAndNotifications(deps: TrayDeps, opts: TrayOptions): () => void {
  const tray = new deps.Tray(deps.icon);
  tray.setContextMenu(
    deps.Menu.buildFromTemplate([
      { label: 'Open Clinic Messenger', click: () => opts.showWindow() },
      { label: 'Lock', click: () => opts.lock('manual') },
      { type: 'separator' },
      { label: 'Quit', click: () => opts.quit() },
    ]),
  );
  tray.on('click', () => opts.showWindow());

  const unread = new Map<string, number>();
  // Keep shown notifications referenced: a garbage-collected Notification loses its click handler.
  // By conversation: once it has nothing unread (read here, or on another of the person's
  // workstations: read sync), its notifications are stale and close.
  const shown = new Map<Pick<NotificationType, 'on' | 'show' | 'close'>, string>();
  const render = () => {
    let total = 0;
    for (const n of unread.values()) total += n;
    tray.setToolTip(unreadLabel(total));
    deps.app.setBadgeCount(total);
  };
  render();

  // Second line of defence (the decision itself is main/session/notifications.ts): from
  // 'session:locked' until the next unlock no OS notification is shown, whatever is emitted.
  let locked = false;
  const unsubscribe = opts.events.subscribe((name, payload) => {
    if (name === 'session:unlocked') locked = false;
    else if (name === 'conversation:updated') {
      const c = payload as { id: string; unread: number };
      unread.set(c.id, c.unread);
      render();
      if (c.unread === 0) for (const [n, id] of shown) if (id === c.id) n.close();
    } else if (name === 'session:locked') {
      // Locked: nothing derived from the open profile stays on screen, notifications included.
      locked = true;
      unread.clear();
      render();
      for (const n of shown.keys()) n.close();
      shown.clear();
    } else if (name === 'notification:shown' && !locked && deps.Notification.isSupported()) {
      const { conversationId, title, body, urgent, silent } = payload as EventPayload<'notification:shown'>;
      // Urgent (issue 12 §7): the OS keeps it on screen ('critical' where the platform has it).
      const n = new deps.Notification({
        title,
        body,
        silent: silent === true,
        ...(urgent ? { urgency: 'critical' as const } : {}),
      });
      shown.set(n, conversationId);
      n.on('click', () => {
        opts.showWindow();
        opts.events.emit('ui:openConversation', { conversationId });
      });
      n.on('close', () => shown.delete(n));
      n.show();
    }
  });
  return () => {
    unsubscribe();
    tray.destroy();
  };
}
