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
 */
import type { Entry } from "../types.ts";
import type { Anomaly, HardlinkTarget, HistoryEvent, HistoryRecord, MergedNode, WhiteoutRecord } from "./model.ts";
import { baseName, classifyMember, cleanPath, compareNames, normalizeEntryPath, parentOf, ROOT } from "./paths.ts";

export type { Anomaly, HardlinkTarget, HistoryAction, HistoryEvent, HistoryRecord, MergedNode, WhiteoutRecord } from "./model.ts";

interface Node {
  path: string;
  name: string;
  entry: Entry;
  layer: number;
  implied: boolean;
  /** NONE_REPLACED until something is replaced (most nodes never are: one shared empty array). */
  replaced: Entry[];
  target?: HardlinkTarget;
  /** Present exactly when entry.type === "dir". */
  children?: Map<string, Node>;
  /** This node's creation in its layer replaced something from a lower layer. */
  overLower: boolean;
}

type MutableEvent = { -readonly [K in keyof HistoryEvent]: HistoryEvent[K] };

const MAX_HARDLINK_HOPS = 40;

/** The `replaced` of every node that replaced nothing (never mutated: see addReplaced). */
const NONE_REPLACED: Entry[] = [];

function addReplaced(node: { replaced: Entry[] }, entry: Entry): void {
  if (node.replaced === NONE_REPLACED) node.replaced = [entry];
  else node.replaced.push(entry);
}

function impliedEntry(path: string, layer: number): Entry {
  return { path, type: "dir", mode: 0o755, size: 0, uid: 0, gid: 0, mtime: 0, layer, headerOffset: -1, compressedOffset: -1 };
}

export class MergedTree {
  private readonly nodes = new Map<string, Node>();
  private readonly root: Node;
  private readonly eventList: MutableEvent[] = [];
  private readonly whiteoutList: WhiteoutRecord[] = [];
  private readonly anomalyList: Anomaly[] = [];
  private nextLayer = 0;
  /** Lazily built indexes over eventList (dropped when a layer is added). */
  private byPath?: Map<string, MutableEvent[]>;
  private byParent?: Map<string, Set<string>>;
  /** added/modified events of the layer being applied, by path (same-layer duplicates update them). */
  private layerEvents = new Map<string, MutableEvent>();

  constructor() {
    this.root = { path: ROOT, name: ROOT, entry: impliedEntry(ROOT, 0), layer: 0, implied: true, replaced: NONE_REPLACED, children: new Map(), overLower: false };
    this.nodes.set(ROOT, this.root);
  }

  /** Number of layers applied so far (the next default index). */
  get layerCount(): number {
    return this.nextLayer;
  }

  /** Number of merged paths, the root included. */
  get size(): number {
    return this.nodes.size;
  }

