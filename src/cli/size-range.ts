/** The --min-size / --max-size options of the commands that filter entries by size (find, search). */
import { LayerslayerError } from "../errors.ts";
import { parseSize } from "../output/format.ts";

export const sizeArgs = {
  "min-size": { type: "string", valueHint: "SIZE", description: "Only entries at least this big, e.g. 1K, 10M (default: 0)" },
  "max-size": { type: "string", valueHint: "SIZE", description: "Only entries at most this big, e.g. 4K, 1G (default: no limit)" },
} as const;

export interface SizeRange {
  minSize?: number;
  maxSize?: number;
}

/** The bounds the flags give (each optional); a minimum above the maximum is a usage error. */
export function sizeRangeFrom(args: { "min-size"?: string; "max-size"?: string }): SizeRange {
  const range: SizeRange = {};
  if (args["min-size"] !== undefined) range.minSize = parseSize(args["min-size"], "--min-size");
  if (args["max-size"] !== undefined) range.maxSize = parseSize(args["max-size"], "--max-size");
  if (range.minSize !== undefined && range.maxSize !== undefined && range.minSize > range.maxSize) {
    throw new LayerslayerError("USAGE", `--min-size ${args["min-size"]} is above --max-size ${args["max-size"]}`);
  }
  return range;
}

/** Whether a size lies in the range (both ends included). */
export function inSizeRange(size: number, r: SizeRange): boolean {
  return (r.minSize === undefined || size >= r.minSize) && (r.maxSize === undefined || size <= r.maxSize);
}
