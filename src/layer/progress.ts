/**
 * The progress of one layer's listing, as events: every front end draws the same events (the CLI's
 * bar on stderr, a browser's per-layer gauge, a server's event stream), and none of them counts
 * bytes itself. Counts are running totals for the layer, so an event can be dropped or drawn late
 * without losing anything; the last event of a layer has `done` set and the final counts.
 */
export interface Progress {
  /**
   * One of the documents an image is made of, read before its layers (src/oci/resolve.ts): then
   * `layer` is -1, `size` is the descriptor's (0 when the reference names it by tag, until its
   * last event, which also says whether it was an index), `decoded` is `downloaded` and `entries`
   * 0. Absent for a layer.
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
  /**
   * A whole blob saved to disk (save): bytes already there, checked against the digest instead of
   * downloaded again (a resumed or present file). They count as read, not as downloaded.
   */
  verified?: number;
  /** The last event of the layer: the counts are final. */
  done: boolean;
}

export type ProgressListener = (p: Progress) => void;

/**
 * A whole-blob download's progress (src/blob/download.ts: `done` bytes of the blob handled, on
 * disk or hashed, `downloaded` of them off the network) as the event of layer `layer`.
 */
export function downloadProgress(layer: number, desc: { digest: string; size: number }, p: { done: number; downloaded: number }, done = false): Progress {
  return { layer, digest: desc.digest, size: desc.size, downloaded: p.downloaded, decoded: 0, entries: 0, cached: false, verified: Math.max(0, p.done - p.downloaded), done };
}
