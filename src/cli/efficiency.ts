import { defineCommand } from "citty";
import { readFileSync } from "node:fs";
import { evaluateRules, parseDiveCi, parseRules, RULE_DEFAULTS, type RuleName } from "../analysis/ci-rules.ts";
import { analyzeEfficiency } from "../analysis/efficiency.ts";
import { LayerslayerError } from "../errors.ts";
import { loadListings } from "../image/load.ts";
import { escapeName } from "../names.ts";
import { efficiencyDocument } from "../output/analysis-json.ts";
import { formatTable, humanSize } from "../output/format.ts";
import { globalArgs, imageArg, printJson, setupImage, writeOut, type GlobalArgs } from "./common.ts";

export default defineCommand({
  meta: { name: "efficiency", description: "Score an image's wasted space as dive does (files replaced or deleted by later layers); --ci fails on dive's rules" },
  args: {
    ...imageArg,
    top: { type: "string", valueHint: "N", description: "How many of the most wasteful paths to show (default 20; 0 for all)" },
    ci: { type: "boolean", description: "Check dive's CI rules: one verdict line per rule, exit 1 when one fails" },
    "ci-config": { type: "string", valueHint: "FILE", description: "dive's .dive-ci file to read the rules from; flags override it (default: none, dive's defaults)" },
    lowestEfficiency: { type: "string", valueHint: "0..1", description: `With --ci: fail below this efficiency (default ${RULE_DEFAULTS.lowestEfficiency})` },
    highestWastedBytes: { type: "string", valueHint: "SIZE", description: `With --ci: fail above this many wasted bytes, e.g. 20M (default ${RULE_DEFAULTS.highestWastedBytes})` },
    highestUserWastedPercent: {
      type: "string",
      valueHint: "0..1",
      description: `With --ci: fail above this fraction of wasted to user bytes (default ${RULE_DEFAULTS.highestUserWastedPercent})`,
    },
    ...globalArgs,
  },
  async run({ args }) {
    const top = args.top === undefined ? 20 : Number(args.top);
    if (!Number.isSafeInteger(top) || top < 0) throw new LayerslayerError("USAGE", `--top must be a whole number, 0 or more`);
    const fromFile = args["ci-config"] ? parseDiveCi(readCiFile(args["ci-config"])) : {};
    const flags: Partial<Record<RuleName, string>> = {};
    for (const rule of ["lowestEfficiency", "highestWastedBytes", "highestUserWastedPercent"] as const) if (args[rule] !== undefined) flags[rule] = args[rule];
    const rules = parseRules({ ...fromFile, ...flags });
    const { ctx, img } = await setupImage(args as GlobalArgs & { image: string });
    const indexes = img.manifest.image.layers.map((_, i) => i);
    const listings = await loadListings(img, indexes, { ...(ctx.useCache ? { cache: ctx.cache } : {}), onWarning: ctx.warn });
    const report = analyzeEfficiency(listings.map((l) => l.entries));
    const results = args.ci ? evaluateRules(report, rules) : [];
    const shown = top === 0 ? report.inefficiencies : report.inefficiencies.slice(0, top);
    const failed = results.some((r) => r.status === "fail");
    if (ctx.json) {
      printJson(efficiencyDocument(img.source.reference, report, shown, args.ci ? results : undefined));
    } else {
      const lines = [
        `efficiency: ${(report.efficiency * 100).toFixed(4)} %`,
        `wasted: ${humanSize(report.wastedBytes)} (${report.wastedBytes} bytes), ${(report.wastedUserPercent * 100).toFixed(2)} % of the ${humanSize(report.userSizeBytes)} added above the base layer`,
        `total: ${humanSize(report.sizeBytes)} in ${indexes.length} layers`,
      ];
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
      if (args.ci) lines.push("", ...results.map((r) => `${r.status.toUpperCase()}: ${r.rule}: ${r.message}`), failed ? "Result: FAIL" : "Result: PASS");
      writeOut(lines.join("\n"));
    }
    if (failed) process.exitCode = 1;
  },
});

function readCiFile(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw new LayerslayerError("USAGE", `--ci-config ${escapeName(path)}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : "cannot be read"}`);
  }
}
