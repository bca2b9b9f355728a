import { defineCommand } from "citty";
import { openDatabase } from "../db/open.ts";
import { LayerslayerError } from "../errors.ts";
import { globToRegExp, TYPE_LETTERS, userRegExp } from "../image/glob.ts";
import { formatTable, humanSize, modeString } from "../output/format.ts";
import { escapeName } from "../names.ts";
import { search, type SearchHit } from "../scan/search.ts";
import { dbArg, printJson, writeOut } from "./common.ts";
import { log } from "./log.ts";
import { sizeArgs, sizeRangeFrom } from "./size-range.ts";

function what(h: SearchHit): string {
  if (h.fate === undefined || h.fate === "present") return h.action;
  return `${h.action}, ${h.fate === "replaced" ? "replaced" : h.fate} in L${h.fateLayer}`;
}

export default defineCommand({
  meta: { name: "search", description: "Search every image recorded by `scan` for paths containing PATTERN" },
  args: {
    pattern: { type: "positional", required: true, description: "Text to find in paths (case-sensitive), e.g. id_rsa or etc/shadow" },
    regex: { type: "boolean", description: "PATTERN is a regular expression searched in /path" },
    image: { type: "string", valueHint: "GLOB", description: "Only images whose reference matches the glob (without '/': its last component; default: every image)" },
    type: { type: "string", valueHint: "f|d|l|c|b|p", description: "Only entries of this type (default: every type)" },
    ...sizeArgs,
    json: { type: "boolean", description: "Print JSON and nothing else on stdout" },
    quiet: { type: "boolean", alias: "q", description: "Print no notices on stderr" },
    verbose: { type: "boolean", description: "Error details on stderr" },
    ...dbArg,
  },
  async run({ args }) {
    const pattern = args.pattern as string;
    if (pattern === "") throw new LayerslayerError("USAGE", "the pattern is empty");
    const types = args.type === undefined ? undefined : TYPE_LETTERS[args.type];
    if (args.type !== undefined && !types) throw new LayerslayerError("USAGE", `--type ${escapeName(args.type)}: expected one of f, d, l, c, b, p`);
    const sizes = sizeRangeFrom(args);
    const image = args.image === undefined ? undefined : globToRegExp(args.image);
    const db = await openDatabase(args.db);
    let hits: SearchHit[];
    try {
      hits = await search(db, {
        pattern,
        ...(args.regex ? { regex: userRegExp(pattern) } : {}),
        ...(image ? { image } : {}),
        ...(types ? { types } : {}),
        ...sizes,
      });
    } finally {
      await db.close();
    }
    if (args.json) {
      printJson({ pattern, hits });
      return;
    }
    if (hits.length === 0) {
      log.info(`no recorded path matches ${escapeName(pattern)}`);
      return;
    }
    const rows = hits.map((h) => [
      `${escapeName(h.reference)}@${h.manifestDigest}`,
      escapeName(h.platform || "-"),
      `L${h.layer}`,
      what(h),
      modeString(h.type, h.mode),
      h.action === "deleted" || h.action === "hidden" ? "-" : humanSize(h.size),
      `${escapeName(h.path)}${h.linkname !== undefined && h.type === "symlink" ? ` -> ${escapeName(h.linkname)}` : ""}${h.partial ? "  (partial listing)" : ""}${h.source === "toc" ? "  (as the layer's TOC declares it)" : ""}`,
    ]);
    writeOut(formatTable(rows, ["left", "left", "right", "left", "left", "right", "left"]).join("\n"));
  },
});
