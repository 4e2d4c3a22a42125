/**
 * XEP-0363 HTTP File Upload, the XMPP half: find the server's upload service by service discovery
 * (XEP-0030: the domain's items, the one whose info has identity store/file and the upload
 * feature) and ask it for a slot. The slot request names a random file and
 * application/octet-stream: what the server stores is ciphertext, and its name and type would
 * otherwise tell the server what the file is. The HTTPS half is main/attachments/upload.ts.
 */
import { randomUUID } from 'node:crypto';
import { xml, type XmlElement } from '@xmpp/client';
import { TransferError } from '../attachments/transfer-error';
import { findService, type IqCall } from './disco';
import type { UploadSlot } from '../attachments/upload';

export const NS_UPLOAD = 'urn:xmpp:http:upload:0';
const NS_DATA = 'jabber:x:data';

export type { IqCall };

export interface UploadService {
  jid: string;
  /** The service's max-file-size (XEP-0363 §2), null when it announces none. */
  maxFileSize: number | null;
}

const condition = (err: unknown): string | undefined => (err as { condition?: string } | null)?.condition;

function maxFileSizeOf(query: XmlElement): number | null {
  for (const form of query.getChildren('x', NS_DATA)) {
    const fields = form.getChildren('field');
    const type = fields.find((f) => f.attrs.var === 'FORM_TYPE')?.getChildText('value');
    if (type !== NS_UPLOAD) continue;
    const v = fields.find((f) => f.attrs.var === 'max-file-size')?.getChildText('value') ?? '';
    return /^\d{1,15}$/.test(v) ? Number(v) : null;
  }
  return null;
}

/** The domain's upload service (identity store/file with the upload feature), or null when the server offers none. */
export function findUploadService(iq: IqCall, domain: string): Promise<UploadService | null> {
  return findService(iq, domain, (jid, query) => {
    const isStore = query.getChildren('identity').some((i) => i.attrs.category === 'store' && i.attrs.type === 'file');
    const speaks = query.getChildren('feature').some((f) => f.attrs.var === NS_UPLOAD);
    return isStore && speaks ? { jid, maxFileSize: maxFileSizeOf(query) } : null;
  });
}

/** XEP-0363 §4: the only headers a client passes on, with newlines removed. */
const PASSED_HEADERS = new Set(['authorization', 'cookie', 'expires']);

export function slotFromReply(res: XmlElement): UploadSlot {
  const slot = res.getChild('slot', NS_UPLOAD);
  const putUrl = slot?.getChild('put')?.attrs.url;
  const getUrl = slot?.getChild('get')?.attrs.url;
  if (typeof putUrl !== 'string' || typeof getUrl !== 'string') throw new TransferError('refused', 'no slot');
  const headers: Record<string, string> = {};
  for (const h of slot?.getChild('put')?.getChildren('header') ?? []) {
    const name = String(h.attrs.name ?? '').toLowerCase();
    if (PASSED_HEADERS.has(name)) headers[name] = h.text().replace(/[\r\n]/g, '');
  }
  return { putUrl, getUrl, headers };
}

/** Asks `service` for a slot of `size` bytes; the server's refusals become TransferErrors. */
export async function requestUploadSlot(iq: IqCall, service: UploadService, size: number): Promise<UploadSlot> {
  if (service.maxFileSize !== null && size > service.maxFileSize) throw new TransferError('too-large');
  const request = xml('request', {
    xmlns: NS_UPLOAD,
    filename: `${randomUUID()}.bin`,
    size: String(size),
    'content-type': 'application/octet-stream',
  });
  let res: XmlElement;
  try {
    res = await iq(xml('iq', { type: 'get', to: service.jid }, request));
  } catch (err) {
    const c = condition(err);
    if (c === 'not-acceptable') throw new TransferError('too-large');
    if (c === 'resource-constraint') throw new TransferError('quota');
    if (c) throw new TransferError('refused', c);
    throw err;
  }
  return slotFromReply(res);
}
