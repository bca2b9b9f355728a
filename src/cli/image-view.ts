import { LayerslayerError } from "../errors.ts";
import type { MergedTree } from "../image/merge.ts";
import { decodeTree, encodeTree, treeKey } from "../image/tree-codec.ts";
import { selectLayers } from "../image/select.ts";
import type { ImageLayers } from "../image/load.ts";
import type { ResolvedImage } from "../oci/resolve.ts";
import type { ImageSource } from "../source/source.ts";
import { alignHistory, type Step } from "../oci/config.ts";
import { humanSize } from "../output/format.ts";
import { resolveWhileReading, type Context } from "./common.ts";

export interface ImageView {
  img: ResolvedImage;
  tree: MergedTree;
  /** The layers merged, by index, bottom first. */
  layers: number[];
  stepOfLayer: (Step | undefined)[];
  /**
   * A tree of the same layers with its history: `tree` itself, unless that was built without it
   * (`history: false`), in which case it is merged again from the listings on the first call.
   */
  historyTree: () => MergedTree;
}

/** Trees up to this many paths are kept in the cache (a larger one is rebuilt from its listings). */
const MAX_CACHED_TREE = 250_000;

/**
 * Resolves the image and loads the complete listing of its layers (cache first) into a merged
 * tree: every layer, or those a `--layer` value names. With `history: false` (the caller asks
 * nothing of the history but through `historyTree`), a tree of more than MAX_CACHED_TREE entries
 * is built without its history, which is a third of its memory. The layers are read while the
 * config is (one round trip less); a config that cannot be read stops them and is the error.
 */
export async function openImageView(
  ctx: Context,
  source: ImageSource,
  opts: { layer?: string; single?: boolean; history?: boolean; signal?: AbortSignal; image?: ResolvedImage } = {},
): Promise<ImageView> {
  const signal = opts.signal ?? ctx.signal;
  const withSteps = (img: ResolvedImage, view: LayersView): ImageView => ({ img, ...view, stepOfLayer: alignHistory(img.config, img.manifest.image.layers.length).stepOfLayer });
  if (opts.image) return withSteps(opts.image, await layersView(ctx, opts.image, opts, signal));
  const { img, result } = await resolveWhileReading(ctx, source, signal, (layers, reads) => layersView(ctx, layers, opts, reads));
  return withSteps(img, result);
}

/** An image view but for the history steps (which need the config). */
type LayersView = Omit<ImageView, "img" | "stepOfLayer">;

/** The merged tree of the layers `opts.layer` names: kept in the cache, or merged from their listings. */
async function layersView(ctx: Context, img: ImageLayers, opts: { layer?: string; single?: boolean; history?: boolean }, signal: AbortSignal): Promise<LayersView> {
  const indexes = selectLayers(opts.layer, img.manifest.image.layers);
  if (opts.single && indexes.length !== 1) throw new LayerslayerError("USAGE", `--layer ${opts.layer}: names ${indexes.length} layers; give one`);
  // The merged tree of the same layers, kept from an earlier run: no listing is read at all.
  const key = treeKey(indexes.map((i) => [i, img.manifest.image.layers[i]!.digest] as const));
  const kept = ctx.useCache ? ctx.cache.getTree(key) : undefined;
  const keptTree = kept ? decodeTree(kept) : undefined;
  if (keptTree) {
    if (ctx.verbose) ctx.note(`the merged tree of ${indexes.length} layers from the cache`);
    return { tree: keptTree, layers: indexes, historyTree: () => keptTree };
  }
  // Listings (the cache's or the layers' own) and the machinery that reads them load only when no
  // kept tree answers: a cached `ls` never needs them (docs/performance.md).
  const [{ loadListings, mergeListings }, { layerProgress }, { tocDeclared }] = await Promise.all([
    import("../image/load.ts"),
    import("./layer-progress.ts"),
    import("./peek-layer.ts"),
  ]);
  const progress = layerProgress(ctx, img.manifest.image.layers, indexes);
  let listings;
  try {
    listings = await loadListings(img, indexes, {
      ...(ctx.useCache ? { cache: ctx.cache } : {}),
      signal,
      onWarning: (m) => {
        progress?.clear();
        ctx.warn(m);
      },
      ...(progress ? { onProgress: progress.listener } : {}),
    });
  } finally {
    // Whatever ended the reads (a cancel too): no progress line left under the next one.
    progress?.clear();
  }
  const entries = listings.reduce((n, l) => n + l.stats.entries, 0);
  const history = opts.history !== false || entries <= MAX_CACHED_TREE;
  // A tree without its history is ls's: walked, and asked about a few paths (sealed).
  const tree = mergeListings(listings, { history, seal: !history });
  let full: MergedTree | undefined;
  const historyTree = () => (tree.hasHistory ? tree : (full ??= mergeListings(listings)));
  // Kept only when made of verified listings (as listings are: a TOC's listing, not checked
  // against the blob, is not), with its history, and not too large to store.
  if (ctx.useCache && tree.hasHistory && tree.size <= MAX_CACHED_TREE && listings.every((l) => l.stats.verified)) {
    const bytes = encodeTree(tree);
    if (bytes) ctx.cache.putTree(key, bytes);
  }
  // A TOC's listing is what the image's author declares, not what the tar stream (which runtimes apply) holds.
  const declared = tocDeclared(listings.filter((l) => l.stats.toc).map((l) => l.index));
  if (declared) ctx.note(`${declared} (the tar stream was not read; \`cache warm\` or \`peek --full --verify\` reads and checks it)`);
  const downloaded = listings.reduce((n, l) => n + l.stats.bytesDownloaded, 0);
  const cached = listings.filter((l) => l.cached).length;
  if (ctx.verbose) ctx.note(`${listings.length} layer listings: ${cached} from the cache, ${humanSize(downloaded)} downloaded`);
  return { tree, layers: indexes, historyTree };
}
