import { LayerslayerError } from "../errors.ts";
import type { ProgressListener } from "../layer/progress.ts";
import { completeStats } from "../layer/stream.ts";
import type { ResolvedImage } from "../oci/resolve.ts";
import type { Entry, LayerStats } from "../types.ts";
import type { ListingCache } from "../cache/cache.ts";
import { listLayer } from "./listing.ts";
import { MergedTree } from "./merge.ts";

export interface LayerListing {
  index: number;
  /**
   * The layer's entries, in archive order; may be read more than once. Held compactly: read from
   * the cache part by part when they came from it, else packed in memory (packed-entries.ts).
   */
  entries: Iterable<Entry>;
  stats: LayerStats;
  /** Served from the cache: no blob bytes were downloaded. */
  cached: boolean;
}

export interface LoadOptions {
  cache?: ListingCache;
  /** Layers downloaded at once. */
  concurrency?: number;
  onLayer?: (listing: LayerListing) => void;
  /** Told when a layer's announced TOC cannot be used (the layer is then read whole). */
  onWarning?: (message: string) => void;
  signal?: AbortSignal;
  /** Progress of each layer read (src/layer/progress.ts). */
  onProgress?: ProgressListener;
}

/**
 * The complete listing of one layer, by the listing path (cache first, else read whole and
 * stored). A merged view needs complete listings, so an error here is an error of the command.
 */
export async function loadListing(img: ResolvedImage, index: number, opts: LoadOptions = {}): Promise<LayerListing> {
  const desc = img.manifest.image.layers[index];
  if (!desc) throw new LayerslayerError("USAGE", `the image has no layer ${index}`);
  const r = await listLayer(img.source, desc, index, { cache: opts.cache, onWarning: opts.onWarning, signal: opts.signal, onProgress: opts.onProgress, keep: true }).finish();
  return { index, entries: r.entries!, stats: completeStats(index, r), cached: r.cached };
}

/** Complete listings of the given layers, a few at a time, in index order. */
export async function loadListings(img: ResolvedImage, indexes: number[], opts: LoadOptions = {}): Promise<LayerListing[]> {
  const out: LayerListing[] = new Array(indexes.length);
  let next = 0;
  const worker = async () => {
    while (next < indexes.length) {
      const slot = next++;
      const listing = await loadListing(img, indexes[slot]!, opts);
      out[slot] = listing;
      opts.onLayer?.(listing);
    }
  };
  const n = Math.max(1, Math.min(opts.concurrency ?? 3, indexes.length));
  await Promise.all(Array.from({ length: n }, worker));
  return out;
}

/**
 * The merged filesystem of the given listings, bottom to top (with its history unless told
 * otherwise); with `seal`, sealed (merge.ts `seal`) as early as the last layer allows.
 */
export function mergeListings(listings: readonly LayerListing[], opts: { history?: boolean; seal?: boolean } = {}): MergedTree {
  const tree = new MergedTree(opts);
  tree.reserve(listings.reduce((n, l) => n + l.stats.entries, 0));
  listings.forEach((l, i) => tree.addLayer(l.entries, l.index, { seal: !!opts.seal && i === listings.length - 1 }));
  return tree;
}

/** The merged filesystem of the whole image (every layer, bottom to top). */
export async function loadMergedTree(img: ResolvedImage, opts: LoadOptions = {}): Promise<{ tree: MergedTree; listings: LayerListing[] }> {
  const indexes = img.manifest.image.layers.map((_, i) => i);
  const listings = await loadListings(img, indexes, opts);
  return { tree: mergeListings(listings), listings };
}
