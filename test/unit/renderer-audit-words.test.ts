// The audit screen's plain words (issue 12 §9): every event type reads as a sentence, colleagues by
// name, and nothing but the entry's type and detail (ids, JIDs, counts, reasons) goes into it.
import { describe, expect, it } from 'vitest';
import { auditEventType } from '../../common/contract/domain';
import { auditSentence } from '../../renderer/src/lib/audit-words';

const names: Record<string, string> = { 'dr.okafor@clinic.test': 'Dr. Okafor' };
const nameOf = (jid: string) => names[jid] ?? jid;

describe('audit events in plain words', () => {
  it('names the colleague of a conversation that was opened', () => {
    const e = {
      type: 'message-opened' as const,
      detail: { conversationId: '3', peer: 'dr.okafor@clinic.test', count: 12 },
    };
    expect(auditSentence(e, nameOf)).toBe('Opened a conversation with Dr. Okafor');
  });

  it('falls back to the address for someone not in the directory', () => {
    const e = { type: 'key-verified' as const, detail: { jid: 'locum@clinic.test', fingerprint: 'AB'.repeat(20) } };
    expect(auditSentence(e, nameOf)).toBe('Verified locum@clinic.test’s encryption key');
  });

  it('says why a session locked, and counts with the right plural', () => {
    expect(auditSentence({ type: 'lock', detail: { reason: 'idle', profileId: 'p' } }, nameOf)).toBe(
      'Locked after a time without use',
    );
    expect(auditSentence({ type: 'retention-purged', detail: { deleted: 1240, cutoff: 0, days: 30 } }, nameOf)).toBe(
      `Removed ${(1240).toLocaleString()} messages older than 30 days`,
    );
    expect(auditSentence({ type: 'message-search', detail: { count: 1, messageIds: '7' } }, nameOf)).toBe(
      'Searched messages (1 result shown)',
    );
  });

  it('a staff-created room that was undone says where it stopped and whether it is gone', () => {
    const room = 'mr-diaz-1a2b3c4d@rooms.clinic.test';
    const failed = (removed: boolean) =>
      auditSentence(
        {
          type: 'room-membership',
          detail: {
            room,
            jid: 'rita@clinic.test',
            change: 'create-failed',
            step: 'members',
            reason: 'not-acceptable',
            removed,
          },
        },
        nameOf,
      );
    expect(failed(true)).toBe(
      `Could not create ${room}: adding its members failed (not-acceptable); it was removed again`,
    );
    expect(failed(false)).toContain('the server may still hold it');
    expect(
      auditSentence(
        { type: 'room-membership', detail: { room, jid: 'rita@clinic.test', change: 'create-undone' } },
        nameOf,
      ),
    ).toBe(`Removed ${room}, which could not be finished earlier`);
  });

  it('has words for every event type main can record, none of them the raw code', () => {
    for (const type of auditEventType.options) {
      const s = auditSentence({ type, detail: {} }, nameOf);
      expect(s, type).toMatch(/^[A-Z]/);
      expect(s, type).not.toContain(type);
    }
  });
});
