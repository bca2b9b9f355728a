/**
 * A layer's entries held in memory as compressed parts (the cache's column encoding,
 * cache/listing-codec.ts: a few bytes an entry instead of a few hundred), for listings read once
 * into the merged tree. Entries are packed a part (PART_ENTRIES) at a time as they arrive; a layer
 * smaller than one part is never packed at all. Iterable more than once.
 */
import { decodeEntries, encodeEntries } from "../cache/listing-codec.ts";
import { PART_ENTRIES } from "../cache/listing-parts.ts";
import { LayerslayerError } from "../errors.ts";
import type { Entry } from "../types.ts";

export class PackedEntries implements Iterable<Entry> {
  private readonly packed: Uint8Array[] = [];
  private tail: Entry[] = [];
  private count = 0;

  /** `onPart` is given each part as it is packed (the cache stores the same bytes). */
  constructor(private readonly onPart?: (entries: readonly Entry[], data: Uint8Array) => void) {}

  get length(): number {
    return this.count;
  }

  add(entry: Entry): void {
    this.tail.push(entry);
    this.count++;
    if (this.tail.length >= PART_ENTRIES) {
      const data = encodeEntries(this.tail);
      this.packed.push(data);
      this.onPart?.(this.tail, data);
      this.tail = [];
    }
  }

  /** The entries not packed yet (fewer than a part), in order. */
  unpacked(): readonly Entry[] {
    return this.tail;
  }

  *[Symbol.iterator](): Generator<Entry> {
    for (const part of this.packed) {
      const entries = decodeEntries(part);
      // Our own encoding, made above: failing to read it back is a bug, not bad input.
      if (!entries) throw new LayerslayerError("IO", "a listing held in memory could not be read back");
      yield* entries;
    }
    yield* this.tail;
  }
}
