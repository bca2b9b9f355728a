/**
 * dive's CI rules over an efficiency report, under dive's names and with its defaults:
 *   lowestEfficiency          fails when efficiency < the value (0..1; default 0.9)
 *   highestWastedBytes        fails when wasted bytes > the value (a size; default disabled)
 *   highestUserWastedPercent  fails when wasted / user size > the value (a fraction; default 0.1)
 * A value "disabled" (or "off") turns a rule off. Sizes use layerslayer's units (1024-based: 20M is
 * 20 MiB; dive's go-humanize reads "20MB" as 20,000,000).
 */
import { LayerslayerError } from "../errors.ts";
import { escapeName } from "../names.ts";
import { humanSize, parseSize } from "../output/format.ts";
import type { EfficiencyReport } from "./efficiency.ts";

export const RULE_NAMES = ["lowestEfficiency", "highestWastedBytes", "highestUserWastedPercent"] as const;
export type RuleName = (typeof RULE_NAMES)[number];

export const RULE_DEFAULTS: Record<RuleName, string> = { lowestEfficiency: "0.9", highestWastedBytes: "disabled", highestUserWastedPercent: "0.1" };

export interface RuleResult {
  rule: RuleName;
  /** The value as configured ("0.9", "20M", "disabled"). */
  threshold: string;
  status: "pass" | "fail" | "disabled";
  /** One line for people. */
  message: string;
}

const isDisabled = (v: string) => /^(disabled|off)$/i.test(v.trim());

function fraction(rule: RuleName, value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0 || n > 1)
    throw new LayerslayerError("USAGE", `invalid ${rule} "${escapeName(value)}": expected a number from 0 to 1, or "disabled"`);
  return n;
}

/** Checks every rule's value first (a bad value is a usage error before anything is read). */
export function parseRules(values: Partial<Record<RuleName, string>>): Record<RuleName, string> {
  const out = { ...RULE_DEFAULTS, ...Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) } as Record<RuleName, string>;
  for (const rule of RULE_NAMES) {
    const v = out[rule];
    if (isDisabled(v)) continue;
    if (rule === "highestWastedBytes") parseSize(v, rule);
    else fraction(rule, v);
  }
  return out;
}

export function evaluateRules(report: EfficiencyReport, rules: Record<RuleName, string>): RuleResult[] {
  return RULE_NAMES.map((rule): RuleResult => {
    const threshold = rules[rule];
    if (isDisabled(threshold)) return { rule, threshold, status: "disabled", message: "rule disabled" };
    if (rule === "lowestEfficiency") {
      const t = fraction(rule, threshold);
      return report.efficiency < t
        ? { rule, threshold, status: "fail", message: `image efficiency is too low (efficiency ${report.efficiency.toFixed(4)} < ${t})` }
        : { rule, threshold, status: "pass", message: `efficiency ${report.efficiency.toFixed(4)} ≥ ${t}` };
    }
    if (rule === "highestWastedBytes") {
      const t = parseSize(threshold, rule);
      return report.wastedBytes > t
        ? { rule, threshold, status: "fail", message: `too many bytes wasted (${report.wastedBytes} > ${t}, ${humanSize(report.wastedBytes)} > ${humanSize(t)})` }
        : { rule, threshold, status: "pass", message: `${report.wastedBytes} bytes wasted ≤ ${t}` };
    }
    const t = fraction(rule, threshold);
    return report.wastedUserPercent > t
      ? { rule, threshold, status: "fail", message: `too many bytes wasted relative to the user bytes added (${report.wastedUserPercent.toFixed(4)} > ${t})` }
      : { rule, threshold, status: "pass", message: `user wasted ${report.wastedUserPercent.toFixed(4)} ≤ ${t}` };
  });
}

/** The rules of a `.dive-ci` file: `rules:` and indented `name: value` lines (dive's YAML, the part it reads). */
export function parseDiveCi(text: string): Partial<Record<RuleName, string>> {
  const out: Partial<Record<RuleName, string>> = {};
  let inRules = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/\s+#.*$/, "");
    if (!line.trim()) continue;
    if (/^\S/.test(line)) {
      inRules = /^rules\s*:\s*$/.test(line);
      continue;
    }
    const m = /^\s+([A-Za-z]+)\s*:\s*(.*?)\s*$/.exec(line);
    if (!inRules || !m) continue;
    const name = m[1] as RuleName;
    if (!RULE_NAMES.includes(name)) throw new LayerslayerError("USAGE", `.dive-ci: unknown rule "${escapeName(m[1]!)}" (known: ${RULE_NAMES.join(", ")})`);
    out[name] = m[2]!.replace(/^["']|["']$/g, "");
  }
  return out;
}
