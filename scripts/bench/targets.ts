/** The README's benchmark table: one row per figure, with its target and whether it was met. */

import { table } from "./report.ts";

export interface TargetRow {
  what: string;
  ours: string;
  baseline: string;
  /** The ratio or the value the target is about. */
  value: string;
  /** "" when the row has no target (shown for information). */
  target: string;
  met: boolean | undefined;
}

export function readmeTable(rows: TargetRow[], opts: { intro: string }): string {
  return [
    opts.intro,
    "",
    table(
      ["", "layerslayer", "baseline", "ratio / value", "target", "met"],
      rows.map((r) => [r.what, r.ours, r.baseline, r.value, r.target, r.met === undefined ? "" : r.met ? "yes" : "**no**"]),
    ),
  ].join("\n");
}

/** The verdict's lines: every failed check, then every target missed. */
export function verdict(targets: TargetRow[], fails: string[]): string {
  const missed = targets.filter((t) => t.met === false).map((t) => `MISS: ${t.what}: ${t.value} (target ${t.target})`);
  return [...fails, ...missed].map((m) => `- ${m}`).join("\n") || "- every check passed and every target was met";
}
