/**
 * `diff` of two images (or two layers), from complete listings and configs: what `diff -r` of the
 * two unpacked root file systems would say, plus the config and history, without pulling either.
 * Layers the two images share by digest at the bottom are named and not read (their listings are
 * used only when the cache already has them): see tree-diff.ts for what that means for a path.
 */
import type { ListingCache } from "../cache/cache.ts";
import { cachedListing, listingOrigin, loadListings, mergeListings, type LayerListing, type ListingOrigin, type LoadOptions } from "../image/load.ts";
import { MergedTree } from "../image/merge.ts";
import type { ResolvedImage } from "../oci/resolve.ts";
import { compareContents, type ContentPair } from "./content.ts";
import { diffConfigs, type ConfigChange } from "./config-diff.ts";
import { diffTrees, type Field, type PathChange } from "./tree-diff.ts";

export interface DiffSideInput {
  img: ResolvedImage;
  /** Compare this layer alone (its own changes, not merged) instead of the whole image. */
  layer?: number;
}

export interface ImageDiffOptions {
  cache?: ListingCache;
  ignoreMtime?: boolean;
  /** Also compare the bytes of regular files of equal size that come from different layers. */
  content?: boolean;
  /**
   * Read every layer's tar stream even when it has a TOC (a listing the cache holds from a TOC is
   * not used; the TOC is checked against the stream, a difference is CORRUPT), and compare content
   * by reading it, never by TOC digests.
   */
  verify?: boolean;
  onWarning?: (message: string) => void;
  signal?: AbortSignal;
}

export interface SharedLayer {
  index: number;
  digest: string;
}

export type FileChange = Omit<PathChange, "fields"> & {
  fields: (Field | "content")[];
  /** With "content": "toc" when the two layers' TOCs declare different digests (neither file was read), "bytes" when the bytes were read. */
  contentFrom?: "toc" | "bytes";
};

export interface ImageDiff {
  /** Layers both images have at the same place at the bottom, by digest. */
  shared: SharedLayer[];
  /** The shared layers' listings were read (from the cache): every path's state is known. */
  sharedRead: boolean;
  paths: FileChange[];
  /** Config and history changes (whole images only). */
  config: ConfigChange[];
  /** The listings each side's tree was made of (shared layers read from the cache included). */
  listings: { a: ListingOrigin[]; b: ListingOrigin[] };
  /** Regular files whose bytes were compared (with `content`). */
  contentCompared: number;
  /** Of those, the ones decided by the digests both layers' TOCs declare (neither file read). */
  contentByToc: number;
  /** Compressed bytes downloaded for listings and content. */
  bytesDownloaded: number;
}

/** The number of layers at the bottom of both lists with the same digests. */
export function sharedPrefix(a: ResolvedImage, b: ResolvedImage): SharedLayer[] {
  const la = a.manifest.image.layers;
  const lb = b.manifest.image.layers;
  const out: SharedLayer[] = [];
  for (let i = 0; i < Math.min(la.length, lb.length) && la[i]!.digest === lb[i]!.digest; i++) out.push({ index: i, digest: la[i]!.digest });
  return out;
}

/** Component-wise path order: the order `diffTrees` yields in ("/a/b" before "/a-b"). */
function comparePaths(x: string, y: string): number {
  const a = x.split("/");
  const b = y.split("/");
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  return a.length - b.length;
}

