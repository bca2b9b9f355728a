/**
 * The merged filesystem of an image: layers applied bottom to top with OCI/overlay semantics.
 *
 * Rules (OCI image spec, "Representing Changes" and "Whiteouts"):
 * - A later layer wins for the same path.
 * - `dir/.wh.NAME` deletes `dir/NAME` and everything under it, from LOWER layers only: an entry
 *   at `dir/NAME` in the same layer stays, whatever its position in the tar.
 * - `dir/.wh..wh..opq` hides everything lower layers put in `dir`, wherever it appears in the tar;
 *   the same layer's own entries in `dir` stay.
 *   Both are implemented by applying a layer's whiteouts before any of its entries (phase 1, then
 *   phase 2), which is exactly "whiteouts only apply to lower layers".
 * - Other `.wh..wh.*` names are aufs metadata: ignored (recorded in `whiteouts()` as "meta").
 *   Whiteout entries never appear as nodes; a whiteout of a missing path is a no-op.
 *   What a member is (entry, whiteout, opaque marker, …) is decided by `classifyMember` in
 *   paths.ts, the same rules the file locator behind `cat` uses. PAX global headers are no files.
 * - A non-directory over a directory removes the directory's whole subtree; a directory over a
 *   non-directory replaces it; a directory over a directory keeps the lower children and takes
 *   the upper metadata.
 * - Parent directories implied by a path exist: synthesised (`implied: true`, mode 0755, owner 0,
 *   mtime 0, headerOffset/compressedOffset -1) with the layer that implied them. A later real
 *   entry for that path replaces the synthesised one. An implied directory over a lower
 *   non-directory (e.g. a symlink) replaces it, like overlayfs does with a directory in an upper
 *   layer.
 * - A hardlink resolves within its own layer: to the latest earlier entry at `linkname` in that
 *   layer, else any entry at `linkname` in that layer, following hardlink chains (≤ 40 hops).
 *   Unresolvable hardlinks keep `target` undefined (`cat` should report CORRUPT).
 * - Members whose path climbs above the root ("../x"), or that sit under a whiteout name
 *   ("a/.wh.b/c"), or a non-directory for the root, are skipped and listed in `anomalies()`.
 *
 * Layer indexes are the caller's (`addLayer(entries, index)`), default 0, 1, 2, ... in call order.
 * `Entry.layer` is not consulted.
 *
 * Storage is compact, for images of millions of entries: paths are numbered places (path-table.ts),
 * entries are rows of columns (entry-table.ts), history is rows of columns (history-log.ts), and a
 * place's state is a few typed-array cells. `MergedNode`s, `Entry`s and `HistoryEvent`s are built
 * when asked for (equal each time, not the same objects); a layer's entries are read once and
 * not kept.
 */
import type { Entry } from "../types.ts";
import { impliedRef, isImplied } from "./history-log.ts";
import type { Anomaly, HistoryEvent, HistoryRecord, MergedNode, WhiteoutRecord } from "./model.ts";
import { NONE, ROOT_SLOT } from "./path-table.ts";
import { baseName, classifyMember, cleanPath, compareNames, joinPath, normalizeEntryPath, parentOf, ROOT } from "./paths.ts";
import { DIR, PRESENT, TreeState } from "./tree-state.ts";

export type { Anomaly, HardlinkTarget, HistoryAction, HistoryEvent, HistoryRecord, MergedNode, WhiteoutRecord } from "./model.ts";

const MAX_HARDLINK_HOPS = 40;

/** What a tree holds, as `state()` gives it. */
export type TreeData = ReturnType<MergedTree["state"]>;

export class MergedTree extends TreeState {
  private readonly whiteoutList: WhiteoutRecord[] = [];
  private readonly anomalyList: Anomaly[] = [];
  private nextLayer = 0;
  /** The parent directory of the last path given a slot (consecutive members share it). */
  private lastParent = { path: ROOT, slot: ROOT_SLOT };

  /** Everything the tree holds, for storing it (tree-codec.ts); `fromState` makes it again. */
  state() {
    return { ...this.baseState(), whiteouts: this.whiteoutList.slice(), anomalies: this.anomalyList.slice(), nextLayer: this.nextLayer };
  }

