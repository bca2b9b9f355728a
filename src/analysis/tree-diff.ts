/**
 * What differs between the merged file systems of two images, from their listings alone.
 *
 * Each side is given as a merged tree. When the two images share their lowest layers by digest and
 * those layers' listings were not at hand (not in the cache), each tree holds only the side's layers
 * above that shared base: a shared layer is never read just to compare it with itself. A path's
 * state on one side is then:
 *   - the side's own entry when one of its layers put a real entry there;
 *   - absent when its layers deleted it (a whiteout of it or of a directory above it, or an opaque
 *     directory above it) and did not put it back;
 *   - otherwise the unread base's, alike on both sides.
 * A side with an entry of its own against the unread base is reported as changed over the shared
 * layers, without fields: what the base held there is not known. With complete trees (no shared
 * base, or its listings read from the cache and merged into both), every state is known.
 *
 * Like `diff -r`, a directory present on one side only is one change (with the number of paths
 * below it), not one per path inside it; a path whose type differs is not descended into.
 */
import type { MergedNode, MergedTree } from "../image/merge.ts";
import { baseName, compareNames, joinPath, parentOf, ROOT } from "../image/paths.ts";
import type { Entry } from "../types.ts";

export type ChangeKind = "added" | "removed" | "modified";
export type Field = "type" | "size" | "mode" | "owner" | "link" | "device" | "mtime";

export interface PathChange {
  /** Absolute path ("/etc/passwd"). */
  path: string;
  kind: ChangeKind;
  /** The entry on each side (absent on the side without one, or when it is the unread base's). */
  a?: Entry;
  b?: Entry;
  /** The layer of each side that gave its entry. */
  layerA?: number;
  layerB?: number;
  /** modified: what differs; empty when one side is the unread base's. */
  fields: Field[];
  /** added/removed directory: how many paths are below it. */
  below?: number;
  /** One side is the shared base's, which was not read: the change is known only from the other. */
  overSharedBase?: boolean;
}

export interface TreeDiffOptions {
  ignoreMtime?: boolean;
}

type State =
  /** `tree`: the tree the node is in (the side's own, or the base's). */
  | { kind: "entry"; node: MergedNode; tree: MergedTree }
  | { kind: "absent" }
  /** The unread shared base's entry, whatever it is (taken for a directory where one may be below). */
  | { kind: "base" };

interface SideIndex {
  tree: MergedTree;
  /** Paths a whiteout of the side's upper layers deleted. */
  deleted: Set<string>;
  /** The same, by parent directory: the names deleted in each. */
  deletedIn: Map<string, string[]>;
  /** Directories an opaque marker of the side's upper layers emptied of lower content. */
  opaque: Set<string>;
  /** Every ancestor of a deleted path or opaque directory (to know where to descend). */
  touchedAbove: Set<string>;
}

function indexSide(tree: MergedTree): SideIndex {
  const deleted = new Set<string>();
  const opaque = new Set<string>();
  const touchedAbove = new Set<string>();
  for (const w of tree.whiteouts()) {
    if (w.target === undefined || w.kind === "meta") continue;
    (w.kind === "opaque" ? opaque : deleted).add(w.target);
    for (let p = w.kind === "opaque" ? w.target : parentOf(w.target); p !== undefined; p = parentOf(p)) touchedAbove.add(p);
  }
  const deletedIn = new Map<string, string[]>();
  for (const p of deleted) {
    const dir = parentOf(p) ?? ROOT;
    deletedIn.set(dir, [...(deletedIn.get(dir) ?? []), baseName(p)]);
  }
  return { tree, deleted, deletedIn, opaque, touchedAbove };
}

/** The fields in which two entries differ. */
export function entryDifferences(a: Entry, b: Entry, opts: TreeDiffOptions = {}): Field[] {
  const out: Field[] = [];
  if (a.type !== b.type) out.push("type");
  if (a.type !== "dir" && b.type !== "dir" && a.size !== b.size) out.push("size");
  if (a.mode !== b.mode) out.push("mode");
  if (a.uid !== b.uid || a.gid !== b.gid) out.push("owner");
  if ((a.linkname ?? "") !== (b.linkname ?? "")) out.push("link");
  if ((a.devmajor ?? 0) !== (b.devmajor ?? 0) || (a.devminor ?? 0) !== (b.devminor ?? 0)) out.push("device");
  if (!opts.ignoreMtime && a.mtime !== b.mtime) out.push("mtime");
  return out;
}

function isDirState(s: State): boolean {
  return s.kind === "base" || (s.kind === "entry" && s.node.entry.type === "dir");
}

