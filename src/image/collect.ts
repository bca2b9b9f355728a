/**
 * Collections paced by work done. Building or walking a merged tree of a million entries makes
 * short-lived objects (entries read, nodes, paths and events handed out) while the live set grows
 * (the tree's columns), and JavaScriptCore lets the heap grow to a multiple of the live set before
 * it collects.
 *
 * While a tree is built, the objects alive at a collection (the part of a listing being applied)
 * are many; an eden collection (Bun.gc(false)) promotes them, and promoted garbage stays until a
 * full collection. So a build collects in full, which is cheap now that the tree is typed arrays
 * (nothing in them to mark). A walk keeps few objects alive (the directories being walked), so
 * eden collections, more often, suffice. Measured with `ls -R /` of 1,000,000 entries from the
 * cache (binary, peak RSS): eden collections every 65,536 items in both phases 234 MiB; full ones
 * every 65,536 in both 186-195 MiB (1.2 s more CPU); full every 65,536 while building and eden
 * every 16,384 while walking 161-164 MiB; eden every 4,096 while walking 219 MiB.
 */

/** Items between collections while a tree is built (every one full), and while it is walked (every FULL_WALK_ROUNDS-th full). */
export const BUILD_PACE = 32_768;
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
