/**
 * Checkpoints in a gzip layer (the zran idea): places where inflating can start in the middle of
 * the compressed stream. Each is a deflate block boundary inside a member, with what a fresh
 * inflater needs to go on from there and what the gzip trailer check needs to still hold:
 *
 *   bit     compressed bit offset in the blob where a deflate block starts
 *   out     decoded (tar) bytes before that point
 *   member  byte offset of the gzip member the block belongs to
 *   crc     CRC32 of the member's output so far; size: its output bytes so far (for the trailer)
 *   window  the last 32 KiB (or fewer) of output: the dictionary back-references reach into
 *
 * The exact gzip decoder records them about every `every` bytes of output; a read that starts at
 * one decodes the same bytes, checks the same trailers, and counts compressed offsets from the
 * blob's start.
 */

export interface Checkpoint {
  bit: number;
  out: number;
  member: number;
  crc: number;
  size: number;
  window: Uint8Array;
}

/** Output between checkpoints, as recorded. */
export const CHECKPOINT_EVERY = 1024 * 1024;

/** Where the decoder reports checkpoints (and how often it should make them). */
export interface CheckpointSink {
  every: number;
  add(cp: Checkpoint): void;
}

/** The last checkpoint at or before tar offset `out` (checkpoints in order of `out`). */
export function checkpointBefore(cps: readonly Checkpoint[], out: number): Checkpoint | undefined {
  let lo = 0;
  let hi = cps.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cps[mid]!.out <= out) lo = mid + 1;
    else hi = mid;
  }
  return lo > 0 ? cps[lo - 1] : undefined;
}

/** A layer's checkpoints, kept sorted and without repeats (several reads may report the same ones). */
export class CheckpointSet implements CheckpointSink {
  readonly list: Checkpoint[] = [];
  constructor(readonly every = CHECKPOINT_EVERY) {}

  add(cp: Checkpoint): void {
    const last = this.list[this.list.length - 1];
    if (!last || cp.out > last.out) {
      this.list.push(cp);
      return;
    }
    if (this.list.some((c) => c.bit === cp.bit)) return;
    this.list.push(cp);
    this.list.sort((a, b) => a.out - b.out);
  }

  before(out: number): Checkpoint | undefined {
    return checkpointBefore(this.list, out);
  }
}