/**
 * The changes from A to B, in path order (a directory before what is below it, names in code-unit
 * order). `baseUnread`: the trees hold only the layers above a shared base that was not read.
 */
export function* diffTrees(a: MergedTree, b: MergedTree, baseUnread: boolean, opts: TreeDiffOptions = {}): Generator<PathChange> {
  const sa = indexSide(a);
  const sb = indexSide(b);
  const state = (s: SideIndex, path: string, lowerGone: boolean): State => {
    const own = s.tree.get(path);
    const mine = (): State => (own ? { kind: "entry", node: own, tree: s.tree } : { kind: "absent" });
    if (own && !own.implied) return mine();
    if (!baseUnread || lowerGone || s.deleted.has(path)) return mine();
    return { kind: "base" };
  };
  interface Frame {
    dir: string;
    /** The lower layers' content below `dir` is gone on that side (deleted or made opaque). */
    goneA: boolean;
    goneB: boolean;
    names: string[];
    next: number;
  }
  const frame = (dir: string, goneA: boolean, goneB: boolean): Frame => {
    const names = new Set<string>();
    for (const n of sa.tree.list(dir)) names.add(baseName(n.path));
    for (const n of sb.tree.list(dir)) names.add(baseName(n.path));
    for (const s of [sa, sb]) for (const name of s.deletedIn.get(dir) ?? []) names.add(name);
    return { dir, goneA: goneA || sa.opaque.has(dir), goneB: goneB || sb.opaque.has(dir), names: [...names].sort(compareNames), next: 0 };
  };
  // Depth first, each directory's names in order: a path comes right before what is below it.
  const stack: Frame[] = [frame(ROOT, false, false)];
  while (stack.length > 0) {
    const top = stack.at(-1)!;
    if (top.next === top.names.length) {
      stack.pop();
      continue;
    }
    const path = joinPath(top.dir, top.names[top.next++]!);
    const x = state(sa, path, top.goneA);
    const y = state(sb, path, top.goneB);
    const change = compareStates(path, x, y, opts);
    if (change) {
      const only = change.kind === "removed" ? x : change.kind === "added" ? y : undefined;
      if (only?.kind === "entry" && only.node.entry.type === "dir") change.below = countBelow(only.tree, path);
      yield change;
    }
    const descend = isDirState(x) && isDirState(y) && (sa.tree.has(path) || sb.tree.has(path) || sa.touchedAbove.has(path) || sb.touchedAbove.has(path));
    if (descend) stack.push(frame(path, top.goneA || sa.deleted.has(path), top.goneB || sb.deleted.has(path)));
  }
}

function countBelow(tree: MergedTree, path: string): number {
  let n = 0;
  for (const _ of tree.walk(path)) n++;
  return n;
}

function compareStates(path: string, x: State, y: State, opts: TreeDiffOptions): PathChange | undefined {
  const abs = path === ROOT ? "/" : `/${path}`;
  if (x.kind === "entry" && y.kind === "entry") {
    if (x.node === y.node) return undefined;
    const fields = entryDifferences(x.node.entry, y.node.entry, opts);
    return fields.length === 0 ? undefined : { path: abs, kind: "modified", a: x.node.entry, b: y.node.entry, layerA: x.node.layer, layerB: y.node.layer, fields };
  }
  if (x.kind === "absent" && y.kind === "absent") return undefined;
  if (x.kind === "base" && y.kind === "base") return undefined;
  if (x.kind === "absent") {
    return y.kind === "entry" ? { path: abs, kind: "added", b: y.node.entry, layerB: y.node.layer, fields: [] } : { path: abs, kind: "added", fields: [], overSharedBase: true };
  }
  if (y.kind === "absent") {
    return x.kind === "entry"
      ? { path: abs, kind: "removed", a: x.node.entry, layerA: x.node.layer, fields: [] }
      : { path: abs, kind: "removed", fields: [], overSharedBase: true };
  }
  // One side is the unread base's, the other has an entry of its own. A directory is not reported:
  // the base most likely has it too, and what changed in it is reported path by path below it.
  const own = x.kind === "entry" ? x.node : (y as Extract<State, { kind: "entry" }>).node;
  if (own.entry.type === "dir") return undefined;
  return {
    path: abs,
    kind: "modified",
    ...(x.kind === "entry" ? { a: x.node.entry, layerA: x.node.layer } : {}),
    ...(y.kind === "entry" ? { b: y.node.entry, layerB: y.node.layer } : {}),
    fields: [],
    overSharedBase: true,
  };
}
