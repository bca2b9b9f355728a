/**
 * Where an image wastes space, counted the way dive counts it (wagoodman/dive, filetree/efficiency.go),
 * from complete layer listings alone: no file content is read.
 *
 * Each layer is seen as its own tree (its members plus the directories their paths imply). Every
 * leaf of a layer's tree (a member with no member below it in the same layer) is one "visit" of its
 * path, sized:
 *   - a file, link or empty directory: the size its tar header gives;
 *   - a whiteout (`dir/.wh.NAME`): the total size of what it deletes when that is a directory in the
 *     merged view of the layers below (the directory and everything under it), else 0.
 * Per path: `cumulative` = the sum of its visits' sizes, `minimum` = the smallest of them.
 *   efficiency       = Σ minimum / Σ cumulative over every path (1 when Σ cumulative is 0)
 *   wasted bytes     = Σ cumulative over the paths visited in two or more layers
 *   size             = Σ of every member's size in every layer
 *   user size        = the same without layer 0 (the base)
 *   user wasted %    = wasted bytes / user size (0 when the user size is 0; dive divides anyway)
 * One difference from dive, on purpose: dive ignores opaque directories (`dir/.wh..wh..opq`), so
 * what they hide is never counted. Here an opaque marker is a whiteout of each child the lower
 * layers had in `dir`, sized by the same rule.
 */
import { listingOrigin, loadListings, type ListingOrigin, type LoadOptions } from "../image/load.ts";
import { MergedTree } from "../image/merge.ts";
import type { ResolvedImage } from "../oci/resolve.ts";
import { baseName, classifyMember, joinPath, parentOf, ROOT } from "../image/paths.ts";
import type { Entry } from "../types.ts";

export interface PathWaste {
  /** Absolute path ("/var/cache/apt/pkgcache.bin"). */
  path: string;
  /** Sum of the sizes of every visit of the path. */
  cumulativeSize: number;
  /** The layers that touched it, in order. */
  layers: number[];
}

export interface EfficiencyReport {
  efficiency: number;
  sizeBytes: number;
  userSizeBytes: number;
  wastedBytes: number;
  /** A fraction (0.1 = 10 %), as dive's `highestUserWastedPercent` reads it. */
  wastedUserPercent: number;
  /** Paths visited in two or more layers, most wasted first (then by path). */
  inefficiencies: PathWaste[];
}

interface PathData {
  cumulative: number;
  minimum: number;
  layers: number[];
}

/** One layer's leaves: the members no other member of the same layer sits below, with their sizes. */
function layerLeaves(entries: Iterable<Entry>, below: MergedTree): { leaves: Map<string, number>; size: number } {
  const sizes = new Map<string, number>();
  const parents = new Set<string>();
  let size = 0;
  const visit = (path: string, bytes: number) => {
    // The same path twice in one layer is one node of its tree, with the later member's size.
    sizes.set(path, bytes);
    for (let p = parentOf(path); p !== undefined && p !== ROOT && !parents.has(p); p = parentOf(p)) parents.add(p);
  };
  for (const e of entries) {
    size += e.size;
    const m = classifyMember(e);
    // The root is no node of dive's trees (it refuses to add "."), so it is never a leaf.
    if (m.kind === "entry" && m.path !== ROOT) visit(m.path, e.size);
    else if (m.kind === "whiteout") visit(m.target, removedSize(below, m.target));
    else if (m.kind === "opaque") {
      for (const child of below.list(m.target)) visit(joinPath(m.target, baseName(child.path)), removedSize(below, child.path));
      // The directory itself stays (it is what the marker sits in): it is not a leaf of this layer.
      if (m.target !== ROOT) parents.add(m.target);
    }
  }
  for (const p of parents) sizes.delete(p);
  return { leaves: sizes, size };
}

/** What a whiteout of `path` removes, as dive sizes it: a directory's whole subtree, else 0. */
function removedSize(below: MergedTree, path: string): number {
  const node = below.get(path);
  if (!node || node.entry.type !== "dir") return 0;
  let total = node.entry.size;
  for (const n of below.walk(path)) total += n.entry.size;
  return total;
}

/**
 * The efficiency of an image from its layers' complete listings, bottom first. Each listing is
 * read twice (once for its leaves, once to stack it for the layers above), so it must be re-iterable.
 */
export function analyzeEfficiency(layers: readonly Iterable<Entry>[]): EfficiencyReport {
  const paths = new Map<string, PathData>();
  const stacked = new MergedTree();
  let sizeBytes = 0;
  let userSizeBytes = 0;
  layers.forEach((entries, layer) => {
    const { leaves, size } = layerLeaves(entries, stacked);
    sizeBytes += size;
    if (layer > 0) userSizeBytes += size;
    for (const [path, bytes] of leaves) {
      const d = paths.get(path);
      if (!d) paths.set(path, { cumulative: bytes, minimum: bytes, layers: [layer] });
      else {
        d.cumulative += bytes;
        d.minimum = Math.min(d.minimum, bytes);
        d.layers.push(layer);
      }
    }
    if (layer < layers.length - 1) stacked.addLayer(entries, layer);
  });
  let minimum = 0;
  let cumulative = 0;
  let wastedBytes = 0;
  const inefficiencies: PathWaste[] = [];
  for (const [path, d] of paths) {
    minimum += d.minimum;
    cumulative += d.cumulative;
    if (d.layers.length > 1) {
      wastedBytes += d.cumulative;
      inefficiencies.push({ path: `/${path}`, cumulativeSize: d.cumulative, layers: d.layers });
    }
  }
  inefficiencies.sort((a, b) => b.cumulativeSize - a.cumulativeSize || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return {
    efficiency: cumulative === 0 ? 1 : minimum / cumulative,
    sizeBytes,
    userSizeBytes,
    wastedBytes,
    wastedUserPercent: userSizeBytes === 0 ? 0 : wastedBytes / userSizeBytes,
    inefficiencies,
  };
}

/** The efficiency of a whole image, its layers' complete listings loaded by the listing path; with where each listing came from. */
export async function efficiencyOfImage(img: ResolvedImage, opts: LoadOptions = {}): Promise<EfficiencyReport & { listings: ListingOrigin[] }> {
  const listings = await loadListings(
    img,
    img.manifest.image.layers.map((_, i) => i),
    opts,
  );
  return { ...analyzeEfficiency(listings.map((l) => l.entries)), listings: listings.map(listingOrigin) };
}
