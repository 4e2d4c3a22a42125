/**
 * The contract's names without its schemas: what the preload needs to build `window.clinic`
 * (preload/index.ts, common/client-api.ts). Importing the zod contract there bundled all of zod
 * into the sandboxed preload (460 KB); validation happens in main (main/ipc/router.ts) anyway.
 * common/ipc-contract.ts proves at compile time that these lists and the schema maps have exactly
 * the same names, and test/unit/contract-names.test.ts checks it at run time.
 */
export const CHANNEL_NAMES = [
  'app:info',
  'app:activity',
  'app:connection',
  'app:updateStatus',
  'vault:status',
  'vault:listProfiles',
  'vault:createProfile',
  'vault:unlock',
  'vault:lock',
  'vault:switchUser',
  'vault:removeProfile',
  'vault:changePassphrase',
  'account:me',
  'account:keyBackup',
  'conversations:list',
  'conversations:open',
  'conversations:markRead',
  'conversations:markUnread',
  'conversations:view',
  'messages:page',
  'messages:around',
  'messages:send',
  'messages:retry',
  'messages:edit',
  'messages:delete',
  'attachments:send',
  'attachments:list',
  'attachments:download',
  'attachments:read',
  'drafts:get',
  'drafts:set',
  'patients:send',
  'patients:list',
  'messages:search',
  'contacts:directory',
  'contacts:get',
  'contacts:verify',
  'contacts:acceptKeyChange',
  'contacts:safetyNumber',
  'settings:get',
  'settings:update',
  'policy:get',
  'audit:list',
  'audit:verify',
  'audit:exportCsv',
  'audit:anchoring',
] as const;

export const EVENT_NAMES = [
  'session:locked',
  'session:unlocked',
  'session:wiped',
  'session:idleWarning',
  'connection:state',
  'message:added',
  'message:updated',
  'conversation:updated',
  'attachment:updated',
  'attachment:progress',
  'patient:updated',
  'contact:updated',
  'presence:changed',
  'sync:progress',
  'notification:shown',
  'policy:changed',
  'ui:openConversation',
] as const;

/** Transport names used by Electron IPC and the harness WebSocket. */
export const EVENT_TRANSPORT_CHANNEL = 'clinic:event';
