/**
 * Message references (issue 12 §6, XEP-0461 replies): `messages.reply_to_origin_id` is the
 * origin-id of the message a reply answers, as the signed payload named it. It is resolved only
 * within the reply's own conversation when read (repos/message-reads.ts), so a reference to any
 * other conversation's message simply finds nothing.
 */
import type { Db } from '../open-db';

export function migrate0008MessageRefs(db: Db): void {
  db.exec(`ALTER TABLE messages ADD COLUMN reply_to_origin_id TEXT;`);
}
