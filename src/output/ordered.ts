/**
 * Runs producers of text a few at a time and writes their output in order: the first one's output
 * as it comes, the later ones' buffered until their turn (then live again if still running). For
 * `peek` of many layers, the downloads overlap while the listing reads top to bottom.
 */
export type Producer<R> = (emit: (text: string) => void) => Promise<R>;

class Slot<R> {
  readonly parts: string[] = [];
  done = false;
  failure: unknown;
  result: R | undefined;
  private wake: (() => void) | undefined;

  constructor(run: Producer<R>) {
    run((text) => {
      this.parts.push(text);
      this.notify();
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

  /** Waits for more output or the end. */
  next(): Promise<void> {
    return new Promise((resolve) => (this.wake = resolve));
  }
}

export async function writeInOrder<R>(producers: Producer<R>[], concurrency: number, write: (text: string) => void, onResult: (result: R, index: number) => void): Promise<void> {
  const slots: Slot<R>[] = [];
  let started = 0;
  const fill = (upTo: number) => {
    while (started < producers.length && started < upTo) slots.push(new Slot(producers[started++]!));
  };
  for (let i = 0; i < producers.length; i++) {
    fill(i + Math.max(1, concurrency));
    const slot = slots[i]!;
    let read = 0;
    for (;;) {
      while (read < slot.parts.length) write(slot.parts[read++]!);
      if (slot.done) break;
      await slot.next();
    }
    slot.parts.length = 0;
    if (slot.failure !== undefined) throw slot.failure;
    onResult(slot.result as R, i);
  }
}
