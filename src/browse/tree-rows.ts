/**
 * The rows of the tree pane, computed from the merged tree: either the merged file system (only
 * the open directories are walked) or one layer's changes (its history events, in a tree of
 * their own). Pure: the same tree and query give the same rows.
 *
 * A row's `change` is what the selected layer did to the path, as dive colours it: added (a new
 * path), modified (replaced what lower layers had), removed (deleted by a whiteout or hidden by an
 * opaque directory; only in the changes view, since the merged view no longer has the path).
 */
import type { MergedTree } from "../image/merge.ts";
import { baseName, compareNames, parentOf, ROOT } from "../image/paths.ts";
import type { EntryType } from "../types.ts";

export type Change = "added" | "modified" | "removed" | "none";

export interface TreeRow {
  /** Clean path ("etc/passwd"). */
  path: string;
  name: string;
  /** 0 for the root's children. */
  depth: number;
  type: EntryType;
  dir: boolean;
  open: boolean;
  /** Bytes: a file's size, a directory's total of the files below it. */
  size: number;
  change: Change;
  /** The layer that gave the entry shown. */
  layer: number;
  /** A symlink's or hard link's target as the archive has it. */
  link?: string;
}

export interface TreeQuery {
  /** "merged": the whole file system; "layer": the changes of `layer` only. */
  mode: "merged" | "layer";
  /** The selected layer (what colours the merged view; the layer shown in the changes view). */
  layer: number;
  /** Open directories of the merged view. */
  open: ReadonlySet<string>;
  /** Closed directories of the changes view (open by default). */
  closed: ReadonlySet<string>;
  /** Keeps the paths it matches and their parents, every directory open. */
  filter?: (path: string) => boolean;
  /** At most this many rows (a filter over a huge tree). */
  limit?: number;
  /** Siblings by name (the default) or by size, largest first. */
  sort?: "name" | "size";
}

/** Total size of the regular files below each directory of the merged tree. */
export function directorySizes(tree: MergedTree): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const node of tree.walk()) {
    if (node.entry.type !== "file" && node.entry.type !== "contiguous") continue;
    for (let p = parentOf(node.path); p !== undefined; p = parentOf(p)) sizes.set(p, (sizes.get(p) ?? 0) + node.entry.size);
  }
  return sizes;
}

export function treeRows(tree: MergedTree, q: TreeQuery, sizes: ReadonlyMap<string, number>): TreeRow[] {
  return q.mode === "layer" ? changeRows(tree, q) : mergedRows(tree, q, sizes);
}

function mergedRows(tree: MergedTree, q: TreeQuery, sizes: ReadonlyMap<string, number>): TreeRow[] {
  const limit = q.limit ?? 100_000;
  const rowOf = (node: ReturnType<MergedTree["list"]>[number], depth: number, open: boolean): TreeRow => {
    const dir = node.entry.type === "dir";
    const change: Change = node.layer !== q.layer ? "none" : node.replaced.length > 0 ? "modified" : "added";
    return {
      path: node.path,
      name: node.name,
      depth,
      type: node.entry.type,
      dir,
      open,
      size: dir ? (sizes.get(node.path) ?? 0) : node.entry.size,
      change,
      layer: node.layer,
      ...(node.entry.linkname !== undefined ? { link: node.entry.linkname } : {}),
    };
  };
  const rows: TreeRow[] = [];
  if (q.filter) {
    // Every match and the directories above it, in tree order.
    const keep = new Set<string>();
    for (const node of tree.walk()) {
      if (!q.filter(node.path)) continue;
      for (let p: string | undefined = node.path; p !== undefined && p !== ROOT && !keep.has(p); p = parentOf(p)) keep.add(p);
      if (keep.size >= limit) break;
    }
    for (const { node, depth } of tree.walkWithDepth()) {
      if (keep.has(node.path)) rows.push(rowOf(node, depth - 1, node.entry.type === "dir"));
    }
    return rows;
  }
  const bySize = (a: ReturnType<MergedTree["list"]>[number], b: ReturnType<MergedTree["list"]>[number]) => sizeOf(b) - sizeOf(a);
  const sizeOf = (n: ReturnType<MergedTree["list"]>[number]) => (n.entry.type === "dir" ? (sizes.get(n.path) ?? 0) : n.entry.size);
  const visit = (dir: string, depth: number) => {
    const list = tree.list(dir);
    if (q.sort === "size") list.sort(bySize);
    for (const node of list) {
      if (rows.length >= limit) return;
      const open = node.entry.type === "dir" && q.open.has(node.path);
      rows.push(rowOf(node, depth, open));
      if (open) visit(node.path, depth + 1);
    }
  };
  visit(ROOT, 0);
  return rows;
}

