// The renderer's drag guard (renderer/src/lib/drag-guard.ts): every drag the page would start
// itself is cancelled until the guard is removed (in Chromium, e2e ui-attachment-viewer).
import { describe, expect, it } from 'vitest';
import { guardDrags } from '../../renderer/src/lib/drag-guard';

const dragStart = (target: EventTarget): Event => {
  const e = new Event('dragstart', { bubbles: true, cancelable: true });
  target.dispatchEvent(e);
  return e;
};

describe('drag guard', () => {
  it('cancels every dragstart, and only dragstart, until it is removed', () => {
    const page = new EventTarget();
    const off = guardDrags(page);
    expect(dragStart(page).defaultPrevented).toBe(true);
    const drop = new Event('drop', { cancelable: true });
    page.dispatchEvent(drop);
    expect(drop.defaultPrevented).toBe(false);
    off();
    expect(dragStart(page).defaultPrevented).toBe(false);
  });
});
