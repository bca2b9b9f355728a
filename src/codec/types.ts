/** Shapes shared by the decoders in src/codec. */

/** The layer encodings we can decode. */
export type CodecName = "gzip" | "zstd" | "tar";

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
  /** Complete gzip members or zstd frames (skippable frames included); 0 for uncompressed tar. */
  members: number;
}