interface Change1 {
  path: string;
  type: EntryType;
  size: number;
  change: Change;
  link?: string;
}

/** A directory above a change: "added" when this layer implied it (new, without an entry of its own). */
function impliedHere(tree: MergedTree, path: string, layer: number): Change {
  const node = tree.get(path);
  return node?.implied && node.layer === layer ? "added" : "none";
}

/** Each layer's changes by path, from one pass over the tree's events; kept until the tree grows. */
const changesByLayer = new WeakMap<MergedTree, { stamp: string; layers: Map<number, Map<string, Change1>> }>();

function layerChanges(tree: MergedTree, layer: number): Map<string, Change1> {
  const stamp = `${tree.layerCount}:${tree.size}`;
  let memo = changesByLayer.get(tree);
  if (!memo || memo.stamp !== stamp) {
    memo = { stamp, layers: new Map() };
    for (const ev of tree.events()) {
      if (ev.implied) continue;
      let changes = memo.layers.get(ev.layer);
      if (!changes) memo.layers.set(ev.layer, (changes = new Map()));
      const change: Change = ev.action === "added" ? "added" : ev.action === "modified" ? "modified" : "removed";
      // The last event of a path in the layer wins.
      changes.set(ev.path, { path: ev.path, type: ev.entry.type, size: ev.entry.size, change, ...(ev.entry.linkname !== undefined ? { link: ev.entry.linkname } : {}) });
    }
    changesByLayer.set(tree, memo);
  }
  return memo.layers.get(layer) ?? new Map();
}

/** The last shape built: moving the cursor or closing a directory does not build it again. */
let lastShape: { tree: MergedTree; stamp: string; layer: number; filter: TreeQuery["filter"]; shape: ReturnType<typeof buildShape> } | undefined;

function changeShape(tree: MergedTree, q: TreeQuery, changes: Map<string, Change1>) {
  const stamp = `${tree.layerCount}:${tree.size}`;
  const l = lastShape;
  if (l && l.tree === tree && l.stamp === stamp && l.layer === q.layer && l.filter === q.filter) return l.shape;
  const shape = buildShape(changes, q.filter);
  lastShape = { tree, stamp, layer: q.layer, filter: q.filter, shape };
  return shape;
}

/** The changed paths and the directories above them, children sorted by name; sizes of the files below each. */
function buildShape(changes: Map<string, Change1>, filter: TreeQuery["filter"]) {
  const children = new Map<string, string[]>();
  const known = new Set<string>();
  const addPath = (p: string) => {
    for (let c: string | undefined = p; c !== undefined && c !== ROOT && !known.has(c); c = parentOf(c)) {
      known.add(c);
      const parent = parentOf(c) ?? ROOT;
      const list = children.get(parent);
      if (list) list.push(c);
      else children.set(parent, [c]);
    }
  };
  for (const p of changes.keys()) if (!filter || filter(p)) addPath(p);
  for (const list of children.values()) list.sort((a, b) => compareNames(baseName(a), baseName(b)));
  const subtreeSize = new Map<string, number>();
  for (const c of changes.values()) {
    if (c.change === "removed" || (c.type !== "file" && c.type !== "contiguous")) continue;
    for (let p = parentOf(c.path); p !== undefined; p = parentOf(p)) subtreeSize.set(p, (subtreeSize.get(p) ?? 0) + c.size);
  }
  return { children, subtreeSize };
}

function changeRows(tree: MergedTree, q: TreeQuery): TreeRow[] {
  const changes = layerChanges(tree, q.layer);
  const { children, subtreeSize } = changeShape(tree, q, changes);
  const rows: TreeRow[] = [];
  const limit = q.limit ?? 100_000;
  const visit = (dir: string, depth: number) => {
    let kids = children.get(dir) ?? [];
    if (q.sort === "size") {
      const size = (p: string) => subtreeSize.get(p) ?? changes.get(p)?.size ?? 0;
      kids = [...kids].sort((a, b) => size(b) - size(a));
    }
    for (const p of kids) {
      if (rows.length >= limit) return;
      const c = changes.get(p);
      const isDir = c ? c.type === "dir" : true;
      const open = isDir && (q.filter !== undefined || !q.closed.has(p));
      rows.push({
        path: p,
        name: baseName(p),
        depth,
        type: c?.type ?? "dir",
        dir: isDir,
        open,
        size: isDir ? (subtreeSize.get(p) ?? 0) : (c?.size ?? 0),
        change: c?.change ?? impliedHere(tree, p, q.layer),
        layer: q.layer,
        ...(c?.link !== undefined ? { link: c.link } : {}),
      });
      if (open) visit(p, depth + 1);
    }
  };
  visit(ROOT, 0);
  return rows;
}
