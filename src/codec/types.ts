/** Shapes shared by the decoders in src/codec. */

import type { DecodedChunk } from "../types.ts";

/** The layer encodings we can decode. */
export type CodecName = "gzip" | "zstd" | "tar";

/**
 * What the `compressedConsumed` of a decoder's chunks means. "exact": the compressed bytes needed
 * to produce everything up to the chunk's end, to the byte (what a byte budget, an entry's offset
 * or a checkpoint needs). "bounded": an upper bound, the bytes the decoder had taken in when the
 * chunk came out (enough for a listing, a cache fill, a progress figure).
 */
export type OffsetPrecision = "exact" | "bounded";

/**
 * What a decoder returns when its source is exhausted (the generator's return value).
 * Every decoder yields `DecodedChunk`s (src/types.ts) and returns one of these.
 */
export interface DecodeSummary {
  /** Bytes taken from the source, i.e. the whole input when the source ran dry. */
  compressedConsumed: number;
  /** Decoded bytes yielded in total. */
  decompressed: number;
  /**
   * True when the input ended cleanly: the last gzip member / zstd frame was complete (trailer
   * included), possibly followed by zero padding. False when the input stopped in the middle of one
   * (the normal case when reading stops at a byte budget) or held nothing at all. Uncompressed tar
   * has no framing, so the passthrough reports true: there the tar end-of-archive decides.
   */
  ended: boolean;
  /**
   * Complete gzip members or zstd frames (skippable frames included); 0 for uncompressed tar.
   * Absent when the decoder does not see member boundaries (native gzip).
   */
  members?: number;
}

/** How a decoder may hand out its chunks. */
export interface DecodeOptions {
  /**
   * The consumer copies whatever it keeps of a chunk before it asks for the next one, so a decoder
   * may reuse one output buffer (the native ones do; the others ignore this).
   */
  transient?: boolean;
}

export type DecodeFn = (source: AsyncIterable<Uint8Array>, opts?: DecodeOptions) => AsyncGenerator<DecodedChunk, DecodeSummary>;

/** One member of the decoder set: what it decodes, what its offsets mean, how to load it. */
export interface Decoder {
  codec: CodecName;
  offsets: OffsetPrecision;
  /** A short name for logs and benchmarks: "fflate", "zlib", "fzstd", "libzstd", "plain". */
  name: string;
  /** Loads the implementation (a dynamic import: a command loads only the decoders it uses). */
  load(): Promise<DecodeFn>;
}