  /** Apply one layer on top of the current view. `layer` must be above every earlier one. */
  addLayer(entries: Iterable<Entry>, layer: number = this.nextLayer): void {
    if (!Number.isInteger(layer) || layer < this.nextLayer) {
      throw new RangeError(`layer index ${layer} must be an integer >= ${this.nextLayer}`);
    }
    if (this.nextLayer === 0 && this.root.implied) {
      this.root.layer = layer;
      this.root.entry = impliedEntry(ROOT, layer);
    }
    this.nextLayer = layer + 1;
    this.byPath = undefined;
    this.byParent = undefined;
    this.layerEvents = new Map();

    // Phase 1: whiteouts and opaque markers, against lower layers only.
    const adds: Array<[string, Entry]> = [];
    for (const entry of entries) {
      const m = classifyMember(entry);
      switch (m.kind) {
        case "entry":
          adds.push([m.path, entry]);
          break;
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

    // Phase 2: the layer's own entries, in tar order.
    const layerMembers = new Map<string, Entry>();
    const pendingLinks: Array<[string, Entry]> = [];
    for (const [path, entry] of adds) {
      const node = this.place(path, entry, layer);
      if (entry.type === "hardlink" && node.entry === entry) {
        const target = this.findHardlinkTarget(layerMembers, entry);
        if (target) node.target = { entry: target, layer };
        else pendingLinks.push([path, entry]);
      }
      layerMembers.set(path, entry);
    }
    for (const [path, entry] of pendingLinks) {
      const node = this.nodes.get(path);
      const target = this.findHardlinkTarget(layerMembers, entry);
      if (node && node.entry === entry && target) node.target = { entry: target, layer };
    }
    this.layerEvents = new Map();
  }

  get(path: string): MergedNode | undefined {
    return this.nodes.get(cleanPath(path));
  }

  has(path: string): boolean {
    return this.nodes.has(cleanPath(path));
  }

  /** Direct children of a directory, sorted by name; [] when the path is missing or not a directory. */
  list(dirPath: string = ROOT): MergedNode[] {
    const node = this.nodes.get(cleanPath(dirPath));
    if (!node?.children) return [];
    return [...node.children.values()].sort((a, b) => compareNames(a.name, b.name));
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
    const start = this.nodes.get(cleanPath(dirPath));
    if (!start?.children) return;
    const stack: Array<[Node, number]> = [...start.children.values()].sort((a, b) => compareNames(b.name, a.name)).map((n) => [n, 1]);
    while (stack.length > 0) {
      const [node, depth] = stack.pop()!;
      yield { node, depth };
      if (node.children && node.children.size > 0) {
        const kids = [...node.children.values()].sort((a, b) => compareNames(b.name, a.name));
        for (const kid of kids) stack.push([kid, depth + 1]);
      }
    }
  }

  /** Every change, layer by layer; within a layer deletions/hides first, then additions in tar order. */
  events(): readonly HistoryEvent[] {
    return this.eventList;
  }

  /** What happened to one path, oldest first. */
  historyOf(path: string): readonly HistoryEvent[] {
    return this.pathIndex().get(cleanPath(path)) ?? [];
  }

  /**
   * Every name that exists or ever existed in a directory (for `ls --history`), sorted by name,
   * with its events and current node. Implied nodes without events are included too.
   */
  historyChildren(dirPath: string = ROOT): HistoryRecord[] {
    const dir = cleanPath(dirPath);
    const names = new Set<string>(this.parentIndex().get(dir));
    const node = this.nodes.get(dir);
    if (node?.children) for (const kid of node.children.values()) names.add(kid.path);
    const byPath = this.pathIndex();
    return [...names]
      .map((p) => ({ path: p, name: baseName(p), node: this.nodes.get(p) as MergedNode | undefined, events: byPath.get(p) ?? [] }))
      .sort((a, b) => compareNames(a.name, b.name));
  }

  whiteouts(): readonly WhiteoutRecord[] {
    return this.whiteoutList;
  }

  anomalies(): readonly Anomaly[] {
    return this.anomalyList;
  }

  // ---- internals ----

  private pathIndex(): Map<string, MutableEvent[]> {
    if (!this.byPath) {
      const index = new Map<string, MutableEvent[]>();
      for (const ev of this.eventList) {
        const list = index.get(ev.path);
        if (list) list.push(ev);
        else index.set(ev.path, [ev]);
      }
      this.byPath = index;
    }
    return this.byPath;
  }

  private parentIndex(): Map<string, Set<string>> {
    if (!this.byParent) {
      const index = new Map<string, Set<string>>();
      for (const p of this.pathIndex().keys()) {
        const parent = parentOf(p);
        if (parent === undefined) continue;
        const set = index.get(parent);
        if (set) set.add(p);
        else index.set(parent, new Set([p]));
      }
      this.byParent = index;
    }
    return this.byParent;
  }

  private applyWhiteout(marker: string, victim: string, layer: number): void {
    const node = this.nodes.get(victim);
    let removed = 0;
    if (node) removed = this.removeSubtree(node, true, "deleted", layer, marker);
    this.whiteoutList.push({ layer, path: marker, kind: "whiteout", target: victim, removed });
  }

  private applyOpaque(marker: string, dir: string, layer: number): void {
    const node = this.nodes.get(dir);
    let removed = 0;
    if (node?.children) removed = this.removeSubtree(node, false, "hidden", layer, marker);
    this.whiteoutList.push({ layer, path: marker, kind: "opaque", target: dir, removed });
  }

  /** Remove `node` (when includeSelf) and everything below it, recording one event per path. */
  private removeSubtree(node: Node, includeSelf: boolean, action: "deleted" | "hidden", layer: number, by: string): number {
    const stack: Node[] = includeSelf ? [node] : [...(node.children?.values() ?? [])];
    let count = 0;
    while (stack.length > 0) {
      const n = stack.pop()!;
      count++;
      this.layerEvents.delete(n.path);
      const ev: MutableEvent = { path: n.path, layer, action, entry: n.entry, by };
      if (n.implied) ev.implied = true;
      this.eventList.push(ev);
      this.nodes.delete(n.path);
      if (n.children) for (const kid of n.children.values()) stack.push(kid);
    }
    if (includeSelf) {
      const parent = this.nodes.get(parentOf(node.path) ?? ROOT);
      parent?.children?.delete(node.name);
    } else {
      node.children?.clear();
    }
    return count;
  }

  /** Record an added/modified event, folding same-layer duplicates into one event. */
  private recordChange(path: string, layer: number, action: "added" | "modified", entry: Entry, implied: boolean): void {
    const existing = this.layerEvents.get(path);
    if (existing) {
      existing.entry = entry;
      if (implied) existing.implied = true;
      else delete existing.implied;
      return;
    }
    const ev: MutableEvent = { path, layer, action, entry };
    if (implied) ev.implied = true;
    this.eventList.push(ev);
    this.layerEvents.set(path, ev);
  }

  /** Put a real entry at `path`, creating/replacing as the rules say. */
  private place(path: string, entry: Entry, layer: number): Node {
    if (path === ROOT) {
      if (entry.type !== "dir") {
        this.anomalyList.push({ layer, path, reason: `root member is a ${entry.type}, not a directory` });
        return this.root;
      }
      const root = this.root;
      const overLower = root.layer < layer || root.overLower;
      if (!root.implied) addReplaced(root, root.entry);
      root.entry = entry;
      root.layer = layer;
      root.implied = false;
      root.overLower = overLower;
      return root;
    }
    const parent = this.ensureDir(parentOf(path) ?? ROOT, layer);
    const name = baseName(path);
    const existing = parent.children!.get(name);
    if (!existing) {
      const node: Node = { path, name, entry, layer, implied: false, replaced: NONE_REPLACED, overLower: false };
      if (entry.type === "dir") node.children = new Map();
      parent.children!.set(name, node);
      this.nodes.set(path, node);
      this.recordChange(path, layer, "added", entry, false);
      return node;
    }
    const overLower = existing.layer < layer || existing.overLower;
    if (existing.children && entry.type !== "dir") {
      this.removeSubtree(existing, false, "deleted", layer, path);
      existing.children = undefined;
    } else if (!existing.children && entry.type === "dir") {
      existing.children = new Map();
    }
    if (!existing.implied) addReplaced(existing, existing.entry);
    existing.entry = entry;
    existing.layer = layer;
    existing.implied = false;
    existing.overLower = overLower;
    existing.target = undefined;
    this.recordChange(path, layer, overLower ? "modified" : "added", entry, false);
    return existing;
  }

  /** The directory node at `dir`, synthesising missing (or non-directory) ancestors as implied dirs. */
  private ensureDir(dir: string, layer: number): Node {
    const found = this.nodes.get(dir);
    if (found?.children) return found;
    const missing: string[] = [];
    let cur = dir;
    for (;;) {
      const n = this.nodes.get(cur);
      if (n?.children) break;
      missing.push(cur);
      cur = parentOf(cur) ?? ROOT; // ROOT always has children, so this ends
    }
    let parent = this.nodes.get(cur)!;
    for (let i = missing.length - 1; i >= 0; i--) {
      const path = missing[i]!;
      const name = baseName(path);
      const existing = parent.children!.get(name);
      const entry = impliedEntry(path, layer);
      if (!existing) {
        const node: Node = { path, name, entry, layer, implied: true, replaced: NONE_REPLACED, children: new Map(), overLower: false };
        parent.children!.set(name, node);
        this.nodes.set(path, node);
        parent = node;
        continue;
      }
      // A non-directory in the way: an implied directory replaces it.
      const overLower = existing.layer < layer || existing.overLower;
      if (!existing.implied) addReplaced(existing, existing.entry);
      existing.entry = entry;
      existing.layer = layer;
      existing.implied = true;
      existing.overLower = overLower;
      existing.target = undefined;
      existing.children = new Map();
      this.recordChange(path, layer, overLower ? "modified" : "added", entry, true);
      parent = existing;
    }
    return parent;
  }

  private findHardlinkTarget(members: Map<string, Entry>, link: Entry): Entry | undefined {
    let name = normalizeEntryPath(link.linkname ?? "");
    for (let hop = 0; hop < MAX_HARDLINK_HOPS && name !== undefined && name !== ROOT; hop++) {
      const target = members.get(name);
      if (!target || target === link) return undefined;
      if (target.type !== "hardlink") return target;
      name = normalizeEntryPath(target.linkname ?? "");
    }
    return undefined;
  }
}

/** Merge whole layers, bottom (index 0) first. */
export function mergeLayers(layers: Iterable<Iterable<Entry>>): MergedTree {
  const tree = new MergedTree();
  for (const layer of layers) tree.addLayer(layer);
  return tree;
}