  static fromState(s: TreeData): MergedTree {
    const tree = new MergedTree({ history: s.log !== undefined });
    tree.restoreBase(s);
    tree.whiteoutList.push(...s.whiteouts);
    tree.anomalyList.push(...s.anomalies);
    tree.nextLayer = s.nextLayer;
    return tree;
  }

  /** Number of layers applied so far (the next default index). */
  get layerCount(): number {
    return this.nextLayer;
  }

  /** Number of merged paths, the root included. */
  get size(): number {
    return this.present;
  }

  /**
   * Apply one layer on top of the current view. `layer` must be above every earlier one. With
   * `seal`, the tree is sealed (`seal`) once the layer is in, as soon as nothing needs its path hash.
   */
  addLayer(entries: Iterable<Entry>, layer: number = this.nextLayer, opts: { seal?: boolean } = {}): void {
    if (!Number.isInteger(layer) || layer < this.nextLayer) {
      throw new RangeError(`layer index ${layer} must be an integer >= ${this.nextLayer}`);
    }
    if (this.nextLayer === 0 && isImplied(this.ref[ROOT_SLOT]!)) {
      this.layerAt.set(ROOT_SLOT, layer);
      this.ref[ROOT_SLOT] = impliedRef(layer);
    }
    this.nextLayer = layer + 1;

    // Phase 1: whiteouts and opaque markers, against lower layers only; entries into the table (a
    // layer's rows are consecutive), and their paths into the path table (places that do not exist
    // yet: the flags say so).
    const first = this.table.length;
    let links = false;
    for (const entry of entries) {
      this.gc.tick();
      const m = classifyMember(entry);
      switch (m.kind) {
        case "entry": {
          const row = this.table.add(entry, layer, m.path);
          this.table.setSlot(row, this.slotOfPath(m.path));
          links ||= entry.type === "hardlink";
          break;
        }
        case "anomaly":
          this.anomalyList.push({ layer, path: normalizeEntryPath(entry.path) ?? entry.path, reason: m.reason });
          break;
        case "opaque":
          this.applyOpaque(m.path, m.target, layer);
          break;
        case "meta":
          this.whiteoutList.push({ layer, path: m.path, kind: "meta", removed: 0 });
          break;
        case "whiteout":
          this.applyWhiteout(m.path, m.target, layer);
          break;
        case "ignored":
          break;
      }
    }

    // Placing rows finds no path by name, unless a hard link is to be resolved: a tree to be sealed
    // drops its hash here, before the placing touches its per-path columns.
    if (opts.seal && !links) this.seal();

    // Phase 2: the layer's own entries, in tar order. Hardlinks resolve among the layer's own rows:
    // per slot, the last row placed there (kept only while a layer with hardlinks is applied).
    const member = links ? new Int32Array(this.paths.length).fill(NONE) : undefined;
    const pendingLinks: number[] = [];
    for (let row = first; row < this.table.length; row++) {
      this.gc.tick();
      const slot = this.place(this.table.slotOf(row), row, layer);
      if (member) {
        if (this.table.typeOf(row) === "hardlink" && this.ref[slot] === row) {
          const target = this.hardlinkTarget(member, row, layer);
          if (target !== NONE) this.targets.set(slot, target);
          else pendingLinks.push(row);
        }
        member[slot] = row;
      }
    }
    for (const row of pendingLinks) {
      const slot = this.table.slotOf(row);
      const target = this.hardlinkTarget(member!, row, layer);
      if (this.ref[slot] === row && target !== NONE) this.targets.set(slot, target);
    }
    if (opts.seal && links) this.seal();
  }

  get(path: string): MergedNode | undefined {
    const clean = cleanPath(path);
    const slot = this.presentAt(clean);
    return slot !== NONE ? this.node(slot, clean) : undefined;
  }

  has(path: string): boolean {
    return this.presentAt(cleanPath(path)) !== NONE;
  }

  /** Direct children of a directory, sorted by name; [] when the path is missing or not a directory. */
  list(dirPath: string = ROOT): MergedNode[] {
    const dir = cleanPath(dirPath);
    const slot = this.presentDir(dir);
    if (slot === NONE) return [];
    return this.sortedChildren(slot).map((c) => this.node(c.slot, joinPath(dir, c.name), c.name));
  }

