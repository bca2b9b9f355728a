import { defineCommand } from "citty";
import { LayerslayerError } from "../errors.ts";
import { globMatcher, TYPE_LETTERS, userRegExp } from "../image/glob.ts";
import type { HistoryEvent } from "../image/merge.ts";
import { formatTable, humanSize, modeString } from "../output/format.ts";
import { escapeName } from "../names.ts";
import { absolutePath } from "../output/json.ts";
import { imageArg, globalArgs, printJson, setup, writeOut, type GlobalArgs } from "./common.ts";
import { openImageView } from "./image-view.ts";
import { inSizeRange, sizeArgs, sizeRangeFrom } from "./size-range.ts";

export default defineCommand({
  meta: { name: "find", description: "Find paths in every layer: where each was added, modified, deleted or hidden" },
  args: {
    ...imageArg,
    pattern: { type: "positional", required: true, description: "Glob (*, ?, **, [..], {a,b}); without '/' it matches base names" },
    regex: { type: "boolean", description: "PATTERN is a regular expression searched in /path" },
    "ignore-case": { type: "boolean", alias: "i", description: "Letters match either case (find -iname), in a glob or a --regex" },
    type: { type: "string", valueHint: "f|d|l|c|b|p", description: "Only entries of this type (default: every type)" },
    present: { type: "boolean", description: "Only paths that exist in the final image" },
    ...sizeArgs,
    ...globalArgs,
  },
  async run({ args }) {
    const { source, ctx } = await setup(args as GlobalArgs & { image: string });
    const types = args.type === undefined ? undefined : TYPE_LETTERS[args.type];
    if (args.type !== undefined && !types) throw new LayerslayerError("USAGE", `--type ${args.type}: expected one of f, d, l, c, b, p`);
    const pattern = args.pattern as string;
    const ignoreCase = !!args["ignore-case"];
    const sizes = sizeRangeFrom(args);
    const re = args.regex ? userRegExp(pattern, { ignoreCase }) : undefined;
    const test = re ? (p: string) => re.test(`/${p}`) : globMatcher(pattern, { ignoreCase });
    const { tree, stepOfLayer } = await openImageView(ctx, source);
    const hits: HistoryEvent[] = [];
    for (const e of tree.events()) {
      if (!e.implied && test(e.path) && (!types || types.includes(e.entry.type)) && inSizeRange(e.entry.size, sizes) && (!args.present || tree.has(e.path))) hits.push(e);
    }
    hits.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.layer - b.layer));
    if (ctx.json) {
      printJson({
        pattern,
        hits: hits.map((e) => ({
          path: absolutePath(e.path),
          layer: e.layer,
          action: e.action,
          type: e.entry.type,
          size: e.entry.size,
          createdBy: stepOfLayer[e.layer]?.createdBy ?? null,
          present: tree.get(e.path)?.layer === e.layer && e.action !== "deleted" && e.action !== "hidden",
          ...(e.by ? { by: absolutePath(e.by) } : {}),
        })),
      });
      return;
    }
    const rows = hits.map((e) => [
      `L${e.layer}`,
      e.action,
      modeString(e.entry.type, e.entry.mode),
      e.action === "deleted" || e.action === "hidden" ? "-" : humanSize(e.entry.size),
      `/${escapeName(e.path)}${e.entry.type === "symlink" ? ` -> ${escapeName(e.entry.linkname ?? "")}` : ""}`,
      escapeName((stepOfLayer[e.layer]?.createdBy ?? "").replace(/\s+/g, " ").slice(0, 60)),
    ]);
    if (rows.length === 0) {
      ctx.note(`no path in any layer matches ${escapeName(pattern)}`);
      return;
    }
    writeOut(formatTable(rows, ["right", "left", "left", "right", "left", "left"]).join("\n"));
  },
});
