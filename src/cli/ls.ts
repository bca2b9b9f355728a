import { defineCommand } from "citty";
import { LayerslayerError } from "../errors.ts";
import type { MergedNode, MergedTree } from "../image/merge.ts";
import { ROOT, baseName } from "../image/paths.ts";
import { resolvePath } from "../image/resolve.ts";
import { escapeName, unescapeName } from "../names.ts";
import { absolutePath } from "../output/json.ts";
import { lsDocumentParts } from "../output/image-json.ts";
import { alignedLsLines, lsInfo, lsLines, type LsRow } from "../output/ls.ts";
import { treeFromWalk, treeLines, treeSummary } from "../output/tree.ts";
import { imageArg, globalArgs, setup, writeLines, writeParts, type GlobalArgs } from "./common.ts";
import { openImageView } from "./image-view.ts";

const MARKERS = { modified: "O", deleted: "D", hidden: "H" } as const;

function* map<T, U>(items: Iterable<T>, f: (item: T) => U): Generator<U> {
  for (const item of items) yield f(item);
}

function* chain<T>(...lists: Iterable<T>[]): Generator<T> {
  for (const list of lists) yield* list;
}

function relative(path: string, dir: string): string {
  return dir === ROOT ? path : path.slice(dir.length + 1);
}

/** Rows for `--history`: what is there now, and what lower layers had or deleted, marked. */
function historyRows(tree: MergedTree, dir: string): LsRow[] {
  const rows: LsRow[] = [];
  for (const rec of tree.historyChildren(dir)) {
    if (rec.node) {
      for (const old of rec.node.replaced) rows.push({ entry: old, name: rec.name, layer: old.layer ?? 0, marker: MARKERS.modified });
      rows.push({ entry: rec.node.entry, name: rec.name, layer: rec.node.layer, marker: "" });
    } else {
      const gone = rec.events.filter((e) => e.action === "deleted" || e.action === "hidden").at(-1);
      if (gone) rows.push({ entry: gone.entry, name: rec.name, layer: gone.layer, marker: MARKERS[gone.action as "deleted" | "hidden"] });
    }
  }
  return rows;
}

export default defineCommand({
  meta: { name: "ls", description: "List a directory of the image's merged filesystem (whiteouts applied)" },
  args: {
    ...imageArg,
    path: { type: "positional", required: false, description: "Directory or file in the image (default /)" },
    long: { type: "boolean", alias: "l", description: "Long format, with the layer that gave each entry" },
    recursive: { type: "boolean", alias: "R", description: "Everything below the directory" },
    tree: { type: "boolean", description: "Draw the directory as a tree (with -l: each entry's layer, mode, owner, size and time)" },
    layer: { type: "string", alias: "L", valueHint: "N", description: "One layer alone, not merged (default: every layer, merged)" },
    history: { type: "boolean", description: "Also show overridden (O), deleted (D) and hidden (H) entries of lower layers" },
    human: { type: "boolean", description: "Sizes like 1.5K, 23M" },
    ...globalArgs,
  },
  async run({ args }) {
    const { source, ctx } = await setup(args as GlobalArgs & { image: string });
    const view = await openImageView(ctx, source, { history: !!args.history, ...(args.layer === undefined ? {} : { layer: args.layer, single: true }) });
    const { tree, layers } = view;
    const layer = args.layer !== undefined ? layers[0] : undefined;
    // The history only says why a path is missing.
    const resolvable = { get: (p: string) => tree.get(p), historyOf: (p: string) => view.historyTree().historyOf(p) };
    const target = resolvePath(resolvable, unescapeName(args.path ?? "/"), { followFinal: true });
    const dir = target.path;
    const isDir = target.node.entry.type === "dir";
    // Walked lazily: a listing of a million paths is written as it is walked, never held whole.
    const nodes = (): Iterable<MergedNode> => (!isDir ? [target.node] : args.recursive || args.tree ? tree.walk(dir) : tree.list(dir));
    const opts = { human: !!args.human };
    if (ctx.json) {
      await writeParts(lsDocumentParts(tree, target, { ...(layer !== undefined ? { layer } : {}), recursive: !!args.recursive || !!args.tree, history: !!args.history }));
      return;
    }
    if (args.tree) {
      if (!isDir) throw new LayerslayerError("USAGE", `${escapeName(args.path ?? "/")} is not a directory`);
      const walked = map(tree.walkWithDepth(dir), ({ node: n, depth }) => ({
        depth,
        name: n.name,
        dir: n.entry.type === "dir",
        ...(n.entry.type === "symlink" ? { suffix: `-> ${n.entry.linkname ?? ""}` } : {}),
        ...(args.long ? { info: `L${n.layer} ${lsInfo(n.entry, opts)}` } : {}),
      }));
      const root = treeFromWalk(walked, absolutePath(dir));
      await writeLines(chain(treeLines(root), ["", treeSummary(root)]));
      return;
    }
    const name = (n: MergedNode) => (!isDir ? `/${n.path}` : args.recursive ? relative(n.path, dir) : baseName(n.path));
    let lines: Iterable<string>;
    if (args.history && isDir && !args.recursive) lines = lsLines(historyRows(tree, dir), opts);
    else if (args.long) lines = alignedLsLines(() => map(nodes(), (n) => ({ entry: n.entry, name: name(n), layer: n.layer })), opts);
    else if (args.recursive && isDir) lines = map(tree.walkPaths(dir), (p) => escapeName(relative(p, dir)));
    else if (isDir) lines = map(tree.listNames(dir), escapeName);
    else lines = map(nodes(), (n) => escapeName(name(n)));
    await writeLines(lines);
  },
});
