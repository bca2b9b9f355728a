/**
 * `cache warm`: one pass over each layer that leaves in the cache everything later reads need, its
 * complete listing and, for a gzip layer, its checkpoints, so `cat` of any file later starts at
 * most one checkpoint span before it. The listing is always the tar stream's: a layer with a TOC is
 * read whole too, and its TOC checked against the stream (a difference is CORRUPT); a listing only
 * taken from a TOC in the cache is replaced.
 */
import type { ListingCache } from "../cache/cache.ts";
import { CheckpointSet } from "../codec/checkpoint.ts";
import { LayerslayerError } from "../errors.ts";
import type { ProgressListener } from "../layer/progress.ts";
import { completeStats } from "../layer/stream.ts";
import type { ResolvedImage } from "../oci/resolve.ts";
import { listLayer } from "./listing.ts";

export interface WarmResult {
  index: number;
  digest: string;
  /** "warmed" (read now), "cached" (listing and checkpoints were there already). */
  status: "warmed" | "cached";
  entries: number;
  bytesDownloaded: number;
  checkpoints: number;
  /** Where the listing came from: always "stream" (the layer itself), kept for scripts. */
  from: "stream";
  /** The layer's TOC format, when it has one and it matched the stream. */
  tocMatched?: "estargz" | "zstd:chunked";
}

export interface WarmOptions {
  signal?: AbortSignal;
  onProgress?: ProgressListener;
  onWarning?: (message: string) => void;
}

/** Warms layer `index`: complete listing plus checkpoints, unless the cache has them already. */
export async function warmLayer(img: ResolvedImage, index: number, store: ListingCache, opts: WarmOptions = {}): Promise<WarmResult> {
  const desc = img.manifest.image.layers[index];
  if (!desc) throw new LayerslayerError("USAGE", `the image has no layer ${index}`);
  const have = store.readListing(desc.digest);
  const indexed = store.getLayerIndex(desc.digest);
  if (have && !have.stats.toc && indexed && !indexed.prefix) {
    return {
      index,
      digest: desc.digest,
      status: "cached",
      entries: have.stats.entries,
      bytesDownloaded: 0,
      checkpoints: indexed.checkpoints.length,
      from: "stream",
      ...(have.stats.tocMatched ? { tocMatched: have.stats.tocMatched } : {}),
    };
  }
  const set = new CheckpointSet();
  // The listing path stores the listing (the TOC, if any, checked against the stream); the
  // checkpoints are this read's own to keep.
  const listing = listLayer(img.source, desc, index, {
    cache: store,
    signal: opts.signal,
    onProgress: opts.onProgress,
    onWarning: opts.onWarning,
    read: { offsets: "exact", checkpoints: set, checkToc: "always" },
  });
  const stats = completeStats(index, await listing.finish());
  if (set.list.length > 0) store.putLayerIndex(desc.digest, { checkpoints: set.list }, desc.size);
  return {
    index,
    digest: desc.digest,
    status: "warmed",
    entries: stats.entries,
    bytesDownloaded: stats.bytesDownloaded,
    checkpoints: set.list.length,
    from: "stream",
    ...(stats.tocMatched ? { tocMatched: stats.tocMatched } : {}),
  };
}