  /** The names `list` gives, in its order, without making nodes (a plain `ls DIR` prints only them). */
  listNames(dirPath: string = ROOT): string[] {
    const slot = this.presentDir(cleanPath(dirPath));
    return slot === NONE ? [] : this.sortedChildren(slot).map((c) => c.name);
  }

  /** Every node below `dirPath` (not itself), depth-first, pre-order, children sorted by name. */
  *walk(dirPath: string = ROOT): Generator<MergedNode> {
    for (const { node } of this.walkWithDepth(dirPath)) yield node;
  }

  /**
   * `walk` with each node's depth below `dirPath` (1 for its children). Iterative, so a path of any
   * number of components is walked in time linear in the nodes (no recursion limit, no path splitting).
   */
  *walkWithDepth(dirPath: string = ROOT): Generator<{ node: MergedNode; depth: number }> {
    for (const w of this.walkPlaces(dirPath)) yield { node: this.node(w.slot, w.path, w.name), depth: w.depth };
  }

  /** The paths `walk` gives, in its order, without making nodes (for listings of names only). */
  *walkPaths(dirPath: string = ROOT): Generator<string> {
    for (const w of this.walkPlaces(dirPath)) yield w.path;
  }

  /**
   * The places below `dirPath`, depth-first, pre-order, children sorted by name. A directory being
   * walked is one frame: its sorted child slots, and its path as a string of its own, not the one
   * handed out. The path handed out is printed, which makes it flat; the frame's copy stays a
   * join of its parent's and its name, so a path of 10,000 components keeps 10,000 small joins,
   * not 10,000 paths of up to 30,000 characters each.
   */
  private *walkPlaces(dirPath: string): Generator<{ slot: number; depth: number; path: string; name: string }> {
    const dir = cleanPath(dirPath);
    const start = this.presentDir(dir);
    if (start === NONE) return;
    const sorted = (slot: number) => Int32Array.from(this.sortedChildren(slot), (k) => k.slot);
    const frames = [sorted(start)];
    const next = [0];
    const paths = [dir];
    while (frames.length > 0) {
      const top = frames.length - 1;
      const slots = frames[top]!;
      if (next[top] === slots.length) {
        frames.pop();
        next.pop();
        paths.pop();
        continue;
      }
      const slot = slots[next[top]!++]!;
      const name = this.paths.nameOf(slot);
      const under = paths[top]!;
      this.walkGc.tick();
      yield { slot, depth: frames.length, path: joinPath(under, name), name };
      if (this.flags[slot]! & DIR) {
        frames.push(sorted(slot));
        next.push(0);
        paths.push(joinPath(under, name));
      }
    }
  }

  /** Every change, layer by layer; within a layer deletions/hides first, then additions in tar order. */
  *events(): Generator<HistoryEvent> {
    let parent = NONE;
    let parentPath = "";
    for (const row of this.history().all()) {
      const p = this.paths.parentOf(row.slot);
      this.walkGc.tick();
      if (p !== parent) {
        parent = p;
        parentPath = p === NONE ? "" : this.paths.pathOf(p);
      }
      yield this.event(row, p === NONE ? ROOT : joinPath(parentPath, this.paths.nameOf(row.slot)));
    }
  }

  /** What happened to one path, oldest first. */
  historyOf(path: string): readonly HistoryEvent[] {
    const clean = cleanPath(path);
    const slot = this.paths.lookup(clean);
    return slot === NONE ? [] : this.eventsOf(slot, clean);
  }

  /**
   * Every name that exists or ever existed in a directory (for `ls --history`), sorted by name,
   * with its events and current node. Implied nodes without events are included too.
   */
  historyChildren(dirPath: string = ROOT): HistoryRecord[] {
    const dir = cleanPath(dirPath);
    const slot = this.paths.lookup(dir);
    if (slot === NONE) return [];
    const out: HistoryRecord[] = [];
    for (let c = this.paths.firstChildOf(slot); c !== NONE; c = this.paths.nextSiblingOf(c)) {
      const here = (this.flags[c]! & PRESENT) !== 0;
      if (!here && !this.history().hasEvents(c)) continue;
      const name = this.paths.nameOf(c);
      const path = joinPath(dir, name);
      out.push({ path, name, node: here ? this.node(c, path, name) : undefined, events: this.eventsOf(c, path) });
    }
    return out.sort((a, b) => compareNames(a.name, b.name));
  }

