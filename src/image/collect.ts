/**
 * Collections paced by work done. Building or walking a merged tree of a million entries makes
 * short-lived objects (entries read, nodes, paths and events handed out) while the live set grows
 * (the tree's columns), and JavaScriptCore lets the heap grow to a multiple of the live set before
 * it collects. `Bun.gc(true)` collects in full, there and then; `Bun.gc(false)` only asks for a
 * collection, which runs when the collector gets to it (while a walk runs, often not before much
 * more was made). A full collection is cheap here: the tree is typed arrays, nothing to mark.
 *
 * Measured with `ls -R /` of 1,000,000 entries from the cache (binary, peak RSS; load average
 * 12-19, so CPU figures are rough): asked-for collections every 65,536 items in both phases
 * 234 MiB, 2.0-2.5 s CPU; full ones every 65,536 in both 186-195 MiB, 3.2-3.5 s; full every
 * 32,768 while building and every 16,384 while walking, asked for three times in four, full the
 * fourth, 157-158 MiB, 3.1-3.3 s; all full while walking 155 MiB, 4.5 s; asked for every 4,096
 * while walking 219 MiB. With every 16,384 while building no lower (156-159 MiB), more CPU.
 * Since then (a collection when the tree is sealed, names read as one string each) the walk peaks
 * lower than the build, and the build's peak is what is left: `ls -R` of 1,000,000 entries without
 * the cache (the stream's leftovers under the build; load average 15-19) 154-157 MiB every 32,768
 * while building, 150-156 every 16,384, at no CPU time the noise shows; with an empty cache 161-169
 * against 152-155.
 */

/** Items between collections while a tree is built (every one full), and while it is walked (every FULL_WALK_ROUNDS-th full). */
export const BUILD_PACE = 16_384;
export const WALK_PACE = 16_384;
export const FULL_WALK_ROUNDS = 4;

/** Call `tick` once per item handled; collects every `every` calls, in full every `fullEvery`-th time. */
export class PacedCollector {
  private count = 0;
  private rounds = 0;

  constructor(
    private readonly every: number,
    private readonly fullEvery: number,
  ) {}

  tick(): void {
    if (++this.count >= this.every) {
      this.count = 0;
      Bun.gc(++this.rounds % this.fullEvery === 0);
    }
  }
}
