/**
 * Attachments (migration 0011): the row of each file a message carries, its XEP-0448 key material
 * (kept only here, in the SQLCipher database) and where its plaintext sits in the profile's
 * encrypted file store. Names are PHI-adjacent: never logged.
 */
import type { Attachment, AttachmentState } from '../../../common/contract/domain';
import type { Clock } from '../../clock';
import { parseId } from '../ids';
import type { Db } from '../open-db';
import type { AttachmentRepo, AttachmentUpdate, NewAttachment, StoredAttachment } from '../types';

interface Row {
  id: number;
  message_id: number;
  direction: 'in' | 'out';
  name: string;
  media_type: string;
  size: number;
  sha256: Buffer | null;
  cipher_sha256: Buffer | null;
  file_key: Buffer | null;
  file_iv: Buffer | null;
  url: string | null;
  state: AttachmentState;
  failure: string | null;
  local_file_id: string | null;
  thumbnail: Buffer | null;
  thumbnail_type: string | null;
  thumbnail_width: number | null;
  thumbnail_height: number | null;
  created_at: number;
  updated_at: number;
}

const toStored = (r: Row): StoredAttachment => ({
  id: String(r.id),
  messageId: String(r.message_id),
  direction: r.direction,
  name: r.name,
  mediaType: r.media_type,
  size: r.size,
  state: r.state,
  failure: r.failure,
  sha256: r.sha256,
  cipherSha256: r.cipher_sha256,
  key: r.file_key,
  iv: r.file_iv,
  url: r.url,
  localFileId: r.local_file_id,
  thumbnail:
    r.thumbnail && r.thumbnail_type
      ? {
          mediaType: r.thumbnail_type,
          width: r.thumbnail_width ?? 0,
          height: r.thumbnail_height ?? 0,
          data: r.thumbnail,
        }
      : null,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** What the renderer may see of a row: no key, no address, no hash. */
export function toAttachment(a: StoredAttachment): Attachment {
  return {
    id: a.id,
    messageId: a.messageId,
    direction: a.direction,
    name: a.name,
    mediaType: a.mediaType,
    size: a.size,
    state: a.state,
    failure: a.failure,
    hasThumbnail: a.thumbnail !== null,
    local: a.localFileId !== null && (a.state === 'stored' || a.direction === 'out'),
  };
}

const buf = (u: Uint8Array | null | undefined): Buffer | null => (u ? Buffer.from(u) : null);

/** Columns an update may set (AttachmentUpdate key → column). */
const COLUMNS: Record<keyof AttachmentUpdate, string> = {
  state: 'state',
  failure: 'failure',
  size: 'size',
  sha256: 'sha256',
  cipherSha256: 'cipher_sha256',
  key: 'file_key',
  iv: 'file_iv',
  url: 'url',
  localFileId: 'local_file_id',
};

export function createAttachmentRepo(db: Db, clock: Pick<Clock, 'now'>): AttachmentRepo {
  const insert = db.prepare(
    `INSERT INTO attachments (message_id, direction, name, media_type, size, sha256, cipher_sha256, file_key, file_iv,
       url, state, failure, local_file_id, thumbnail, thumbnail_type, thumbnail_width, thumbnail_height, created_at, updated_at)
     VALUES (@message_id, @direction, @name, @media_type, @size, @sha256, @cipher_sha256, @file_key, @file_iv,
       @url, @state, @failure, @local_file_id, @thumbnail, @thumbnail_type, @thumbnail_width, @thumbnail_height, @now, @now)
     ON CONFLICT (message_id) DO NOTHING`,
  );
  const byId = db.prepare<[number], Row>('SELECT * FROM attachments WHERE id = ?');
  const byMessage = db.prepare<[number], Row>('SELECT * FROM attachments WHERE message_id = ?');
  const ofConversation = db.prepare<[number], Row>(
    `SELECT a.* FROM attachments a JOIN messages m ON m.id = a.message_id WHERE m.conversation_id = ? ORDER BY a.id`,
  );
  const localIds = db.prepare<[], { local_file_id: string }>(
    'SELECT local_file_id FROM attachments WHERE local_file_id IS NOT NULL',
  );
  const inState = db.prepare<[string], Row>('SELECT * FROM attachments WHERE state = ? ORDER BY id');
  const updates = new Map<string, ReturnType<Db['prepare']>>();
  const get = (id: string): StoredAttachment | undefined => {
    const n = parseId(id);
    const row = n === null ? undefined : byId.get(n);
    return row ? toStored(row) : undefined;
  };

  return {
    add(a: NewAttachment, now = clock.now()) {
      const messageId = parseId(a.messageId);
      if (messageId === null) throw new RangeError('attachment of an unknown message');
      const info = insert.run({
        message_id: messageId,
        direction: a.direction,
        name: a.name,
        media_type: a.mediaType,
        size: a.size,
        sha256: buf(a.sha256),
        cipher_sha256: buf(a.cipherSha256),
        file_key: buf(a.key),
        file_iv: buf(a.iv),
        url: a.url ?? null,
        state: a.state,
        failure: a.failure ?? null,
        local_file_id: a.localFileId ?? null,
        thumbnail: buf(a.thumbnail?.data),
        thumbnail_type: a.thumbnail?.mediaType ?? null,
        thumbnail_width: a.thumbnail?.width ?? null,
        thumbnail_height: a.thumbnail?.height ?? null,
        now,
      });
      const row = info.changes > 0 ? byId.get(Number(info.lastInsertRowid)) : byMessage.get(messageId);
      return toStored(row!);
    },
    get,
    byMessage(messageId) {
      const n = parseId(messageId);
      const row = n === null ? undefined : byMessage.get(n);
      return row ? toStored(row) : undefined;
    },
    ofConversation(conversationId) {
      const n = parseId(conversationId);
      return n === null ? [] : ofConversation.all(n).map(toStored);
    },
    inState: (state) => inState.all(state).map(toStored),
    update(id, change, now = clock.now()) {
      const n = parseId(id);
      if (n === null) return undefined;
      const keys = (Object.keys(change) as (keyof AttachmentUpdate)[]).filter((k) => change[k] !== undefined);
      const sig = keys.join(',');
      let stmt = updates.get(sig);
      if (!stmt) {
        const sets = keys.map((k) => `${COLUMNS[k]} = @${k}`).join(', ');
        stmt = db.prepare(`UPDATE attachments SET ${sets}${sets ? ', ' : ''}updated_at = @now WHERE id = @id`);
        updates.set(sig, stmt);
      }
      const params: Record<string, unknown> = { id: n, now };
      for (const k of keys) {
        const v = change[k];
        params[k] = v instanceof Uint8Array ? Buffer.from(v) : v;
      }
      stmt.run(params);
      return get(id);
    },
    localFileIds: () => new Set(localIds.all().map((r) => r.local_file_id)),
  };
}
