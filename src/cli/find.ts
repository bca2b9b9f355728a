import { defineCommand } from "citty";
import { findEvents, findQuery } from "../image/find.ts";
import { findHitJson } from "../output/image-json.ts";
import { formatTable, humanSize, modeString } from "../output/format.ts";
import { escapeName } from "../names.ts";
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
    const pattern = args.pattern as string;
    const sizes = sizeRangeFrom(args);
    const query = findQuery(pattern, {
      regex: !!args.regex,
      ignoreCase: !!args["ignore-case"],
      ...(args.type !== undefined ? { type: args.type } : {}),
      present: !!args.present,
      sizeOk: (n) => inSizeRange(n, sizes),
    });
    const { tree, stepOfLayer } = await openImageView(ctx, source);
    const hits = findEvents(tree, query);
    if (ctx.json) {
      printJson({
        pattern,
        hits: hits.map((e) => findHitJson(tree, stepOfLayer, e)),
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
