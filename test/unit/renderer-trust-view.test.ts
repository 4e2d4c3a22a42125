// Issue 10 §9: trust is shown as it is — four distinct states, each a word (not colour alone),
// and a message that could not be verified is never previewed as an ordinary "Secure message".
import { describe, expect, it } from 'vitest';
import { trustState } from '../../common/contract/domain';
import { previewText, trustView } from '../../renderer/src/lib/format';

describe('trust as shown', () => {
  it('maps the stored trust to Verified, Not verified, Key changed and Could not verify', () => {
    expect(trustView('verified').label).toBe('Verified');
    expect(trustView('pinned').label).toBe('Not verified');
    expect(trustView('pinned').hint).toContain('pinned on first use');
    expect(trustView('changed').label).toBe('Key changed');
    expect(trustView('unavailable').label).toBe('Could not verify');
  });

  it('gives every stored state its own label and kind (so its own icon)', () => {
    const views = trustState.options.map((t) => trustView(t));
    expect(new Set(views.map((v) => v.label)).size).toBe(trustState.options.length);
    expect(new Set(views.map((v) => v.kind)).size).toBe(trustState.options.length);
  });
});

describe('a colleague who has not signed in yet (issue 12 §3)', () => {
  it('is "Not set up yet" when the server says they published no key, not a failure', () => {
    for (const t of ['unknown', 'unavailable'] as const) {
      expect(trustView(t, 'none')).toMatchObject({ label: 'Not set up yet', kind: 'not-set-up' });
    }
    // Without that answer the stored trust speaks as before; a published key changes nothing.
    expect(trustView('unavailable', 'unknown').label).toBe('Could not verify');
    expect(trustView('unknown', 'published').label).toBe('Not checked yet');
    expect(trustView('pinned', 'published').label).toBe('Not verified');
  });
});

describe('conversation preview', () => {
  it('says a message could not be verified instead of "Secure message"', () => {
    expect(previewText({ preview: null, state: 'unverified' })).toBe('Message could not be verified');
    // Even if a preview text were present, an unverified message's text is not shown.
    expect(previewText({ preview: 'forged', state: 'unverified' })).toBe('Message could not be verified');
  });

  it('shows the text of a verified message, and "Secure message" only when there is no text', () => {
    expect(previewText({ preview: 'Room 4 is ready', state: 'delivered' })).toBe('Room 4 is ready');
    expect(previewText({ preview: null, state: 'delivered' })).toBe('Secure message');
  });
});
