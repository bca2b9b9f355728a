/**
 * The decoder stage: compressed layer bytes in, tar bytes out, each chunk tagged with the exact
 * number of compressed bytes consumed to produce everything up to its end.
 */

import type { DecodedChunk } from "../types.ts";
import { gunzip } from "./gzip.ts";
import { passthrough } from "./plain.ts";
import { codecFor, SNIFF_BYTES } from "./sniff.ts";
import type { CodecName, DecodeSummary } from "./types.ts";
import { zstdDecode } from "./zstd.ts";

export type { CodecName, DecodeSummary } from "./types.ts";
export { codecFor, codecFromMediaType, identifyOther, sniff, SNIFF_BYTES } from "./sniff.ts";
export { gunzip, type GunzipOptions } from "./gzip.ts";
export { MAX_WINDOW, zstdDecode, type ZstdOptions } from "./zstd.ts";
export { passthrough } from "./plain.ts";

export type LayerSummary = DecodeSummary & { codec: CodecName };

/** Whether a source iterator has finished or been closed (so nobody closes it twice). */
interface SourceState {
  closed: boolean;
}

async function closeSource(it: AsyncIterator<Uint8Array>, state: SourceState): Promise<void> {
  if (state.closed) return;
  state.closed = true;
  await it.return?.();
}

/** Yields the chunks in `head`, then the rest of `it`; closes `it` when closed early. */
async function* prefixed(
  head: Uint8Array[],
  it: AsyncIterator<Uint8Array>,
  state: SourceState,
): AsyncGenerator<Uint8Array, void> {
  try {
    for (const chunk of head) yield chunk;
    for (;;) {
      const r = await it.next();
      if (r.done) {
        state.closed = true;
        return;
      }
      yield r.value;
    }
  } finally {
    await closeSource(it, state);
  }
}

/**
 * Decodes one layer blob. Reads up to `SNIFF_BYTES` first to choose the codec by magic bytes
 * (`mediaType` only matters when the blob is too short to tell), then streams. Stopping the
 * iteration early (break, return(), a throw in the consumer) closes `source`, which aborts the
 * download behind it. Throws UNSUPPORTED for a format we can't decode, CORRUPT for bad data; a
 * source that ends early is not an error (`ended: false` in the summary).
 */
export async function* decodeLayer(
  source: AsyncIterable<Uint8Array>,
  mediaType: string,
): AsyncGenerator<DecodedChunk, LayerSummary> {
  const it = source[Symbol.asyncIterator]();
  const state: SourceState = { closed: false };
  try {
    const head: Uint8Array[] = [];
    let have = 0;
    while (have < SNIFF_BYTES) {
      const r = await it.next();
      if (r.done) {
        state.closed = true;
        break;
      }
      if (r.value.length === 0) continue;
      head.push(r.value);
      have += r.value.length;
    }
    const first = new Uint8Array(Math.min(have, SNIFF_BYTES));
    let at = 0;
    for (const chunk of head) {
      if (at >= first.length) break;
      const part = chunk.subarray(0, first.length - at);
      first.set(part, at);
      at += part.length;
    }
    const codec = codecFor(first, mediaType);
    const input = prefixed(head, it, state);
    const decoder = codec === "gzip" ? gunzip(input) : codec === "zstd" ? zstdDecode(input) : passthrough(input);
    const summary = yield* decoder;
    return { ...summary, codec };
  } finally {
    // The codec closes its input on every way out; this covers the ways out before it started.
    await closeSource(it, state);
  }
}
