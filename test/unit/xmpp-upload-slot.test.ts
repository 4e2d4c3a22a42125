/**
 * The XMPP half of XEP-0363 (main/xmpp/upload-slot.ts) against scripted answers: which service is
 * chosen, which slot headers are passed on, how refusals read.
 */
import { xml, type XmlElement } from '@xmpp/client';
import { describe, expect, it } from 'vitest';
import { TransferError } from '../../main/attachments/transfer-error';
import {
  findUploadService,
  NS_UPLOAD,
  requestUploadSlot,
  slotFromReply,
  type IqCall,
} from '../../main/xmpp/upload-slot';

const info = (identity: Record<string, string>, features: string[], max?: string) =>
  xml(
    'iq',
    { type: 'result' },
    xml(
      'query',
      { xmlns: 'http://jabber.org/protocol/disco#info' },
      xml('identity', identity),
      ...features.map((f) => xml('feature', { var: f })),
      ...(max
        ? [
            xml(
              'x',
              { xmlns: 'jabber:x:data', type: 'result' },
              xml('field', { var: 'FORM_TYPE' }, xml('value', {}, NS_UPLOAD)),
              xml('field', { var: 'max-file-size' }, xml('value', {}, max)),
            ),
          ]
        : []),
    ),
  );

function scripted(answers: Record<string, XmlElement | Error>): { iq: IqCall; asked: XmlElement[] } {
  const asked: XmlElement[] = [];
  const iq: IqCall = (el) => {
    asked.push(el);
    const ns = el.children.find((c): c is XmlElement => typeof c !== 'string')?.attrs.xmlns as string;
    const a = answers[`${String(el.attrs.to)} ${ns}`];
    if (!a) return Promise.reject(Object.assign(new Error('item-not-found'), { condition: 'item-not-found' }));
    return a instanceof Error ? Promise.reject(a) : Promise.resolve(a);
  };
  return { iq, asked };
}

const items = xml(
  'iq',
  { type: 'result' },
  xml(
    'query',
    { xmlns: 'http://jabber.org/protocol/disco#items' },
    xml('item', { jid: 'pubsub.clinic.test' }),
    xml('item', { jid: 'gone.clinic.test' }),
    xml('item', { jid: 'upload.clinic.test' }),
  ),
);

describe('XEP-0363 upload slot', () => {
  it('finds the store/file service that speaks the upload namespace, with its limit', async () => {
    const { iq } = scripted({
      'clinic.test http://jabber.org/protocol/disco#items': items,
      'pubsub.clinic.test http://jabber.org/protocol/disco#info': info({ category: 'pubsub', type: 'service' }, [
        NS_UPLOAD, // a feature alone is not an upload service
      ]),
      'upload.clinic.test http://jabber.org/protocol/disco#info': info(
        { category: 'store', type: 'file' },
        [NS_UPLOAD],
        '1000',
      ),
    });
    expect(await findUploadService(iq, 'clinic.test')).toEqual({ jid: 'upload.clinic.test', maxFileSize: 1000 });
  });

  it('a server without one has none', async () => {
    const { iq } = scripted({ 'clinic.test http://jabber.org/protocol/disco#items': xml('iq', { type: 'result' }) });
    expect(await findUploadService(iq, 'clinic.test')).toBeNull();
  });

  it('asks under a random name as octet-stream, and passes on only the headers XEP-0363 allows', async () => {
    const reply = xml(
      'iq',
      { type: 'result' },
      xml(
        'slot',
        { xmlns: NS_UPLOAD },
        xml(
          'put',
          { url: 'https://upload.clinic.test/put/1' },
          xml('header', { name: 'Authorization' }, 'Bearer abc\r\nX-Evil: 1'),
          xml('header', { name: 'Host' }, 'elsewhere.test'),
          xml('header', { name: 'Cookie' }, 'c=1'),
        ),
        xml('get', { url: 'https://upload.clinic.test/get/1' }),
      ),
    );
    const { iq, asked } = scripted({ [`upload.clinic.test ${NS_UPLOAD}`]: reply });
    const slot = await requestUploadSlot(iq, { jid: 'upload.clinic.test', maxFileSize: null }, 1234);
    expect(slot).toEqual({
      putUrl: 'https://upload.clinic.test/put/1',
      getUrl: 'https://upload.clinic.test/get/1',
      headers: { authorization: 'Bearer abcX-Evil: 1', cookie: 'c=1' },
    });
    const req = asked[0]!.getChild('request', NS_UPLOAD)!;
    expect(req.attrs.filename).toMatch(/^[0-9a-f-]{36}\.bin$/);
    expect(req.attrs.size).toBe('1234');
    expect(req.attrs['content-type']).toBe('application/octet-stream');
    expect(() => slotFromReply(xml('iq', { type: 'result' }))).toThrow(TransferError);
  });

  it('reads the server refusals as clear reasons', async () => {
    const svc = { jid: 'upload.clinic.test', maxFileSize: null };
    const refusing = (condition: string) =>
      scripted({ [`upload.clinic.test ${NS_UPLOAD}`]: Object.assign(new Error(condition), { condition }) }).iq;
    const reason = (iq: IqCall) =>
      requestUploadSlot(iq, svc, 10).then(
        () => null,
        (e: unknown) => (e as TransferError).reason,
      );
    expect(await reason(refusing('not-acceptable'))).toBe('too-large');
    expect(await reason(refusing('resource-constraint'))).toBe('quota');
    expect(await reason(refusing('forbidden'))).toBe('refused');
    const { iq, asked } = scripted({});
    expect(
      await requestUploadSlot(iq, { jid: 'upload.clinic.test', maxFileSize: 100 }, 101).then(
        () => null,
        (e: unknown) => (e as TransferError).reason,
      ),
    ).toBe('too-large');
    expect(asked).toHaveLength(0); // refused before asking
  });
});
