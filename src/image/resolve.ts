/**
 * Symlink resolution inside the merged image, as the kernel would do it with the image as "/".
 *
 * - An absolute target is relative to the image root; a relative one to the link's directory.
 * - Symlinked directories in the middle of a path are always followed; the final component only
 *   with `followFinal` (or when the path ends in "/", which asks for a directory, like Linux).
 * - ".." never climbs above the root ("/.." is "/"), and applies to the resolved directory, so
 *   "link/.." is the parent of the link's target, not of the link.
 * - At most 40 symlinks are followed per lookup (Linux MAXSYMLINKS); a loop hits that limit.
 *
 * Error codes (one family, see errors.ts):
 * - NOT_FOUND: a component is missing, was deleted by a whiteout ("deleted in layer N"), hidden by
 *   an opaque directory, is not a directory where one is needed, or is a symlink with an empty
 *   target. These are all "the path you asked for is not there" (ENOENT/ENOTDIR), and the user
 *   fixes them by asking for another path.
 * - CORRUPT: too many levels of symbolic links (ELOOP). The request is fine; the image's own
 *   links are broken, which is a property of the image content.
 */
import { LayerslayerError } from "../errors.ts";
import { escapeName } from "../names.ts";
import type { HistoryEvent, MergedNode } from "./merge.ts";
import { ROOT } from "./paths.ts";

export const MAX_SYMLINK_HOPS = 40;

/** The part of MergedTree that resolution needs. */
export interface ResolvableTree {
  get(path: string): MergedNode | undefined;
  historyOf(path: string): readonly HistoryEvent[];
}

export interface ResolveOptions {
  /** Follow the last component when it is a symlink (cat: yes; ls -l of the link itself: no). */
  followFinal: boolean;
}

export interface ResolvedPath {
  /** Clean path of the node reached (ROOT for the root). */
  path: string;
  node: MergedNode;
  /** Symlinks followed on the way. */
  hops: number;
}

function components(p: string): string[] {
  return p.split("/").filter((c) => c !== "" && c !== ".");
}

function display(p: string): string {
  return escapeName(p === ROOT ? "/" : `/${p}`);
}

function missing(tree: ResolvableTree, candidate: string, asked: string): LayerslayerError {
  const history = tree.historyOf(candidate);
  const last = history[history.length - 1];
  const where = candidate === asked ? display(candidate) : `${display(asked)}: ${display(candidate)}`;
  if (last?.action === "deleted") {
    return new LayerslayerError("NOT_FOUND", `${where}: deleted in layer ${last.layer}`, { detail: last.by ? `by ${escapeName(last.by)}` : undefined });
  }
  if (last?.action === "hidden") {
    return new LayerslayerError("NOT_FOUND", `${where}: hidden by an opaque directory in layer ${last.layer}`, {
      detail: last.by ? `by ${escapeName(last.by)}` : undefined,
    });
  }
  return new LayerslayerError("NOT_FOUND", `${where}: no such file or directory`);
}

/**
 * Resolve `path` (absolute or relative to the image root) to a merged node.
 * Throws LayerslayerError (NOT_FOUND or CORRUPT, see above).
 */
export function resolvePath(tree: ResolvableTree, path: string, opts: ResolveOptions): ResolvedPath {
  const followFinal = opts.followFinal || path.endsWith("/");
  const asked = components(path).join("/") || ROOT;
  // Components still to walk, last one on top.
  const pending = components(path).reverse();
  const current: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const comp = pending.pop()!;
    if (comp === "..") {
      current.pop();
      continue;
    }
    const candidate = current.length === 0 ? comp : `${current.join("/")}/${comp}`;
    const node = tree.get(candidate);
    if (!node) throw missing(tree, candidate, asked);
    const isLast = pending.length === 0;
    if (node.entry.type === "symlink" && (!isLast || followFinal)) {
      hops++;
      if (hops > MAX_SYMLINK_HOPS) {
        throw new LayerslayerError("CORRUPT", `${display(asked)}: too many levels of symbolic links`, {
          detail: `gave up at ${display(candidate)} after ${MAX_SYMLINK_HOPS} links`,
        });
      }
      const target = node.entry.linkname ?? "";
      if (target === "") {
        throw new LayerslayerError("NOT_FOUND", `${display(asked)}: ${display(candidate)} is a symlink with an empty target`);
      }
      if (target.startsWith("/")) current.length = 0;
      const next = components(target);
      for (let i = next.length - 1; i >= 0; i--) pending.push(next[i]!);
      continue;
    }
    if (!isLast && node.entry.type !== "dir") {
      throw new LayerslayerError("NOT_FOUND", `${display(asked)}: ${display(candidate)} is not a directory`);
    }
    current.push(comp);
  }
  const finalPath = current.length === 0 ? ROOT : current.join("/");
  const node = tree.get(finalPath);
  if (!node) throw missing(tree, finalPath, asked);
  if (path.endsWith("/") && node.entry.type !== "dir") {
    throw new LayerslayerError("NOT_FOUND", `${display(asked)}: not a directory`);
  }
  return { path: finalPath, node, hops };
}