  whiteouts(): readonly WhiteoutRecord[] {
    return this.whiteoutList;
  }

  anomalies(): readonly Anomaly[] {
    return this.anomalyList;
  }

  // ---- internals ----

  private applyWhiteout(marker: string, victim: string, layer: number): void {
    const slot = this.presentAt(victim);
    const removed = slot !== NONE ? this.removeSubtree(slot, true, "deleted", layer, marker) : 0;
    this.whiteoutList.push({ layer, path: marker, kind: "whiteout", target: victim, removed });
  }

  private applyOpaque(marker: string, dir: string, layer: number): void {
    const slot = this.presentDir(dir);
    const removed = slot !== NONE ? this.removeSubtree(slot, false, "hidden", layer, marker) : 0;
    this.whiteoutList.push({ layer, path: marker, kind: "opaque", target: dir, removed });
  }

  /** The slot of a clean path, made (not yet present) when there is none. */
  private slotOfPath(path: string): number {
    if (path === ROOT) return ROOT_SLOT;
    const dir = parentOf(path)!;
    if (dir !== this.lastParent.path) this.lastParent = { path: dir, slot: this.paths.internPath(dir) };
    const slot = this.paths.intern(this.lastParent.slot, baseName(path));
    this.fitSlots();
    return slot;
  }

  /** Put a table row at its slot, creating/replacing as the rules say; returns the slot. */
  private place(slot: number, row: number, layer: number): number {
    const dir = this.table.typeOf(row) === "dir";
    if (slot === ROOT_SLOT) {
      if (dir) this.replace(ROOT_SLOT, row, layer, true);
      else this.anomalyList.push({ layer, path: ROOT, reason: `root member is a ${this.table.typeOf(row)}, not a directory` });
      return ROOT_SLOT;
    }
    this.ensureDir(this.paths.parentOf(slot), layer);
    const f = this.flags[slot]!;
    if (!(f & PRESENT)) {
      this.create(slot, dir ? DIR : 0, row, layer);
      this.change(slot, layer, "added", row);
      return slot;
    }
    if (f & DIR && !dir) this.removeSubtree(slot, false, "deleted", layer, this.paths.pathOf(slot));
    this.replace(slot, row, layer, dir);
    return slot;
  }

  /** Makes `slot` a present directory: it and missing (or non-directory) ancestors become implied dirs. */
  private ensureDir(slot: number, layer: number): void {
    if (this.isPresentDir(slot)) return;
    const missing: number[] = [];
    for (let s = slot; !this.isPresentDir(s); s = this.paths.parentOf(s)) missing.push(s); // the root is always a directory
    for (let i = missing.length - 1; i >= 0; i--) {
      const s = missing[i]!;
      if (!(this.flags[s]! & PRESENT)) this.create(s, DIR, impliedRef(layer), layer);
      // A non-directory in the way: an implied directory replaces it.
      else this.replace(s, impliedRef(layer), layer, true);
    }
  }

  /** The row a hardlink's data is in: the last earlier row at its target in its own layer (chains followed). */
  private hardlinkTarget(member: Int32Array, link: number, layer: number): number {
    let name = normalizeEntryPath(this.table.linknameOf(link) ?? "");
    for (let hop = 0; hop < MAX_HARDLINK_HOPS && name !== undefined && name !== ROOT; hop++) {
      const slot = this.paths.lookup(name);
      const target = slot === NONE ? NONE : member[slot]!;
      if (target === NONE || target === link || this.table.layerOf(target) !== layer) return NONE;
      if (this.table.typeOf(target) !== "hardlink") return target;
      name = normalizeEntryPath(this.table.linknameOf(target) ?? "");
    }
    return NONE;
  }
}

/** Merge whole layers, bottom (index 0) first. */
export function mergeLayers(layers: Iterable<Iterable<Entry>>): MergedTree {
  const tree = new MergedTree();
  for (const layer of layers) tree.addLayer(layer);
  return tree;
}
