/**
 * The documents `diff --json` and `efficiency --json` print (docs/json.md), built in one place for
 * the CLI and the server.
 */
import type { RuleResult } from "../analysis/ci-rules.ts";
import type { EfficiencyReport } from "../analysis/efficiency.ts";
import type { FileChange, ImageDiff } from "../analysis/image-diff.ts";
import type { PackageChange } from "../analysis/package-diff.ts";
import type { ListingOrigin } from "../image/load.ts";
import type { ResolvedImage } from "../oci/resolve.ts";
import { entryJson } from "./json.ts";

function changeJson(c: FileChange) {
  return {
    path: c.path,
    kind: c.kind,
    ...(c.fields.length ? { fields: c.fields } : {}),
    ...(c.a ? { a: { ...entryJson({ ...c.a, layer: c.layerA! }, c.path) } } : {}),
    ...(c.b ? { b: { ...entryJson({ ...c.b, layer: c.layerB! }, c.path) } } : {}),
    ...(c.below !== undefined ? { below: c.below } : {}),
    ...(c.overSharedBase ? { overSharedBase: true } : {}),
    ...(c.contentFrom ? { contentFrom: c.contentFrom } : {}),
  };
}

export interface DiffSide {
  img: ResolvedImage;
  /** The layer compared alone, when one was. */
  layer: number | undefined;
}

/** Whether the two sides are the same: no path, config entry or package differs. */
export function diffIsSame(d: ImageDiff, packages: readonly PackageChange[] = []): boolean {
  return d.paths.length === 0 && d.config.length === 0 && packages.length === 0;
}

/** `diff --json`: `packages` only when they were compared, `contentCompared` only with `content`. */
export function diffDocument(a: DiffSide, b: DiffSide, d: ImageDiff, opts: { packages?: PackageChange[]; content: boolean }): Record<string, unknown> {
  const side = (s: DiffSide, listings: ListingOrigin[]) => ({
    reference: s.img.source.reference,
    digest: s.img.manifest.digest,
    ...(s.layer !== undefined ? { layer: s.layer } : {}),
    listings,
  });
  return {
    a: side(a, d.listings.a),
    b: side(b, d.listings.b),
    same: diffIsSame(d, opts.packages),
    shared: d.shared,
    sharedRead: d.sharedRead,
    paths: d.paths.map(changeJson),
    config: d.config,
    ...(opts.packages ? { packages: opts.packages } : {}),
    ...(opts.content ? { contentCompared: d.contentCompared, contentByToc: d.contentByToc } : {}),
    bytesDownloaded: d.bytesDownloaded,
  };
}

/** `efficiency --json`: the report with the `shown` most wasteful paths, where each layer's listing came from, and the rules' verdicts with `--ci` (and the `.dive-ci` file they were read from). */
export function efficiencyDocument(
  reference: string,
  report: EfficiencyReport,
  shown: EfficiencyReport["inefficiencies"],
  listings: ListingOrigin[],
  ci?: { rules: RuleResult[]; ciConfig?: string | undefined },
): Record<string, unknown> {
  return {
    reference,
    ...report,
    inefficiencies: shown,
    listings,
    ...(ci ? { rules: ci.rules, pass: !ci.rules.some((r) => r.status === "fail"), ...(ci.ciConfig ? { ciConfig: ci.ciConfig } : {}) } : {}),
  };
}
