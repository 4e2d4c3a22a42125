/**
 * The windowing state of a virtualized list, as runes (the arithmetic is in `virtual-list.ts`).
 * Only the rows near the viewport are rendered; their heights start as estimates and are
 * replaced by measured ones. The component binds `scroller`, `windowEl` and `viewport` and
 * renders `visible` between two spacers of `span.topPad` and `span.bottomPad`.
 */
import { tick, untrack } from 'svelte';
import {
  anchoredScrollTop,
  applyMeasurements,
  centredScrollTop,
  rowOffsets,
  scrollEdges,
  visibleSpan,
  type Measured,
  type SizedRow,
} from './virtual-list';

const nextFrame = (): Promise<void> => new Promise((r) => requestAnimationFrame(() => r()));

/** Read at each use (pass getters over the component's props): values change across awaits. */
export interface Paging {
  hasOlder: boolean;
  hasNewer: boolean;
  loading: boolean;
  loadOlder: () => Promise<number>;
  loadNewer: () => Promise<number>;
}

export class VirtualList<R extends SizedRow> {
  scroller: HTMLElement | undefined = $state();
  /** The element whose children are the rendered rows, each with `data-key`. */
  windowEl: HTMLElement | undefined = $state();
  scrollTop = $state(0);
  viewport = $state(600);
  /** The reader is at the newest row: keep it in view as rows arrive or get measured. */
  stickToBottom = $state(false);

  readonly #rows: () => readonly R[];
  // Measured heights by row key: a plain Map (not reactive); `#version` says when it changed.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- deliberately not reactive; `#version` signals changes
  readonly #heights = new Map<string, number>();
  #version = $state(0);
  #loadingOlder = false;
  #loadingNewer = false;

  readonly offsets = $derived.by(() => {
    void this.#version;
    return rowOffsets(this.#rows(), this.#heights);
  });
  readonly total = $derived(this.offsets[this.offsets.length - 1] ?? 0);
  readonly span = $derived(visibleSpan(this.offsets, this.scrollTop, this.viewport));
  readonly visible = $derived.by(() => this.#rows().slice(this.span.start, this.span.end));

  constructor(rows: () => readonly R[], opts: { stickToBottom: boolean }) {
    this.#rows = rows;
    this.stickToBottom = opts.stickToBottom;
  }

  get rowCount(): number {
    return this.#rows().length;
  }

  /** Reads the rendered rows' heights; corrects the scroll position if rows above it changed. */
  measure(): void {
    const { windowEl, scroller } = this;
    if (!windowEl || !scroller) return;
    const measured: Measured[] = [];
    for (const el of windowEl.children) {
      const key = (el as HTMLElement).dataset.key;
      if (key) measured.push({ key, height: el.getBoundingClientRect().height });
    }
    const { changed, shiftAbove } = untrack(() =>
      applyMeasurements(this.#rows(), this.offsets, this.span.start, measured, this.#heights, scroller.scrollTop),
    );
    if (!changed) return;
    this.#version++;
    // tick() resolves once the DOM is updated; it does not reject.
    void tick().then(() => {
      if (!this.scroller) return;
      if (this.stickToBottom) this.scroller.scrollTop = this.scroller.scrollHeight;
      else if (shiftAbove !== 0) this.scroller.scrollTop += shiftAbove;
    });
  }

  /** Rows were appended: follow them if the reader was at the newest one. */
  followEnd(): void {
    if (!this.stickToBottom) return;
    // tick() resolves once the DOM is updated; it does not reject.
    void tick().then(() => {
      if (this.scroller && this.stickToBottom) this.scroller.scrollTop = this.scroller.scrollHeight;
    });
  }

  indexOf(key: string): number {
    return this.#rows().findIndex((r) => r.key === key);
  }

  /**
   * Scrolls row `index` to the middle: first by the (partly estimated) offsets so the row gets
   * rendered and measured, then exactly from the row itself. Returns the row's element.
   */
  async scrollToRow(index: number): Promise<HTMLElement | null> {
    const row = this.#rows()[index];
    if (!this.scroller || !row) return null;
    this.stickToBottom = false;
    this.scroller.scrollTop = centredScrollTop(this.offsets, index, this.viewport);
    this.scrollTop = this.scroller.scrollTop;
    await tick();
    await nextFrame();
    const el = this.windowEl?.querySelector<HTMLElement>(`[data-key="${CSS.escape(row.key)}"]`) ?? null;
    if (!el) return null;
    el.scrollIntoView({ block: 'center' });
    this.scrollTop = this.scroller.scrollTop;
    return el;
  }

  /** The scroll handler: tracks the position and pages older or newer rows near the edges. */
  async onscroll(paging: Paging): Promise<void> {
    const scroller = this.scroller;
    if (!scroller) return;
    this.scrollTop = scroller.scrollTop;
    const edges = scrollEdges(scroller, paging);
    this.stickToBottom = edges.stickToBottom;
    if (edges.wantNewer && !paging.loading && !this.#loadingNewer) {
      // Rows appended below the viewport do not move it: no scroll correction needed.
      this.#loadingNewer = true;
      await paging.loadNewer();
      this.#loadingNewer = false;
    }
    // Read again after the await: the reader may have scrolled, and `paging` reads live props.
    if (!scrollEdges(scroller, paging).wantOlder || paging.loading || this.#loadingOlder) return;
    this.#loadingOlder = true;
    const before = this.total;
    const n = await paging.loadOlder();
    if (n > 0) {
      await tick();
      scroller.scrollTop = anchoredScrollTop(scroller.scrollTop, before, this.total);
      this.scrollTop = scroller.scrollTop;
    }
    this.#loadingOlder = false;
  }
}
