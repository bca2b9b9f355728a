import { defineCommand } from "citty";
import { existsSync, readFileSync } from "node:fs";
import { evaluateRules, parseDiveCi, parseRules, RULE_DEFAULTS, type RuleName } from "../analysis/ci-rules.ts";
import { efficiencyOfImage } from "../analysis/efficiency.ts";
import { LayerslayerError } from "../errors.ts";
import { escapeName } from "../names.ts";
import { efficiencyDocument } from "../output/analysis-json.ts";
import { formatTable, humanSize } from "../output/format.ts";
import { globalArgs, imageArg, printJson, setupImage, writeOut, type GlobalArgs } from "./common.ts";
import { tocDeclared } from "./peek-layer.ts";

export default defineCommand({
  meta: { name: "efficiency", description: "Score an image's wasted space as dive does (files replaced or deleted by later layers); --ci fails on dive's rules" },
  args: {
    ...imageArg,
    top: { type: "string", valueHint: "N", description: "How many of the most wasteful paths to show (default 20; 0 for all)" },
    ci: { type: "boolean", description: "Check dive's CI rules: one verdict line per rule, exit 1 when one fails" },
    "ci-config": {
      type: "string",
      valueHint: "FILE",
      description:
        "dive's .dive-ci file to read the rules from; flags override it (default: .dive-ci in the current directory when there is one, as dive reads it; else dive's defaults)",
    },
    lowestEfficiency: { type: "string", valueHint: "0..1", description: `With --ci: fail below this efficiency (default ${RULE_DEFAULTS.lowestEfficiency})` },
    highestWastedBytes: { type: "string", valueHint: "SIZE", description: `With --ci: fail above this many wasted bytes, e.g. 20M (default ${RULE_DEFAULTS.highestWastedBytes})` },
    highestUserWastedPercent: {
      type: "string",
      valueHint: "0..1",
      description: `With --ci: fail above this fraction of wasted to user bytes (default ${RULE_DEFAULTS.highestUserWastedPercent})`,
    },
    verify: { type: "boolean", description: "Read each layer's tar stream even when it has a TOC (checked against it: a difference is corrupt data, exit 7)" },
    ...globalArgs,
  },
  async run({ args }) {
    const top = args.top === undefined ? 20 : Number(args.top);
    if (!Number.isSafeInteger(top) || top < 0) throw new LayerslayerError("USAGE", `--top must be a whole number, 0 or more`);
    // As dive: --ci-config, else ./.dive-ci when there is one (only with --ci: nothing else reads it).
    const ciConfig = args["ci-config"] ?? (args.ci && existsSync(DIVE_CI) ? DIVE_CI : undefined);
    const fromFile = ciConfig ? parseDiveCi(readCiFile(ciConfig)) : {};
    const flags: Partial<Record<RuleName, string>> = {};
    for (const rule of ["lowestEfficiency", "highestWastedBytes", "highestUserWastedPercent"] as const) if (args[rule] !== undefined) flags[rule] = args[rule];
    const rules = parseRules({ ...fromFile, ...flags });
    const { ctx, img } = await setupImage(args as GlobalArgs & { image: string });
    const { listings, ...report } = await efficiencyOfImage(img, { ...(ctx.useCache ? { cache: ctx.cache } : {}), onWarning: ctx.warn, verify: !!args.verify });
    // A TOC's listing is what the image's author declares, not what the tar stream holds.
    const declared = listings.filter((l) => l.source === "toc").map((l) => l.index);
    const results = args.ci ? evaluateRules(report, rules) : [];
    const shown = top === 0 ? report.inefficiencies : report.inefficiencies.slice(0, top);
    const failed = results.some((r) => r.status === "fail");
    if (ctx.json) {
      printJson(efficiencyDocument(img.source.reference, report, shown, listings, args.ci ? { rules: results, ciConfig } : undefined));
    } else {
      const lines = [
        `efficiency: ${(report.efficiency * 100).toFixed(4)} %`,
        `wasted: ${humanSize(report.wastedBytes)} (${report.wastedBytes} bytes), ${(report.wastedUserPercent * 100).toFixed(2)} % of the ${humanSize(report.userSizeBytes)} added above the base layer`,
        `total: ${humanSize(report.sizeBytes)} in ${listings.length} layers`,
      ];
      const which = tocDeclared(declared);
      if (which) lines.push(`listings: ${which} (the tar stream was not read; --verify reads it)`);
      if (shown.length > 0) {
        lines.push(
          "",
          ...formatTable(
            [["COUNT", "TOTAL SPACE", "PATH"], ...shown.map((w) => [String(w.layers.length), humanSize(w.cumulativeSize), escapeName(w.path)])],
            ["right", "right", "left"],
          ),
        );
        if (shown.length < report.inefficiencies.length) lines.push(`… and ${report.inefficiencies.length - shown.length} more (--top 0 shows all)`);
      }
      const given = Object.keys(flags).length > 0 ? ", overridden by the flags given" : "";
      if (args.ci)
        lines.push(
          "",
          `rules: ${ciConfig ? `from ${escapeName(ciConfig)}` : "dive's defaults"}${given}`,
          ...results.map((r) => `${r.status.toUpperCase()}: ${r.rule}: ${r.message}`),
          failed ? "Result: FAIL" : "Result: PASS",
        );
      writeOut(lines.join("\n"));
    }
    if (failed) process.exitCode = 1;
  },
});

/** The rules file dive reads by default, in the current directory. */
const DIVE_CI = ".dive-ci";

function readCiFile(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw new LayerslayerError("USAGE", `--ci-config ${escapeName(path)}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : "cannot be read"}`);
  }
}
