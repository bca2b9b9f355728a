import type { ListingCache, StoredListing } from "../cache/cache.ts";
import { LayerslayerError } from "../errors.ts";
import { completeStats, streamLayer } from "../layer/stream.ts";
import type { ResolvedImage } from "../oci/resolve.ts";
import type { Entry, LayerStats } from "../types.ts";
import { MergedTree } from "./merge.ts";
import { PackedEntries } from "./packed-entries.ts";

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
  /** Stops the downloads (a client that went away). */
  signal?: AbortSignal;
}

/**
 * The complete listing of one layer: from the cache when it has it, else downloaded whole (and then
 * stored). A merged view needs complete listings, so an error here is an error of the command.
 */
export async function loadListing(img: ResolvedImage, index: number, cache?: ListingCache, onWarning?: (message: string) => void, signal?: AbortSignal): Promise<LayerListing> {
  const desc = img.manifest.image.layers[index];
  if (!desc) throw new LayerslayerError("USAGE", `the image has no layer ${index}`);
  const stored = cache?.readListing(desc.digest);
  if (stored) return { index, entries: storedEntries(stored, index), stats: { ...stored.stats, bytesDownloaded: 0 }, cached: true };
  // Each part is encoded once: packed in memory and stored in the cache as the same bytes.
  const writer = cache?.beginListing(desc.digest);
  const entries = new PackedEntries(writer ? (part, data) => writer.addPart(part, data) : undefined);
  const gen = streamLayer(img.source, desc, index, { ...(onWarning ? { onWarning } : {}), ...(signal ? { signal } : {}) });
  try {
    for (;;) {
      const next = await gen.next();
      if (next.done) {
        const stats = completeStats(index, next.value);
        if (writer) {
          for (const e of entries.unpacked()) writer.add(e);
          writer.finish(stats);
        } else cache?.putListing(stats, [...entries]);
        return { index, entries, stats, cached: false };
      }
      if (next.value.kind === "entry") entries.add(next.value.entry);
    }
  } catch (e) {
    writer?.abort();
    throw e;
  }
}

/** A cached listing's entries, read part by part each time they are iterated. */
function storedEntries(stored: StoredListing, index: number): Iterable<Entry> {
  return {
    *[Symbol.iterator]() {
      const parts = stored.parts();
      let r = parts.next();
      for (; !r.done; r = parts.next()) {
        for (const e of r.value) {
          e.layer = index;
          yield e;
        }
      }
      if (!r.value) throw new LayerslayerError("IO", `the cached listing of layer ${index} was damaged and has been dropped from the cache: run the command again`);
    },
  };
}

/** Complete listings of the given layers, a few at a time, in index order. */
export async function loadListings(img: ResolvedImage, indexes: number[], opts: LoadOptions = {}): Promise<LayerListing[]> {
  const out: LayerListing[] = new Array(indexes.length);
  let next = 0;
  const worker = async () => {
    while (next < indexes.length) {
      const slot = next++;
      const listing = await loadListing(img, indexes[slot]!, opts.cache, opts.onWarning, opts.signal);
      out[slot] = listing;
      opts.onLayer?.(listing);
    }
  };
  const n = Math.max(1, Math.min(opts.concurrency ?? 3, indexes.length));
  await Promise.all(Array.from({ length: n }, worker));
  return out;
}

/** The merged filesystem of the given listings, bottom to top. */
export function mergeListings(listings: readonly LayerListing[]): MergedTree {
  const tree = new MergedTree();
  for (const l of listings) tree.addLayer(l.entries, l.index);
  return tree;
}

/** The merged filesystem of the whole image (every layer, bottom to top). */
export async function loadMergedTree(img: ResolvedImage, opts: LoadOptions = {}): Promise<{ tree: MergedTree; listings: LayerListing[] }> {
  const indexes = img.manifest.image.layers.map((_, i) => i);
  const listings = await loadListings(img, indexes, opts);
  return { tree: mergeListings(listings), listings };
}
