/**
 * `tree(1)`-style rendering:
 *   .
 *   ├── bin -> usr/bin
 *   ├── etc
 *   │   └── passwd
 *   └── usr
 * Names (and labels) are escaped; children are sorted by name (code-unit order).
 */
import { escapeName } from "../names.ts";

export interface TreeNode {
  name: string;
  /** Long-format columns shown in brackets before the name, as `tree -pugsD` does (already escaped). */
  info?: string;
  /** Extra text after the name, e.g. "-> usr/bin" (escaped when rendered). */
  suffix?: string;
  /** Directory flag (directories may be empty); counted by `treeCounts`. */
  dir?: boolean;
  children?: TreeNode[];
}

export interface TreeItem {
  /** Clean relative path ("etc/passwd"); "." or "" is the root. */
  path: string;
  suffix?: string;
  dir?: boolean;
}

const byName = (a: TreeNode, b: TreeNode): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/**
 * Build a tree from paths (strings or items). Missing parents are created as directories.
 * Children are sorted by name.
 */
export function treeFromPaths(items: Iterable<string | TreeItem>, rootName = "."): TreeNode {
  const root: TreeNode = { name: rootName, dir: true, children: [] };
  const index = new Map<string, TreeNode>([["", root]]);
  for (const raw of items) {
    const item: TreeItem = typeof raw === "string" ? { path: raw } : raw;
    const parts = item.path.split("/").filter((p) => p !== "" && p !== ".");
    if (parts.length === 0) {
      if (item.suffix !== undefined) root.suffix = item.suffix;
      continue;
    }
    let parent = root;
    let key = "";
    parts.forEach((part, i) => {
      key = key === "" ? part : `${key}/${part}`;
      let node = index.get(key);
      const last = i === parts.length - 1;
      if (!node) {
        node = { name: part };
        if (!last) {
          node.dir = true;
          node.children = [];
        }
        (parent.children ??= []).push(node);
        index.set(key, node);
      }
      if (last) {
        if (item.suffix !== undefined) node.suffix = item.suffix;
        if (item.dir) {
          node.dir = true;
          node.children ??= [];
        }
      } else if (!node.dir) {
        node.dir = true;
        node.children ??= [];
      }
      parent = node;
    });
  }
  const stack: TreeNode[] = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (node.children) {
      node.children.sort(byName);
      stack.push(...node.children);
    }
  }
  return root;
}

/** One node of a pre-order walk: its depth below the root (1 for the root's children). */
export interface WalkItem {
  depth: number;
  name: string;
  info?: string;
  suffix?: string;
  dir?: boolean;
}

/**
 * Build a tree from a pre-order walk that gives each node's depth (children already in the order
 * to show). Linear in the nodes, whatever the depth: no path is split or looked up.
 */
export function treeFromWalk(items: Iterable<WalkItem>, rootName = "."): TreeNode {
  const root: TreeNode = { name: rootName, dir: true, children: [] };
  // chain[d] is the node at depth d on the way to the current one.
  const chain: TreeNode[] = [root];
  for (const item of items) {
    if (item.depth < 1 || item.depth > chain.length) throw new Error(`treeFromWalk: depth ${item.depth} after depth ${chain.length - 1}`);
    chain.length = item.depth;
    const node: TreeNode = { name: item.name };
    if (item.suffix !== undefined) node.suffix = item.suffix;
    if (item.info !== undefined) node.info = item.info;
    if (item.dir) {
      node.dir = true;
      node.children = [];
    }
    (chain[item.depth - 1]!.children ??= []).push(node);
    chain.push(node);
  }
  return root;
}

function isTreeNode(x: TreeNode | Iterable<string | TreeItem>): x is TreeNode {
  return typeof (x as TreeNode).name === "string" && !(Symbol.iterator in x);
}

function label(node: TreeNode): string {
  const name = `${node.info === undefined ? "" : `[${node.info}]  `}${escapeName(node.name)}`;
  return node.suffix === undefined ? name : `${name} ${escapeName(node.suffix)}`;
}

/**
 * Lines of the rendering, root first. Given a TreeNode, children are shown in the order given;
 * given paths, they go through `treeFromPaths` (sorted, root ".").
 */
export function renderTree(input: TreeNode | Iterable<string | TreeItem>): string[] {
  return [...treeLines(input)];
}

/** `renderTree`'s lines one at a time (a deep tree's lines are long: they are never all held). */
export function* treeLines(input: TreeNode | Iterable<string | TreeItem>): Generator<string> {
  const root = isTreeNode(input) ? input : treeFromPaths(input);
  yield label(root);
  // Iterative pre-order walk: [node, prefix for its own line, prefix for its children].
  const stack: Array<[TreeNode, string, string]> = [];
  const pushChildren = (node: TreeNode, prefix: string): void => {
    const kids = node.children ?? [];
    for (let i = kids.length - 1; i >= 0; i--) {
      const last = i === kids.length - 1;
      stack.push([kids[i]!, `${prefix}${last ? "└── " : "├── "}`, `${prefix}${last ? "    " : "│   "}`]);
    }
  };
  pushChildren(root, "");
  while (stack.length > 0) {
    const [node, linePrefix, childPrefix] = stack.pop()!;
    yield linePrefix + label(node);
    pushChildren(node, childPrefix);
  }
}

/** tree(1)'s summary counts (the root not counted): "N directories, M files". */
export function treeCounts(root: TreeNode): { directories: number; files: number } {
  let directories = 0;
  let files = 0;
  const stack: TreeNode[] = [...(root.children ?? [])];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (node.dir) directories++;
    else files++;
    if (node.children) stack.push(...node.children);
  }
  return { directories, files };
}

export function treeSummary(root: TreeNode): string {
  const { directories, files } = treeCounts(root);
  return `${directories} director${directories === 1 ? "y" : "ies"}, ${files} file${files === 1 ? "" : "s"}`;
}
