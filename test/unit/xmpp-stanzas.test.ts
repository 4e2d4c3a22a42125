import { describe, expect, it } from 'vitest';
import { AppError } from '../../common/result';
import { classifyError } from '../../main/xmpp/transport/connection';
import { bare, FALLBACK_BODY, mamQuery, NS, originIdOf, oxMessage, stanzaIdOf } from '../../main/xmpp/stanzas';
import { xml } from '@xmpp/client';

describe('XEP-0374 message stanza (PROTOCOL.md "A message")', () => {
  const m = oxMessage('bob@clinic.test', 'origin-1', 'QUJD');

  it('carries the OX payload, store hint, EME, fallback body, origin-id and a receipt request', () => {
    expect(m.attrs).toMatchObject({ to: 'bob@clinic.test', type: 'chat', id: 'origin-1' });
    expect(m.getChild('openpgp', NS.ox)?.getText()).toBe('QUJD');
    expect(m.getChild('store', NS.hints)).toBeDefined();
    expect(m.getChild('encryption', NS.eme)?.attrs.namespace).toBe('urn:xmpp:openpgp:0');
    expect(m.getChildText('body')).toBe(FALLBACK_BODY);
    expect(m.getChild('origin-id', NS.sid)?.attrs.id).toBe('origin-1');
    expect(m.getChild('request', NS.receipts)).toBeDefined();
  });

  it('has exactly these children: nothing else travels in the clear', () => {
    expect(m.getChildElements().map((c) => c.name)).toEqual([
      'openpgp',
      'store',
      'encryption',
      'body',
      'origin-id',
      'request',
      'markable',
    ]);
  });
});

describe('stanza readers', () => {
  it('takes the stanza-id only when our own server stamped it (XEP-0359 §3.1)', () => {
    const el = xml(
      'message',
      {},
      xml('stanza-id', { xmlns: NS.sid, by: 'mallory@clinic.test', id: 'forged' }),
      xml('stanza-id', { xmlns: NS.sid, by: 'bob@clinic.test', id: 'real' }),
    );
    expect(stanzaIdOf(el, 'bob@clinic.test')).toBe('real');
    expect(stanzaIdOf(el, 'carol@clinic.test')).toBeNull();
  });

  it('prefers origin-id over the id attribute and refuses absurdly long ids', () => {
    expect(originIdOf(xml('message', { id: 'a' }, xml('origin-id', { xmlns: NS.sid, id: 'b' })))).toBe('b');
    expect(originIdOf(xml('message', { id: 'a' }))).toBe('a');
    expect(originIdOf(xml('message', { id: 'x'.repeat(500) }))).toBeNull();
  });

  it('lower-cases and strips the resource from JIDs', () => {
    expect(bare('Bob@Clinic.Test/desk-1')).toBe('bob@clinic.test');
    expect(bare(undefined)).toBe('');
  });

  it('builds a MAM query that pages after the last seen archive id (XEP-0313 §4, XEP-0059)', () => {
    const q = mamQuery('q1', 'last-id', 250).getChild('query', NS.mam)!;
    expect(q.attrs.queryid).toBe('q1');
    const set = q.getChild('set', NS.rsm)!;
    expect(set.getChildText('max')).toBe('250');
    expect(set.getChildText('after')).toBe('last-id');
    expect(
      mamQuery('q2', null, 10).getChild('query', NS.mam)!.getChild('set', NS.rsm)!.getChild('after'),
    ).toBeUndefined();
  });
});

describe('connection error classification', () => {
  it('maps SASL refusals to AUTH_FAILED, certificate problems to TLS_REQUIRED, the rest to NOT_CONNECTED', () => {
    expect(classifyError(Object.assign(new Error('x'), { name: 'SASLError', condition: 'not-authorized' })).code).toBe(
      'AUTH_FAILED',
    );
    expect(classifyError(Object.assign(new Error('x'), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' })).code).toBe(
      'TLS_REQUIRED',
    );
    expect(
      classifyError(Object.assign(new Error('x'), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' })).details,
    ).toMatchObject({ reason: 'certificate' });
    expect(classifyError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })).code).toBe('NOT_CONNECTED');
    const own = new AppError('TLS_REQUIRED', 'no tls');
    expect(classifyError(own)).toBe(own);
  });
});
