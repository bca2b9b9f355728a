/**
 * Memory and start-up against floors: small programs compiled in the same run with the same
 * `bun build --compile` flags as the CLI (scripts/build.ts), each doing the least one of our
 * commands must do, run round-robin with the commands they bound:
 *   - hello: only prints (the runtime's own start-up and pages);
 *   - one-request: one manifest GET (what a cached `ls IMAGE` must still ask the registry);
 *   - fetch-inflate: one 256 KiB Range GET of a gzip blob, inflated by Bun's zlib (the cheapest
 *     honest floor of a `peek --budget 256K`); fetch-inflate-fflate does the same with fflate, the
 *     decoder of our exact path, shown for information.
 * The image is one gzip layer of this machine's /etc and a few trees under /usr (about 13,000
 * paths, a base image's size), so `ls IMAGE /etc` lists a real /etc from a realistic merged tree.
 *
 *   bun scripts/bench.ts --only floors [--runs N]      (this section alone, its own registry)
 */

import { existsSync } from "node:fs";
import { join } from "node:path";
import type { TestRegistry } from "../../test/support/registry.ts";
import { COMPILE_FLAGS } from "../build.ts";
import { buildTreeLayer, pushLayerImage } from "./layers.ts";
import { capture, interleaved, measure, type Timed } from "./proc.ts";
import { KiB, mb, mib, ratio, secs, table, type Report } from "./report.ts";
import type { TargetRow } from "./targets.ts";

const FLOOR_DIR = join(import.meta.dir, "floors");
const PROGRAMS = ["hello", "one-request", "fetch-inflate", "fetch-inflate-fflate"] as const;
type Program = (typeof PROGRAMS)[number];

/** The layer's trees (relative to /); those missing on this machine are left out. */
const BASE_DIRS = ["etc", "usr/share/zoneinfo", "usr/share/perl", "usr/include"];
const BUDGET = 256 * KiB;

/** Margins of the targets (issue 24), in MiB over the floor, and the wall ratio. */
export const PEEK_RSS_MARGIN = 8;
export const LS_RSS_MARGIN = 12;
export const LS_WALL_RATIO = 1.5;

export interface FloorsInput {
  /** The CLI as bench.ts runs it (binary or source). */
  cli: string[];
  env: Record<string, string>;
  runs: number;
  reg: TestRegistry;
  tmp: string;
  report: Report;
  targets: TargetRow[];
  fails: string[];
}

/** Compiles the floor programs into `dir`, as scripts/build.ts compiles the CLI. */
export async function buildFloorPrograms(dir: string): Promise<Record<Program, string>> {
  const out = {} as Record<Program, string>;
  for (const p of PROGRAMS) {
    out[p] = join(dir, `floor-${p}`);
    const r = await capture([process.execPath, "build", ...COMPILE_FLAGS, join(FLOOR_DIR, `${p}.ts`), "--outfile", out[p]], { cwd: join(import.meta.dir, "../..") });
    if (r.code !== 0) throw new Error(`bun build --compile ${p}.ts failed: ${r.stderr.slice(0, 500)}`);
  }
  return out;
}

/** The GET lines `--verbose` logs (one per request that reached the registry). */
function requestsOf(stderr: string): string[] {
  return stderr.split("\n").filter((l) => /^· (GET|HEAD) /.test(l));
}

