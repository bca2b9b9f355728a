/** The --budget / --full options of the commands that read layer listings (peek, scan). */
import { LayerslayerError } from "../errors.ts";
import { parseSize } from "../output/format.ts";

export const DEFAULT_BUDGET = 256 * 1024;

export const budgetArgs = {
  budget: { type: "string", valueHint: "SIZE", description: "Compressed bytes to download per layer, e.g. 64K, 1M, 1MiB (default 256K)" },
  full: { type: "boolean", description: "Download whole layers: a complete listing" },
  verify: { type: "boolean", description: "With --full: read each layer's tar stream even when it has a TOC, and check the TOC against it (a difference is corrupt data, exit 7)" },
} as const;

/** The budget the flags ask for: undefined means the whole layer. */
export function budgetFrom(args: { budget?: string; full?: boolean; verify?: boolean }): number | undefined {
  if (args.full && args.budget !== undefined) throw new LayerslayerError("USAGE", "--full and --budget cannot be used together");
  if (args.verify && !args.full) throw new LayerslayerError("USAGE", "--verify reads whole layers: it goes with --full");
  if (args.full) return undefined;
  if (args.budget === undefined) return DEFAULT_BUDGET;
  const n = parseSize(args.budget, "--budget");
  if (n <= 0) throw new LayerslayerError("USAGE", "--budget must be more than 0");
  return n;
}
