/** Attachment metadata; the blobs live encrypted under the profile's attachments/ folder. */
import { AppError } from '../../../common/result';
import { parseId } from '../ids';
import type { Clock } from '../../clock';
import type { Db } from '../open-db';
import type { AttachmentRepo, AttachmentRow, NewAttachment } from '../types';

interface Row {
  id: number;
  message_id: number;
  file_name: string;
  mime: string;
  size: number;
  sha256: string;
  local_path: string | null;
  url: string | null;
  key: Buffer;
  created_at: number;
}

const toRow = (r: Row): AttachmentRow => ({
  id: String(r.id),
  messageId: String(r.message_id),
  fileName: r.file_name,
  mime: r.mime,
  size: r.size,
  sha256: r.sha256,
  localPath: r.local_path,
  url: r.url,
  key: new Uint8Array(r.key),
  createdAt: r.created_at,
});

export function createAttachmentRepo(db: Db, clock: Pick<Clock, 'now'>): AttachmentRepo {
  const add = db.prepare<[number, string, string, number, string, string | null, string | null, Buffer, number]>(
    `INSERT INTO attachments (message_id, file_name, mime, size, sha256, local_path, url, key, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const get = db.prepare<[number], Row>('SELECT * FROM attachments WHERE id = ?');
  const forMessage = db.prepare<[number], Row>('SELECT * FROM attachments WHERE message_id = ? ORDER BY id');
  const setPath = db.prepare<[string | null, number]>('UPDATE attachments SET local_path = ? WHERE id = ?');
  const remove = db.prepare<[number]>('DELETE FROM attachments WHERE id = ?');
  return {
    add(a: NewAttachment, now = clock.now()) {
      const mid = parseId(a.messageId);
      if (mid === null) throw new AppError('NOT_FOUND', 'No such message.');
      const info = add.run(mid, a.fileName, a.mime, a.size, a.sha256, a.localPath, a.url, Buffer.from(a.key), now);
      return toRow(get.get(Number(info.lastInsertRowid))!);
    },
    get(id) {
      const n = parseId(id);
      const r = n === null ? undefined : get.get(n);
      return r ? toRow(r) : undefined;
    },
    forMessage(messageId) {
      const n = parseId(messageId);
      return n === null ? [] : forMessage.all(n).map(toRow);
    },
    setLocalPath(id, localPath) {
      const n = parseId(id);
      if (n !== null) setPath.run(localPath, n);
    },
    remove(id) {
      const n = parseId(id);
      if (n !== null) remove.run(n);
    },
  };
}