/** Runs the section: builds, pushes, fills the cache, measures; adds its table and target rows. */
export async function floorsSection(f: FloorsInput): Promise<void> {
  const { report, targets, fails, env } = f;
  report.section(`Floors: memory and start-up against programs that do only the least (median of ${f.runs * 2}; peak RSS the largest of the runs)`);
  process.stderr.write("bench: floors: compiling the floor programs, building the base layer…\n");
  const [bin, layer] = await Promise.all([
    buildFloorPrograms(f.tmp),
    buildTreeLayer(
      BASE_DIRS.filter((d) => existsSync(`/${d}`)),
      join(f.tmp, "base.tar.gz"),
    ),
  ]);
  const img = await pushLayerImage(f.reg, "bench/base", "v1", layer);
  const manifestUrl = `${f.reg.url}/v2/bench/base/manifests/v1`;
  const digest = (await capture([bin["one-request"], manifestUrl])).stdout.split(" ")[0] ?? "";
  const byDigest = `${f.reg.host}/bench/base@${digest}`;

  const ls = (image: string) => [...f.cli, "ls", image, "/etc"];
  const fill = await measure([...ls(img.image), "--verbose"], { env });
  if (fill.code !== 0) throw new Error(`ls to fill the cache exited ${fill.code}: ${fill.stderr.slice(0, 300)}`);
  // What a cached ls still asks the registry: by tag, what the tag points at; by digest, nothing.
  const cachedTag = await measure([...ls(img.image), "--verbose"], { env });
  const cachedDigest = await measure([...ls(byDigest), "--verbose"], { env });
  const tagRequests = requestsOf(cachedTag.stderr);
  const digestRequests = requestsOf(cachedDigest.stderr);
  if (cachedTag.code !== 0 || cachedDigest.code !== 0) fails.push(`FAIL: cached ls exited ${cachedTag.code} / ${cachedDigest.code}: ${cachedTag.stderr.slice(0, 300)}`);

  const cmds: { name: string; cmd: string[] }[] = [
    { name: "floor: hello (only prints)", cmd: [bin.hello] },
    { name: "floor: one-request (one manifest GET)", cmd: [bin["one-request"], manifestUrl] },
    { name: `floor: fetch-inflate (${BUDGET / KiB} KiB Range GET, Bun zlib)`, cmd: [bin["fetch-inflate"], img.blobUrl, String(BUDGET)] },
    { name: `fetch-inflate-fflate (the same with fflate), for comparison`, cmd: [bin["fetch-inflate-fflate"], img.blobUrl, String(BUDGET)] },
    { name: "`peek IMAGE --budget 256K --no-cache`", cmd: [...f.cli, "peek", img.image, "--budget", String(BUDGET), "--no-cache"] },
    { name: "`ls IMAGE /etc`, cached", cmd: ls(img.image) },
    { name: "`ls IMAGE@DIGEST /etc`, cached", cmd: ls(byDigest) },
  ];
  process.stderr.write("bench: floors: measuring…\n");
  const t = (await interleaved(
    f.runs * 2,
    cmds.map((c) => ({ cmd: c.cmd, opts: { env } })),
  )) as [Timed, Timed, Timed, Timed, Timed, Timed, Timed];
  const [hello, oneRequest, inflate, , peek, lsTag, lsDigest] = t;
  report.add(
    `Image: one gzip layer of /${BASE_DIRS.join(", /")} (${mb(layer.tarSize)} tar, ${mb(layer.size)} gzip -6). ` +
      `A cached \`ls\` by tag made ${tagRequests.length} request(s) (${tagRequests.map((l) => l.replace(/^· /, "").replace(f.reg.url, "")).join("; ") || "none"}), ` +
      `by digest ${digestRequests.length}.\n`,
  );
  report.add(
    table(
      ["command", "wall (median)", "peak RSS", "vs hello"],
      cmds.map((c, i) => [c.name, secs(t[i]!.medianMs), mib(t[i]!.rssKiB), `+${mib(t[i]!.rssKiB - hello.rssKiB)}, ${ratio(t[i]!.medianMs, hello.medianMs)}`]),
    ),
  );
  /** A peak RSS against its floor, at most `margin` MiB above it. */
  const rssRow = (what: string, ours: Timed, floor: Timed, margin: number): TargetRow => ({
    what,
    ours: mib(ours.rssKiB),
    baseline: mib(floor.rssKiB),
    value: `+${mib(ours.rssKiB - floor.rssKiB)}`,
    target: `≤ floor + ${margin} MiB`,
    met: ours.rssKiB <= floor.rssKiB + margin * 1024,
  });
  /** A wall time against its floor, at most `limit` times it (no limit: shown for information). */
  const wallRow = (what: string, ours: Timed, floor: Timed, limit?: number): TargetRow => ({
    what,
    ours: secs(ours.medianMs),
    baseline: secs(floor.medianMs),
    value: ratio(ours.medianMs, floor.medianMs),
    target: limit === undefined ? "" : `≤ ${limit}×`,
    met: limit === undefined ? undefined : ours.medianMs <= limit * floor.medianMs,
  });
  targets.push(
    rssRow("peak RSS, `peek --budget 256K`, vs the 256 KiB fetch-and-inflate floor", peek, inflate, PEEK_RSS_MARGIN),
    wallRow("cached `ls IMAGE /etc` wall vs the one-request floor", lsTag, oneRequest, LS_WALL_RATIO),
    rssRow("cached `ls IMAGE /etc` peak RSS vs the one-request floor", lsTag, oneRequest, LS_RSS_MARGIN),
    wallRow("cached `ls IMAGE@DIGEST /etc` (no request) wall vs the one-request floor", lsDigest, oneRequest),
  );
}
