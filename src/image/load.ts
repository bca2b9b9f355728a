import { LayerslayerError } from "../errors.ts";
import type { ProgressListener } from "../layer/progress.ts";
import { completeStats } from "../layer/stream.ts";
import type { ResolvedImage } from "../oci/resolve.ts";
import type { Entry, LayerStats } from "../types.ts";
import type { ListingCache } from "../cache/cache.ts";
import type { LayerToc } from "../toc/index.ts";
import { cachedLayerListing, listLayer } from "./listing.ts";
import { MergedTree } from "./merge.ts";

/**
 * What reading an image's layers needs of it: its source and its manifest's layers (a resolved
 * image, or one whose config is still being read: openImageView starts on the layers meanwhile).
 */
export type ImageLayers = Pick<ResolvedImage, "source"> & { manifest: { image: Pick<ResolvedImage["manifest"]["image"], "layers"> } };

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
  /** With `keepToc`: the TOC the listing was read from in this run (`stats.toc` says whether it came from one). */
  toc?: LayerToc;
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
  /**
   * Read each layer's tar stream even when it has a TOC (a listing the cache holds from a TOC is
   * not used), and check the TOC against it: a difference is CORRUPT.
   */
  verify?: boolean;
  /** Keep the TOC a listing was read from (`LayerListing.toc`). */
  keepToc?: boolean;
}

/** The listing path's read options for `opts`. */
function readOf(opts: LoadOptions) {
  return opts.verify ? { checkToc: "always" as const } : undefined;
}

/**
 * The complete listing of one layer, by the listing path (cache first, else read whole and
 * stored). A merged view needs complete listings, so an error here is an error of the command.
 */
export async function loadListing(img: ImageLayers, index: number, opts: LoadOptions = {}): Promise<LayerListing> {
  const desc = img.manifest.image.layers[index];
  if (!desc) throw new LayerslayerError("USAGE", `the image has no layer ${index}`);
  const r = await listLayer(img.source, desc, index, {
    cache: opts.cache,
    onWarning: opts.onWarning,
    signal: opts.signal,
    onProgress: opts.onProgress,
    keep: true,
    keepToc: opts.keepToc,
    read: readOf(opts),
  }).finish();
  return { index, entries: r.entries!, stats: completeStats(index, r), cached: r.cached, ...(r.toc ? { toc: r.toc } : {}) };
}

/** Layer `index`'s complete listing when the cache has one the read may use (see `verify`); nothing is downloaded. */
export function cachedListing(img: ImageLayers, index: number, opts: LoadOptions): LayerListing | undefined {
  const desc = img.manifest.image.layers[index];
  if (!desc) throw new LayerslayerError("USAGE", `the image has no layer ${index}`);
  const r = opts.cache && cachedLayerListing(opts.cache, desc, index, readOf(opts));
  return r ? { index, entries: r.entries!, stats: r.stats, cached: true } : undefined;
}

/** Where one layer's listing came from (for a command's output). */
export interface ListingOrigin {
  index: number;
  /** "toc": what the layer's TOC declares (its tar stream unread); "stream": the tar stream's. */
  source: "toc" | "stream";
  /** With "toc": the TOC's format, size and whether its digest matched the layer's annotation. */
  toc?: LayerStats["toc"];
  /** The listing came from the cache. */
  cached: boolean;
}

export function listingOrigin(l: LayerListing): ListingOrigin {
  return { index: l.index, source: l.stats.toc ? "toc" : "stream", toc: l.stats.toc, cached: l.cached };
}

/** Complete listings of the given layers, a few at a time, in index order. */
export async function loadListings(img: ImageLayers, indexes: number[], opts: LoadOptions = {}): Promise<LayerListing[]> {
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