export async function diffImages(a: DiffSideInput, b: DiffSideInput, opts: ImageDiffOptions = {}): Promise<ImageDiff> {
  const layerMode = a.layer !== undefined || b.layer !== undefined;
  const shared = layerMode ? [] : sharedPrefix(a.img, b.img);
  const loadOpts: LoadOptions = {
    ...(opts.cache ? { cache: opts.cache } : {}),
    ...(opts.onWarning ? { onWarning: opts.onWarning } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.verify ? { verify: true } : {}),
    // The TOCs listings come from tell content apart by their digests.
    ...(opts.content && !opts.verify ? { keepToc: true } : {}),
  };
  // The shared layers' listings, looked up once and used for both sides, when the cache has them
  // all; else they are not read at all.
  const fromCache = shared.map((s) => cachedListing(a.img, s.index, loadOpts));
  const base = fromCache.every((l) => l !== undefined) ? fromCache : undefined;
  const sharedRead = shared.length === 0 || base !== undefined;
  const upper = (s: DiffSideInput) => (s.layer !== undefined ? [s.layer] : s.img.manifest.image.layers.map((_, i) => i).slice(shared.length));
  const listA = [...(base ?? []), ...(await loadListings(a.img, upper(a), loadOpts))];
  const listB = [...(base ?? []), ...(await loadListings(b.img, upper(b), loadOpts))];
  let bytesDownloaded = [...listA, ...listB].reduce((n, l) => n + l.stats.bytesDownloaded, 0);
  const treeA = listA.length ? mergeListings(listA) : new MergedTree();
  const treeB = listB.length ? mergeListings(listB) : new MergedTree();
  const paths: FileChange[] = [...diffTrees(treeA, treeB, !sharedRead, opts.ignoreMtime ? { ignoreMtime: true } : {})];
  let contentCompared = 0;
  let contentByToc = 0;
  if (opts.content) {
    const r = await compareContent({ img: a.img, tree: treeA, listings: listA }, { img: b.img, tree: treeB, listings: listB }, paths, opts);
    contentCompared = r.compared;
    contentByToc = r.byToc;
    bytesDownloaded += r.bytesDownloaded;
  }
  return {
    shared,
    sharedRead,
    paths,
    config: layerMode ? [] : diffConfigs(a.img.config, b.img.config),
    listings: { a: listA.map(listingOrigin), b: listB.map(listingOrigin) },
    contentCompared,
    contentByToc,
    bytesDownloaded,
  };
}

interface ContentInput {
  img: ResolvedImage;
  tree: MergedTree;
  listings: LayerListing[];
}

/**
 * Compares the regular files of equal size that both trees hold from layers with different digests
 * (a file from the same layer blob is the same file) and marks those whose bytes differ: an
 * existing change gains the field "content", an unchanged path becomes a change.
 */
async function compareContent(
  A: ContentInput,
  B: ContentInput,
  paths: FileChange[],
  opts: ImageDiffOptions,
): Promise<{ compared: number; byToc: number; bytesDownloaded: number }> {
  const pairs: (ContentPair & { path: string })[] = [];
  for (const x of A.tree.walk()) {
    if (x.entry.type !== "file" || x.entry.size === 0) continue;
    const y = B.tree.get(x.path);
    if (!y || y.entry.type !== "file" || y.entry.size !== x.entry.size) continue;
    if (A.img.manifest.image.layers[x.layer]!.digest === B.img.manifest.image.layers[y.layer]!.digest) continue;
    pairs.push({ path: `/${x.path}`, a: { layer: x.layer, entry: x.entry }, b: { layer: y.layer, entry: y.entry } });
  }
  if (pairs.length === 0) return { compared: 0, byToc: 0, bytesDownloaded: 0 };
  const side = (s: ContentInput) => ({ img: s.img, listings: new Map(s.listings.map((l) => [l.index, l])) });
  const v = await compareContents(side(A), side(B), pairs, { cache: opts.cache, verify: opts.verify, signal: opts.signal, onWarning: opts.onWarning });
  const byPath = new Map(paths.map((p) => [p.path, p]));
  pairs.forEach((p, i) => {
    if (!v.differs[i]) return;
    const contentFrom = v.byToc[i] ? "toc" : "bytes";
    const known = byPath.get(p.path);
    if (known) {
      known.fields.push("content");
      known.contentFrom = contentFrom;
    } else {
      paths.push({ path: p.path, kind: "modified", a: p.a.entry, b: p.b.entry, layerA: p.a.layer, layerB: p.b.layer, fields: ["content"], contentFrom });
    }
  });
  paths.sort((x, y) => comparePaths(x.path, y.path));
  return { compared: pairs.length, byToc: v.byToc.filter(Boolean).length, bytesDownloaded: v.bytesDownloaded };
}
