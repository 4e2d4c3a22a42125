/**
 * Per-profile user settings, kept in the encrypted store. The managed policy is a ceiling: users
 * may shorten the lock timeout and show less in notifications, never the other way
 * (ARCHITECTURE.md §7: users can tighten, never loosen).
 */
import { ownPresence, type OwnPresence } from '../../common/ipc-contract';
import { AppError } from '../../common/result';
import type { Policy } from '../policy/schema';
import type { Store } from '../store';
import { PREVIEW_ORDER, stricterPreview as stricter } from './notifications';
import type { EffectiveSettings, SettingsChange } from './types';

const KEY = 'settings';

type Stored = Partial<EffectiveSettings>;

/** Stored settings clamped to today's policy (the policy may have tightened since they were saved). */
export function readSettings(store: Store, policy: Policy): EffectiveSettings {
  const s = store.getSetting<Stored>(KEY) ?? {};
  const timeout =
    typeof s.lockTimeoutMinutes === 'number' && s.lockTimeoutMinutes > 0
      ? s.lockTimeoutMinutes
      : policy.lockTimeoutMaxMinutes;
  const preview =
    s.notificationPreview && s.notificationPreview in PREVIEW_ORDER
      ? s.notificationPreview
      : policy.notificationPreview;
  return {
    lockTimeoutMinutes: Math.min(timeout, policy.lockTimeoutMaxMinutes),
    notificationPreview: stricter(preview, policy.notificationPreview),
    theme: s.theme === 'light' || s.theme === 'dark' ? s.theme : 'system',
    sound: s.sound !== false,
    mutedConversations: Array.isArray(s.mutedConversations) ? s.mutedConversations : [],
    presence: ownPresence.safeParse(s.presence).data ?? AVAILABLE,
  };
}

const AVAILABLE: OwnPresence = { show: 'available', status: '' };
/** How many conversations can be muted: a bound on what one settings row holds. */
const MAX_MUTED = 1_000;

function applyMute(list: string[], m: { conversationId: string; muted: boolean }): string[] {
  const rest = list.filter((id) => id !== m.conversationId);
  if (!m.muted) return rest;
  if (rest.length >= MAX_MUTED)
    throw new AppError('TOO_LARGE', `At most ${MAX_MUTED} conversations can be muted; unmute one first.`);
  return [...rest, m.conversationId];
}

/** Saves a change; FORBIDDEN (nothing saved) when it would loosen the policy. Returns the new effective settings. */
export function writeSettings(store: Store, policy: Policy, change: SettingsChange): EffectiveSettings {
  if (change.lockTimeoutMinutes !== undefined && change.lockTimeoutMinutes > policy.lockTimeoutMaxMinutes) {
    throw new AppError(
      'FORBIDDEN',
      `The clinic policy locks the app after at most ${policy.lockTimeoutMaxMinutes} minutes; choose that or less.`,
      {
        maxLockTimeoutMinutes: policy.lockTimeoutMaxMinutes,
      },
    );
  }
  if (
    change.notificationPreview !== undefined &&
    PREVIEW_ORDER[change.notificationPreview] > PREVIEW_ORDER[policy.notificationPreview]
  ) {
    throw new AppError(
      'FORBIDDEN',
      `The clinic policy allows notification previews up to "${policy.notificationPreview}".`,
      {
        maxNotificationPreview: policy.notificationPreview,
      },
    );
  }
  const before = store.getSetting<Stored>(KEY) ?? {};
  const next: Stored = { ...before };
  if (change.lockTimeoutMinutes !== undefined) next.lockTimeoutMinutes = change.lockTimeoutMinutes;
  if (change.notificationPreview !== undefined) next.notificationPreview = change.notificationPreview;
  if (change.theme !== undefined) next.theme = change.theme;
  if (change.sound !== undefined) next.sound = change.sound;
  if (change.mute !== undefined)
    next.mutedConversations = applyMute(readSettings(store, policy).mutedConversations, change.mute);
  if (change.presence !== undefined) next.presence = ownPresence.parse(change.presence);
  store.setSetting(KEY, next);
  return readSettings(store, policy);
}
