import type { HandlerMap } from '../router';
import { appHandlers } from './app';
import { auditHandlers } from './audit';
import { conversationHandlers } from './conversations';
import { messageReadHandlers } from './messages-read';
import type { HandlerContext } from './context';
import { vaultHandlers } from './vault';
import { settingsHandlers } from './settings';
import { accountHandlers } from './account';
import { policyHandlers } from './policy';
import { messageSendHandlers } from './messages-send';
import { contactHandlers } from './contacts';
import { draftHandlers } from './drafts';
import { attachmentHandlers } from './attachments';
import { patientHandlers } from './patients';
import { plainSmsHandlers } from './patient-plain-sms';

/** The explicit channel → handler map. Each domain contributes its own slice. */
export function createHandlers(ctx: HandlerContext): HandlerMap {
  return {
    ...appHandlers(ctx),
    ...vaultHandlers(ctx),
    ...settingsHandlers(ctx),
    ...accountHandlers(ctx),
    ...policyHandlers(ctx),
    ...conversationHandlers(ctx),
    ...messageReadHandlers(ctx),
    ...auditHandlers(ctx),
    ...messageSendHandlers(ctx),
    ...contactHandlers(ctx),
    ...draftHandlers(ctx),
    ...attachmentHandlers(ctx),
    ...patientHandlers(ctx),
    ...plainSmsHandlers(ctx),
  };
}
