/** Uncompressed tar: the bytes pass through, each chunk "consuming" exactly its own length. */

import type { DecodedChunk } from "../types.ts";
import type { DecodeSummary } from "./types.ts";

/** Largest chunk passed on at once (a source may hand over a whole file). */
const MAX_CHUNK = 1024 * 1024;

/**
 * Yields the source's bytes unchanged (views into the source's chunks, not copies). `ended` is true
 * when the source ran dry: tar has no framing of its own at this level, the tar reader decides
 * whether the archive is complete.
 */
export async function* passthrough(source: AsyncIterable<Uint8Array>): AsyncGenerator<DecodedChunk, DecodeSummary> {
  let n = 0;
  for await (const chunk of source) {
    for (let at = 0; at < chunk.length; at += MAX_CHUNK) {
      const data = chunk.length <= MAX_CHUNK ? chunk : chunk.subarray(at, at + MAX_CHUNK);
      n += data.length;
      yield { data, compressedConsumed: n };
    }
  }
  return { compressedConsumed: n, decompressed: n, ended: true, members: 0 };
}
