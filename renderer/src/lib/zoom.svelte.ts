/**
 * A viewer's zoom (AttachmentViewer, PdfViewer): steps as multiples of the fitted size, 1 first;
 * + (or =) − and 0 on the keyboard, the buttons in ZoomControls.svelte.
 */
export class Zoom {
  index = $state(0);

  constructor(readonly levels: readonly number[]) {}

  get value(): number {
    return this.levels[this.index] ?? 1;
  }

  get atMost(): boolean {
    return this.index >= this.levels.length - 1;
  }

  set(i: number): void {
    this.index = Math.max(0, Math.min(this.levels.length - 1, i));
  }

  /** A zoom key (+ = − 0) moves the zoom: true then, for the caller to prevent the key's default. */
  key(e: KeyboardEvent): boolean {
    if (e.key === '+' || e.key === '=') this.set(this.index + 1);
    else if (e.key === '-') this.set(this.index - 1);
    else if (e.key === '0') this.set(0);
    else return false;
    return true;
  }
}
