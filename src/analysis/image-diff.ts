/**
 * `diff` of two images (or two layers), from complete listings and configs: what `diff -r` of the
 * two unpacked root file systems would say, plus the config and history, without pulling either.
 * Layers the two images share by digest at the bottom are named and not read (their listings are
 * used only when the cache already has them): see tree-diff.ts for what that means for a path.
 */
import type { ListingCache } from "../cache/cache.ts";
import { loadListings, mergeListings } from "../image/load.ts";
import { MergedTree } from "../image/merge.ts";
import type { ResolvedImage } from "../oci/resolve.ts";
import { contentDigests, type Wanted } from "./content.ts";
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
  onWarning?: (message: string) => void;
  signal?: AbortSignal;
}

export interface SharedLayer {
  index: number;
  digest: string;
}

export type FileChange = Omit<PathChange, "fields"> & { fields: (Field | "content")[] };

export interface ImageDiff {
  /** Layers both images have at the same place at the bottom, by digest. */
  shared: SharedLayer[];
  /** The shared layers' listings were read (from the cache): every path's state is known. */
  sharedRead: boolean;
  paths: FileChange[];
  /** Config and history changes (whole images only). */
  config: ConfigChange[];
  /** Regular files whose bytes were compared (with `content`). */
  contentCompared: number;
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
  const cache = opts.cache;
  const sharedRead = shared.length === 0 || (!!cache && shared.every((s) => cache.readListing(s.digest) !== undefined));
  const from = sharedRead ? 0 : shared.length;
  const indexesOf = (s: DiffSideInput) => (s.layer !== undefined ? [s.layer] : s.img.manifest.image.layers.map((_, i) => i).slice(from));
  const loadOpts = { ...(cache ? { cache } : {}), ...(opts.onWarning ? { onWarning: opts.onWarning } : {}), ...(opts.signal ? { signal: opts.signal } : {}) };
  const [listA, listB] = [await loadListings(a.img, indexesOf(a), loadOpts), await loadListings(b.img, indexesOf(b), loadOpts)];
  let bytesDownloaded = [...listA, ...listB].reduce((n, l) => n + l.stats.bytesDownloaded, 0);
  const treeA = listA.length ? mergeListings(listA) : new MergedTree();
  const treeB = listB.length ? mergeListings(listB) : new MergedTree();
  const paths: FileChange[] = [...diffTrees(treeA, treeB, !sharedRead, opts.ignoreMtime ? { ignoreMtime: true } : {})];
  let contentCompared = 0;
  if (opts.content) {
    const r = await compareContent(a.img, treeA, b.img, treeB, paths, opts.signal);
    contentCompared = r.compared;
    bytesDownloaded += r.bytesDownloaded;
  }
  return { shared, sharedRead, paths, config: layerMode ? [] : diffConfigs(a.img.config, b.img.config), contentCompared, bytesDownloaded };
}

/**
 * Hashes the regular files of equal size that both trees hold from layers with different digests
 * (a file from the same layer blob is the same file) and marks those whose bytes differ: an
 * existing change gains the field "content", an unchanged path becomes a change.
 */
async function compareContent(
  imgA: ResolvedImage,
  treeA: MergedTree,
  imgB: ResolvedImage,
  treeB: MergedTree,
  paths: FileChange[],
  signal?: AbortSignal,
): Promise<{ compared: number; bytesDownloaded: number }> {
  const pairs: { path: string; a: { layer: number; offset: number }; b: { layer: number; offset: number } }[] = [];
  const wantA: Wanted = new Map();
  const wantB: Wanted = new Map();
  const want = (w: Wanted, layer: number, offset: number) => w.set(layer, (w.get(layer) ?? new Set()).add(offset));
  for (const x of treeA.walk()) {
    if (x.entry.type !== "file" || x.entry.size === 0) continue;
    const y = treeB.get(x.path);
    if (!y || y.entry.type !== "file" || y.entry.size !== x.entry.size) continue;
    if (imgA.manifest.image.layers[x.layer]!.digest === imgB.manifest.image.layers[y.layer]!.digest) continue;
    pairs.push({ path: `/${x.path}`, a: { layer: x.layer, offset: x.entry.headerOffset }, b: { layer: y.layer, offset: y.entry.headerOffset } });
    want(wantA, x.layer, x.entry.headerOffset);
    want(wantB, y.layer, y.entry.headerOffset);
  }
  if (pairs.length === 0) return { compared: 0, bytesDownloaded: 0 };
  const [da, db] = [await contentDigests(imgA, wantA, signal), await contentDigests(imgB, wantB, signal)];
  const byPath = new Map(paths.map((p) => [p.path, p]));
  for (const p of pairs) {
    if (da.digests.get(p.a.layer)?.get(p.a.offset) === db.digests.get(p.b.layer)?.get(p.b.offset)) continue;
    const known = byPath.get(p.path);
    if (known) known.fields.push("content");
    else {
      const a = treeA.get(p.path)!;
      const b = treeB.get(p.path)!;
      paths.push({ path: p.path, kind: "modified", a: a.entry, b: b.entry, layerA: a.layer, layerB: b.layer, fields: ["content"] });
    }
  }
  paths.sort((x, y) => comparePaths(x.path, y.path));
  return { compared: pairs.length, bytesDownloaded: da.bytesDownloaded + db.bytesDownloaded };
}
