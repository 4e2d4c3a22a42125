/**
 * Edit (XEP-0308) and delete for everyone (XEP-0424) inside the signed OX payload (issue 12 §6):
 * what we build, what we accept, and what we refuse. A change we cannot apply is refused as
 * malformed, never shown as a new message.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import * as openpgp from 'openpgp';
import { openSigncrypt, signcryptWithDigest, SigncryptRejectedError } from '../../main/crypto/index';
import { RETRACT_FALLBACK_BODY } from '../../main/crypto/message-change';
import { buildSigncryptXml } from '../../main/crypto/signcrypt';
import { bodyXml, makeParties, openPayload, type Party } from '../support/crypto-fixtures';

const now = new Date('2026-11-28T10:00:00Z');
let alice: Party, bob: Party;

beforeAll(async () => {
  [alice, bob] = await makeParties('alice@clinic.test', 'bob@clinic.test');
});

const open = (payload: string) => openPayload(payload, now);
const body = bodyXml;
const replace = (attrs: string) => `<replace xmlns='urn:xmpp:message-correct:0' ${attrs}/>`;
const retract = (attrs: string) => `<retract xmlns='urn:xmpp:message-retract:1' ${attrs}/>`;

const seal = (change: { kind: 'edit' | 'retract'; id: string }, text = 'Room 5, not 4.') =>
  signcryptWithDigest({
    identity: alice.identity,
    recipients: [bob.contact],
    to: 'bob@clinic.test',
    body: text,
    now,
    change,
  });
const openAsBob = (base64: string) =>
  openSigncrypt({ identity: bob.identity, senderKey: alice.contact, base64, ourJid: 'bob@clinic.test', now });

describe('edit and delete for everyone in the OX payload', () => {
  it('round-trips an edit: the new text and the origin-id it replaces; the digest is the one the receiver computes', async () => {
    const sealed = await seal({ kind: 'edit', id: 'origin-1' });
    const out = await openAsBob(sealed.base64);
    expect(out.body).toBe('Room 5, not 4.');
    expect(out.change).toEqual({ kind: 'edit', id: 'origin-1' });
    expect(out.contentDigest).toBe(sealed.contentDigest);
  });

  it('round-trips a deletion: no text of the message travels, the body is only the fallback', async () => {
    const sealed = await seal({ kind: 'retract', id: 'origin-2' }, 'secret words that must not travel');
    const out = await openAsBob(sealed.base64);
    expect(out.change).toEqual({ kind: 'retract', id: 'origin-2' });
    expect(out.body).toBe('');
    const plain = await openpgp.decrypt({
      message: await openpgp.readMessage({ binaryMessage: Buffer.from(sealed.base64, 'base64') }),
      decryptionKeys: bob.identity.privateKey,
      format: 'binary',
      date: now,
    });
    const xml = new TextDecoder().decode(plain.data);
    expect(xml).not.toContain('secret words');
    expect(xml).toContain(RETRACT_FALLBACK_BODY);
    expect(
      createHash('sha256')
        .update(plain.data as Uint8Array)
        .digest('hex'),
    ).toBe(sealed.contentDigest);
  });

  it('a message without a change says so', () => {
    expect(open(body('hi')).change).toBeNull();
    expect(buildSigncryptXml(['bob@clinic.test'], 'hi', now)).not.toMatch(/replace|retract/);
  });

  it.each([
    ['an edit without an id', replace('') + body('x')],
    ['an edit with an empty id', replace("id=''") + body('x')],
    ['an id longer than any of ours', replace(`id='${'a'.repeat(129)}'`) + body('x')],
    ['two edits', replace("id='a'") + replace("id='b'") + body('x')],
    ['an edit and a deletion at once', replace("id='a'") + retract("id='a'") + body('x')],
    ['a deletion without an id', retract('') + body('x')],
  ])('refuses %s as malformed', (_what, payload) => {
    let err: unknown;
    try {
      open(payload);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SigncryptRejectedError);
    expect((err as SigncryptRejectedError).reason).toBe('malformed');
  });

  it('an edit signed by someone else than the pinned key is refused like any message', async () => {
    const sealed = await seal({ kind: 'edit', id: 'origin-1' });
    await expect(
      openSigncrypt({
        identity: bob.identity,
        senderKey: bob.contact,
        base64: sealed.base64,
        ourJid: 'bob@clinic.test',
        now,
      }),
    ).rejects.toMatchObject({ reason: 'wrong-signer' });
  });

  it('refuses to build a change without an id', () => {
    expect(() => buildSigncryptXml(['bob@clinic.test'], 'x', now, undefined, false, { kind: 'edit', id: '' })).toThrow(
      RangeError,
    );
  });
});
