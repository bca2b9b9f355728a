/**
 * layerslayer as a library: the same functions the CLI uses.
 *
 *   for await (const entry of peekLayer("alpine:3.20", 0, { budget: 64 * 1024 })) console.log(entry.path);
 *
 * docs/library.md shows the rest: progress events, cancelling, the cache, local images.
 */
import { efficiencyOfImage, type EfficiencyReport } from "./analysis/efficiency.ts";
import { diffImages, type ImageDiff } from "./analysis/image-diff.ts";
import { LayerslayerError } from "./errors.ts";
import { extractFile, type ExtractResult } from "./image/extract.ts";
import type { ListingCache } from "./cache/cache.ts";
import { listLayer, type LayerEntries, type ListingResult, type ListOptions } from "./image/listing.ts";
import { loadMergedTree, type ListingOrigin } from "./image/load.ts";
import type { Progress, ProgressListener } from "./layer/progress.ts";
import type { MergedTree } from "./image/merge.ts";
import { selectLayers } from "./image/select.ts";
import type { LayerResult } from "./layer/stream.ts";
import { parseReference, type ImageRef } from "./ref/reference.ts";
import { RegistryClient, type ClientOptions } from "./registry/client.ts";
import type { Platform } from "./oci/manifest.ts";
import { openImage, openSource } from "./source/open.ts";
import { RegistrySource } from "./source/registry.ts";
import { parseImageName, type ImageName } from "./ref/name.ts";
import { resolveImage, type ResolvedImage } from "./oci/resolve.ts";
import type { ImageSource } from "./source/source.ts";
import type { Entry, LayerStats } from "./types.ts";

export { LayerslayerError, listLayer, openImage, openSource, parseImageName, parseReference, RegistryClient, RegistrySource, resolveImage };
// Finding images: Docker Hub's API, the registry search protocol; saving logins.
export { HubClient, hubEndpoint, type HubList } from "./hub/client.ts";
export type { HubImage, HubRepository, HubTag } from "./hub/shapes.ts";
export { registrySearch, sortResults, type SearchResult } from "./registry/search.ts";
export { removeLogin, saveLogin } from "./registry/auth-store.ts";
export type {
  EfficiencyReport,
  Entry,
  ExtractResult,
  ImageDiff,
  ImageRef,
  ImageSource,
  LayerEntries,
  LayerResult,
  LayerStats,
  ListingCache,
  ListingOrigin,
  ListingResult,
  ListOptions,
  MergedTree,
  Platform,
  Progress,
  ProgressListener,
  ResolvedImage,
};

export interface ImageOptions extends ClientOptions {
  platform?: Platform;
  /** Reuse a client (and its tokens) across calls. */
  client?: RegistryClient;
  /** Reuse an image already resolved. */
  image?: ResolvedImage;
  cache?: ListingCache;
}

/** A registry reference, or a local image named like skopeo names them (oci:DIR:TAG, oci-archive:FILE, docker-archive:FILE:REF). */
async function open(ref: string | ImageRef, opts: ImageOptions, signal?: AbortSignal): Promise<ResolvedImage> {
  if (opts.image) return opts.image;
  const name: ImageName | string = typeof ref === "string" ? ref : { transport: "registry", ref };
  return openImage(name, () => opts.client ?? new RegistryClient(opts), opts.platform, { signal });
}

export interface PeekOptions extends ImageOptions {
  /** Compressed bytes allowed; undefined reads the whole layer. */
  budget?: number;
  /** Cancels the listing: the download stops within moments and the entries end with an ABORTED error. */
  signal?: AbortSignal;
  /** Running counts of the read (bytes downloaded and decoded, entries); the last event has `done`. */
  onProgress?: ProgressListener;
}

/**
 * Lists one layer (index, negative index or digest) while downloading at most `budget` compressed
 * bytes (the whole layer without one): yields entries as they are decoded, returns the stats.
 * With `cache`, a complete listing there answers at once, and a complete read is stored. A layer
 * cut short by corrupt data throws after yielding every entry found before it; a cancelled one
 * (`signal`) throws a LayerslayerError with code ABORTED.
 */
export async function* peekLayer(ref: string | ImageRef, layer: number | string, opts: PeekOptions = {}): AsyncGenerator<Entry, LayerStats> {
  // The signal cancels the manifest and config reads too; their progress is not the layer's.
  const image = await open(ref, opts, opts.signal);
  const layers = image.manifest.image.layers;
  const [index] = selectLayers(String(layer), layers);
  if (index === undefined) throw new LayerslayerError("USAGE", `no layer ${layer}`);
  const listing = listLayer(image.source, layers[index]!, index, { budget: opts.budget, cache: opts.cache, signal: opts.signal, onProgress: opts.onProgress });
  yield* listing;
  const { stats, error } = listing.result!;
  if (error) throw error;
  return stats;
}

/** The merged filesystem of the image (complete listings of every layer, whiteouts applied). */
export async function mergedTree(ref: string | ImageRef, opts: ImageOptions = {}): Promise<MergedTree> {
  const image = await open(ref, opts);
  return (await loadMergedTree(image, opts.cache ? { cache: opts.cache } : {})).tree;
}

/** One file of the merged image, as bytes (for big files use the CLI's streaming `cat`). */
export async function readFile(ref: string | ImageRef, path: string, opts: ImageOptions = {}): Promise<{ bytes: Uint8Array; result: ExtractResult }> {
  const image = await open(ref, opts);
  const parts: Uint8Array[] = [];
  const result = await extractFile(image, path, (c) => void parts.push(c.slice()), opts.cache ? { cache: opts.cache } : {});
  return { bytes: new Uint8Array(Buffer.concat(parts)), result };
}

export interface CompareOptions extends Omit<ImageOptions, "image"> {
  /** Do not report modification times that differ. */
  ignoreMtime?: boolean;
  /** Also compare the bytes of regular files of equal size (by TOC digests when both layers have TOCs, else by reading them). */
  content?: boolean;
  /** Read every layer's tar stream even when it has a TOC, and compare content by reading it. */
  verify?: boolean;
  signal?: AbortSignal;
  onWarning?: (message: string) => void;
}

/**
 * What `diff A B` reports (docs/analysis.md): paths added, removed and changed, config and history,
 * the layers the two share (not read unless the cache holds their listings), and where each
 * listing came from. Two images of any source; same when `paths` and `config` are both empty.
 */
export async function compareImages(a: string | ImageRef, b: string | ImageRef, opts: CompareOptions = {}): Promise<ImageDiff> {
  const [imgA, imgB] = [await open(a, opts), await open(b, opts)];
  return await diffImages({ img: imgA }, { img: imgB }, opts);
}

/** What `efficiency IMAGE` reports (wasted space as dive counts it, docs/analysis.md), and where each layer's listing came from. */
export async function imageEfficiency(
  ref: string | ImageRef,
  opts: ImageOptions & { verify?: boolean; signal?: AbortSignal } = {},
): Promise<EfficiencyReport & { listings: ListingOrigin[] }> {
  const image = await open(ref, opts);
  return await efficiencyOfImage(image, { ...(opts.cache ? { cache: opts.cache } : {}), ...(opts.signal ? { signal: opts.signal } : {}), verify: !!opts.verify });
}
