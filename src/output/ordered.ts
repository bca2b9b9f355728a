/**
 * Runs producers of text a few at a time and writes their output in order: the first one's output
 * as it comes, the later ones' buffered until their turn (then live again if still running). For
 * `peek` of many layers, the downloads overlap while the listing reads top to bottom.
 *
 * Memory is bounded: text is dropped once written, `write` may return a promise (a full pipe) that
 * is awaited before more is written, and `emit` returns a promise while more than HIGH_WATER
 * characters of a producer's text wait to be written: a producer that awaits it (peek does) is
 * paused, so a million-line listing never sits in memory when stdout is slower than the download.
 */
export type Producer<R> = (emit: (text: string) => void | Promise<void>) => Promise<R>;

/** Characters of text a producer may have waiting before `emit` asks it to pause. */
export const HIGH_WATER = 4 * 1024 * 1024;

class Slot<R> {
  parts: string[] = [];
  /** Characters in `parts`. */
  pending = 0;
  private room: (() => void) | undefined;
  done = false;
  failure: unknown;
  result: R | undefined;
  private wake: (() => void) | undefined;

  constructor(run: Producer<R>) {
    run((text) => {
      this.parts.push(text);
      this.pending += text.length;
      this.notify();
      if (this.pending <= HIGH_WATER) return undefined;
      return new Promise<void>((resolve) => (this.room = resolve));
    }).then(
      (r) => this.finish(r, undefined),
      (e) => this.finish(undefined, e ?? new Error("producer failed")),
    );
  }

  private finish(r: R | undefined, e: unknown): void {
    this.result = r;
    this.failure = e;
    this.done = true;
    this.notify();
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /** Takes the text waiting to be written (still counted as waiting until `written`). */
  take(): string[] {
    const parts = this.parts;
    this.parts = [];
    return parts;
  }

  /** The taken text was written: a paused producer may go on. */
  written(chars: number): void {
    this.pending -= chars;
    const r = this.room;
    this.room = undefined;
    r?.();
  }

  /** Waits for more output or the end. */
  next(): Promise<void> {
    return new Promise((resolve) => (this.wake = resolve));
  }
}

export async function writeInOrder<R>(
  producers: Producer<R>[],
  concurrency: number,
  write: (text: string) => unknown,
  onResult: (result: R, index: number) => void,
): Promise<void> {
  const slots: Slot<R>[] = [];
  let started = 0;
  const fill = (upTo: number) => {
    while (started < producers.length && started < upTo) slots.push(new Slot(producers[started++]!));
  };
  for (let i = 0; i < producers.length; i++) {
    fill(i + Math.max(1, concurrency));
    const slot = slots[i]!;
    for (;;) {
      const done = slot.done;
      let chars = 0;
      for (const text of slot.take()) {
        await write(text);
        chars += text.length;
      }
      slot.written(chars);
      if (done && slot.parts.length === 0) break;
      if (slot.parts.length === 0 && !slot.done) await slot.next();
    }
    if (slot.failure !== undefined) throw slot.failure;
    onResult(slot.result as R, i);
  }
}
