/**
 * The image pane's merged tree while the listings come in: every layer's best listing so far (the
 * complete one, else the entries read so far), merged bottom to top. It is built again from them
 * when something new arrives, at most every BUILD_EVERY_MS, so bursts of entries cost one build,
 * and never more often than leaves the reads most of the time (a build of a large tree takes
 * tens of milliseconds, on the thread that decodes the layers); until every layer is complete it
 * is a preview (a whiteout in a part not read yet is not applied).
 */
import type { EfficiencyReport } from "../analysis/efficiency.ts";
import type { LayerListing } from "../image/load.ts";
import { MergedTree } from "../image/merge.ts";
import type { Entry } from "../types.ts";
import { efficiencyOf } from "./core.ts";

/** Builds of the tree, at most one per this many ms. */
const BUILD_EVERY_MS = 150;
/** The gap after a build is at least this many times the build's own time (itself and what `built` does). */
const BUILD_SHARE = 8;

export class GrowingTree {
  tree = new MergedTree();
  /** dive's score, once every layer is complete. */
  efficiency?: EfficiencyReport;
  private readonly complete = new Map<number, LayerListing>();
  private readonly partial = new Map<number, readonly Entry[]>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private builtAt = 0;
  private buildMs = 0;

  constructor(
    private readonly layers: number,
    /** Told after each build. */
    private readonly built: () => void,
  ) {}

  /** Complete layers in the tree as last built. */
  completeLayers = 0;
  /** Layers in the tree as last built from a part of their listing. */
  partialLayers = 0;

  /** The complete listings, bottom first (those known so far). */
  get listings(): LayerListing[] {
    return [...this.complete.values()].sort((a, b) => a.index - b.index);
  }

  addPartial(index: number, entries: readonly Entry[]): void {
    if (this.complete.has(index)) return;
    this.partial.set(index, entries);
    this.schedule();
  }

  addListing(listing: LayerListing): void {
    this.complete.set(listing.index, listing);
    this.partial.delete(listing.index);
    this.schedule();
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.timer) return;
    const wait = Math.max(0, this.builtAt + Math.max(BUILD_EVERY_MS, BUILD_SHARE * this.buildMs) - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.build();
    }, wait);
  }

  private build(): void {
    const t0 = performance.now();
    const tree = new MergedTree();
    for (let i = 0; i < this.layers; i++) {
      const entries = this.complete.get(i)?.entries ?? this.partial.get(i);
      if (entries) tree.addLayer(entries, i);
    }
    this.tree = tree;
    // The counts (and dive's score) say what this tree holds, not what has arrived since.
    this.completeLayers = this.complete.size;
    this.partialLayers = this.partial.size;
    if (this.complete.size === this.layers && !this.efficiency) this.efficiency = efficiencyOf(this.listings);
    this.built();
    this.builtAt = Date.now();
    this.buildMs = performance.now() - t0;
  }
}
