/** Shapes shared by every stage: see shared/design/ARCHITECTURE.md. */

export type EntryType =
  | "file"
  | "dir"
  | "symlink"
  | "hardlink"
  | "char"
  | "block"
  | "fifo"
  | "contiguous"
  /** A PAX global header ('g'): listed as the archive has it (as Go returns it), applied to nothing. */
  | "pax-global";

/**
 * Every entry type, in a fixed order: their indexes are the type codes stored in compact forms
 * (the cache's listing encoding, the merged tree's entry table). Append only.
 */
export const ENTRY_TYPES: readonly EntryType[] = ["file", "dir", "symlink", "hardlink", "char", "block", "fifo", "contiguous", "pax-global"];
export const ENTRY_TYPE_CODE: ReadonlyMap<string, number> = new Map(ENTRY_TYPES.map((t, i) => [t, i]));

/** One tar entry, after PAX/GNU meta headers were applied to it. */
export interface Entry {
  path: string;
  type: EntryType;
  /** Permission and special bits (0o7777), no file-type bits. */
  mode: number;
  size: number;
  uid: number;
  gid: number;
  uname?: string;
  gname?: string;
  /** Seconds since the epoch, fractions allowed (PAX). */
  mtime: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** Index of the layer in the image manifest, when known. */
  layer?: number;
  /** Offset of the entry's first header block (its first meta header, if any) in the tar stream. */
  headerOffset: number;
  /** Compressed bytes consumed when the entry's header was complete. */
  compressedOffset: number;
}

/** A chunk of decoded (tar) bytes with the exact compressed bytes consumed to produce everything up to its end. */
export interface DecodedChunk {
  data: Uint8Array;
  compressedConsumed: number;
}

export interface LayerStats {
  digest: string;
  mediaType: string;
  layerSize: number;
  bytesDownloaded: number;
  bytesDecompressed: number;
  entries: number;
  /**
   * True when the listing is the whole layer: the whole blob was read and hashed to its digest and
   * the tar end-of-archive marker was reached (or it ends cleanly without it: `noEndMarker`), or the
   * layer's whole TOC was read (`toc`). Only verified listings are cached.
   */
  complete: boolean;
  /** Every byte of the blob was read (gzip trailers and padding after the end of the archive included) and hashed to its digest. */
  verified: boolean;
  /**
   * What the entries' `compressedOffset` are: "exact" (to the byte) or "bounded" (an upper bound:
   * a native decoder read the layer). Absent when no decoder ran (nothing was read).
   */
  offsets?: "exact" | "bounded";
  /** Complete, but the archive has no end-of-archive marker (Go and GNU tar accept that). */
  noEndMarker?: boolean;
  /** Set when the tar stream was read and the layer's TOC was checked against it and matched. */
  tocMatched?: "estargz" | "zstd:chunked";
  /** Set when the listing came from the layer's table of contents instead of its tar stream. */
  toc?: {
    format: "estargz" | "zstd:chunked";
    /** Compressed bytes of the TOC. */
    bytes: number;
    /** The TOC was checked against the digest in the layer's annotations. */
    checked: boolean;
  };
}
