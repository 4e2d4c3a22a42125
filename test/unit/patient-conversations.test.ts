/**
 * Patient conversations in the inbox (issue 17), the store's side over a real SQLCipher file: one
 * conversation per number, titled by the newest text's name, ordered by latest activity (a reply
 * moves it up), with its unread replies; read marks; replies stored before the feature are read;
 * the thread oldest first; retention deletes old replies and texts and forgets the number's read
 * mark. And the inbox page merge: each patient conversation on exactly one page.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../main/store';
import {
  mergeIntoPage,
  PATIENT_READS_SETTING,
  phoneOfConversation,
} from '../../main/store/repos/patient-conversations';
import { fakeClock } from '../support/fake-clock';

const A = '+15550100001';
const B = '+15550100002';
const MIN = 60_000;

describe('patient conversations in the store', () => {
  let dir = '';
  let store: Store | null = null;
  const clock = fakeClock();
  afterEach(async () => {
    await store?.close();
    store = null;
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const open = () => {
    dir = mkdtempSync(join(tmpdir(), 'patient-conv-'));
    store = openStore({ file: join(dir, 'cache.db'), key: randomBytes(32), worker: false, clock });
    return store;
  };
  let n = 0;
  const text = (s: Store, phone: string, name: string, body = 'Please call the clinic.') => {
    clock.advance(MIN);
    const t = s.patientTexts.insert({
      id: randomUUID(),
      patientName: name,
      phone,
      dobVerifier: 'scrypt$15$8$1$x$y',
      body,
      smsText: 'Your clinic sent you a secure message: {link}',
    });
    const linkId = `link${String(++n).padStart(18, '0')}`;
    s.patientTexts.taken(t.id, {
      linkId,
      patientJid: `p-${'a'.repeat(23)}${n % 10}@patients.clinic.test`,
      state: 'queued',
      expiresAt: clock.now() + 7 * 1440 * MIN,
    });
    return linkId;
  };
  const reply = (s: Store, linkId: string, body: string) => {
    clock.advance(MIN);
    return s.patientTexts.addReply(linkId, { id: randomUUID(), at: clock.now(), verified: 'code', body });
  };

  it('lists one conversation per number, newest activity first, with its unread replies and read marks', () => {
    const s = open();
    const a1 = text(s, A, 'Maria Lopez', 'First text to Maria.');
    text(s, B, 'Ben Ode');
    // Before anything is listed, no read map: made now with nothing read yet (no replies).
    expect(s.patientConversations.list().map((c) => c.title)).toEqual(['Ben Ode', 'Maria Lopez']);
    reply(s, a1, 'Yes, I will call tomorrow.');
    const list = s.patientConversations.list();
    expect(list.map((c) => [c.title, c.unread])).toEqual([
      ['Maria Lopez', 1],
      ['Ben Ode', 0],
    ]);
    const maria = list[0]!;
    expect(maria.id).toBe(`patient:${A}`);
    expect(phoneOfConversation(maria.id)).toBe(A);
    expect(maria.patient).toEqual({ phone: A, check: 'dob' });
    expect(maria.lastMessage).toMatchObject({ direction: 'in', preview: 'Yes, I will call tomorrow.' });
    expect(s.patientConversations.markRead(A)).toBe(1);
    expect(s.patientConversations.summary(A)!.unread).toBe(0);
    expect(s.patientConversations.markRead(A)).toBe(0);
    // A second text to the same number is the same conversation, under the newest name.
    const a2 = text(s, A, 'Maria L. Lopez', 'Second text.');
    expect(s.patientConversations.list().map((c) => c.title)).toEqual(['Maria L. Lopez', 'Ben Ode']);
    expect(s.patientConversations.summary(A)!.lastMessage).toMatchObject({ direction: 'out', state: 'sent' });
    reply(s, a2, 'Thanks again.');
    expect(s.patientConversations.summary(A)!.unread).toBe(1);
    expect(s.patientConversations.thread(A).map((t) => [t.body, t.replies.length])).toEqual([
      ['First text to Maria.', 1],
      ['Second text.', 1],
    ]);
    expect(s.patientConversations.summary('+15550199999')).toBeUndefined();
    expect(phoneOfConversation('12')).toBeNull();
    expect(phoneOfConversation('patient:not-a-number')).toBeNull();
  });

  it('replies stored before patient conversations existed are read', () => {
    const s = open();
    reply(s, text(s, A, 'Maria Lopez'), 'An old reply.');
    expect(s.getSetting(PATIENT_READS_SETTING)).toBeUndefined();
    expect(s.patientConversations.summary(A)!.unread).toBe(0);
    reply(s, text(s, A, 'Maria Lopez'), 'A new reply.');
    expect(s.patientConversations.summary(A)!.unread).toBe(1);
  });

  it('retention deletes replies and texts before the cutoff, and the read mark of a number with nothing left', () => {
    const s = open();
    const old = text(s, A, 'Maria Lopez');
    reply(s, old, 'Old reply.');
    s.patientConversations.markRead(A);
    clock.advance(60 * MIN);
    const cutoff = clock.now();
    text(s, B, 'Ben Ode');
    expect(s.patientConversations.purgeBefore(cutoff)).toBe(2);
    expect(s.patientConversations.summary(A)).toBeUndefined();
    expect(s.patientTexts.byLink(old)).toBeUndefined();
    expect(Object.keys(s.getSetting<Record<string, number>>(PATIENT_READS_SETTING)!)).toEqual([]);
    expect(s.patientConversations.list().map((c) => c.title)).toEqual(['Ben Ode']);
  });
});

describe('patient conversations on the inbox pages', () => {
  const item = (id: string, at: number) => ({ id, lastMessage: { at } });
  it('puts each patient conversation on exactly one page, in time order', () => {
    const patients = [item('p1', 95), item('p2', 50), item('p3', 5)];
    type Page = { items: ReturnType<typeof item>[]; nextCursor: string | null };
    const page1: Page = { items: [item('c1', 100), item('c2', 60)], nextCursor: '60.2' };
    const page2 = { items: [item('c3', 40), item('c4', 10)], nextCursor: '10.4' };
    const page3 = { items: [item('c5', 8)], nextCursor: null };
    const ids = (p: Page, started: number | null) => mergeIntoPage(p, started, patients).map((i) => i.id);
    expect(ids(page1, null)).toEqual(['c1', 'p1', 'c2']);
    expect(ids(page2, 60)).toEqual(['p2', 'c3', 'c4']);
    expect(ids(page3, 10)).toEqual(['c5', 'p3']);
    // No conversations at all: every patient conversation on the one page.
    expect(mergeIntoPage({ items: [], nextCursor: null }, null, patients).map((i) => i.id)).toEqual(['p1', 'p2', 'p3']);
  });
});
