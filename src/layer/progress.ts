/**
 * The progress of one layer's listing, as events: every front end draws the same events (the CLI's
 * bar on stderr, a browser's per-layer gauge, a server's event stream), and none of them counts
 * bytes itself. Counts are running totals for the layer, so an event can be dropped or drawn late
 * without losing anything; the last event of a layer has `done` set and the final counts.
 */
export interface Progress {
  /**
   * One of the documents an image is made of, read before its layers (src/oci/resolve.ts): then
   * `layer` is -1, `size` is the descriptor's (0 when the reference names it by tag), `decoded`
   * is `downloaded` and `entries` 0. Absent for a layer.
   */
  document?: "index" | "manifest" | "config";
  /** The layer's index in the image manifest (-1 for a document). */
  layer: number;
  /** The layer blob's digest. */
  digest: string;
  /** The blob's compressed size, from its descriptor. */
  size: number;
  /** Compressed bytes downloaded so far (a TOC search's tail read included); at most `size`. */
  downloaded: number;
  /** Decompressed (tar) bytes read so far. */
  decoded: number;
  /** Entries listed so far. */
  entries: number;
  /** The listing is read from the local cache: nothing is downloaded. */
  cached: boolean;
  /** The last event of the layer: the counts are final. */
  done: boolean;
}

export type ProgressListener = (p: Progress) => void;
