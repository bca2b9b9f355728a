/**
 * Benchmark: ratios against baselines measured in the same run (not a test; nothing here asserts
 * a time). Starts Debian's docker-registry, builds a layer from a real directory tree of this
 * machine (GNU tar, gzip -6, ~40-60 MB of files) and one ~10× larger, pushes both, then measures:
 *   1. bytes downloaded and entries listed at small budgets, against GNU tar on the same prefix;
 *   2. complete-listing wall time against `curl | tar -tzv`, and inflate speed against Bun's native
 *      gzip decoders;
 *   3. peak RSS of `peek --full` on the normal and the 10× layer.
 * Prints a table per section and a markdown block for the README; writes it all to .bench/last.md.
 *
 *   bun scripts/bench.ts [--source | --binary] [--copies N] [--runs N]
 *
 * --source runs `bun src/cli/main.ts`, --binary runs dist/layerslayer; by default the binary when
 * it exists and is newer than every file under src/, else the source.
 */

import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { startRegistry, type TestRegistry } from "../test/support/registry.ts";
import { INFLATE_LABELS, inflateSpeeds } from "./bench/inflate.ts";
import { buildBig, buildSmall, pickTree, pushLayerImage } from "./bench/layers.ts";
import { bestOf, capture, measure, q, rssMethod, stopChildren } from "./bench/proc.ts";
import { KiB, mb, MiB, mib, ratio, Report, secs, sizeLabel, table, type Cell } from "./bench/report.ts";

const ROOT = join(import.meta.dir, "..");
const BUDGETS = [64 * KiB, 256 * KiB, 1 * MiB];
const RSS_LIMIT_KIB = 64 * 1024;
/** "Flat" memory: the big layer may cost at most this much more peak RSS than the normal one. */
const FLAT_TOLERANCE = 1.25;

function flag(name: string): boolean {
  return process.argv.includes(name);
}
function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} wants a whole number ≥ 1`);
  return v;
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** The CLI command to measure, and a sentence saying which and why. */
function chooseCli(): { cmd: string[]; label: string; short: string } {
  const bin = join(ROOT, "dist/layerslayer");
  const source = { cmd: [process.execPath, join(ROOT, "src/cli/main.ts")], short: "source" };
  if (flag("--source")) return { ...source, label: "source: `bun src/cli/main.ts` (--source)" };
  if (flag("--binary")) {
    if (!existsSync(bin)) throw new Error("--binary: dist/layerslayer does not exist (npm run build)");
    return { cmd: [bin], short: "binary", label: "compiled binary dist/layerslayer (--binary)" };
  }
  if (!existsSync(bin)) return { ...source, label: "source: `bun src/cli/main.ts` (no dist/layerslayer)" };
  if (statSync(bin).mtimeMs < newestMtime(join(ROOT, "src"))) {
    return { ...source, label: "source: `bun src/cli/main.ts` (dist/layerslayer is older than src/; --binary to use it anyway)" };
  }
  return { cmd: [bin], short: "binary", label: "compiled binary dist/layerslayer (newer than every file in src/)" };
}

async function version(cmd: string): Promise<string> {
  const r = await capture(["bash", "-c", `${cmd} --version 2>&1 | head -1`]);
  // "curl 7.88.1 (x86_64-pc-linux-gnu) libcurl/…" → "curl 7.88.1"
  return /^.*?\d+(?:\.\d+)+/.exec(r.stdout.trim())?.[0] ?? r.stdout.trim();
}

async function gitState(): Promise<string> {
  const head = (await capture(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"])).stdout.trim();
  const dirty = (await capture(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"])).stdout.trim();
  return head ? `${head}${dirty ? " + uncommitted changes" : ""}` : "unknown";
}

interface PeekRun {
  entries: number;
  stats: { bytesDownloaded: number; layerSize: number; entries: number; complete: boolean; bytesDecompressed: number };
}

function parsePeek(stdout: string): PeekRun {
  const lines = stdout.split("\n").filter((l) => l.length > 0);
  const last = JSON.parse(lines.pop() ?? "{}") as { stats?: PeekRun["stats"] };
  if (!last.stats) throw new Error(`peek --json printed no stats line: ${stdout.slice(-300)}`);
  return { entries: lines.length, stats: last.stats };
}

async function main(): Promise<void> {
  const started = performance.now();
  const copies = option("--copies", 10);
  const runs = option("--runs", 3);
  const cli = chooseCli();
  const tmp = mkdtempSync(join(tmpdir(), "ls-bench-"));
  const home = join(tmp, "home");
  mkdirSync(home);
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, XDG_CACHE_HOME: join(home, "cache"), NO_COLOR: "1" };
  let reg: TestRegistry | undefined;
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    stopChildren();
    try {
      await reg?.stop();
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  };
  const onSignal = (sig: NodeJS.Signals) => {
    process.stderr.write(`\nbench: ${sig}, cleaning up\n`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  const report = new Report();
  const misses: string[] = [];
  try {
    const tree = await pickTree();
    report.add(`# layerslayer benchmark\n`);
    const cpu = /^model name\s*:\s*(.*)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? "unknown CPU";
    report.add(
      [
        `- date: ${new Date().toISOString()}, commit ${await gitState()}`,
        `- machine: ${cpu}, ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(2)).join(" ")} at start; Bun ${Bun.version}; ${await version("tar")}; ${await version("gzip")}; ${await version("curl")}`,
        `- CLI measured: ${cli.label}, run as \`peek IMAGE … --json --no-cache -q\` with an empty HOME`,
        `- tree: /${tree.dirs.join(", /")} — ${tree.paths} paths, ${mb(tree.bytes)} of files`,
      ].join("\n"),
    );

    reg = await startRegistry();
    process.stderr.write(`bench: building layers (tree ×1 and ×${copies}, gzip -6) in ${tmp}…\n`);
    const [small, big] = await Promise.all([buildSmall(tree, join(tmp, "small.tar.gz")), buildBig(tree, copies, join(tmp, "big.tar.gz"))]);
    const smallImg = await pushLayerImage(reg, "bench/tree", "x1", small);
    const bigImg = await pushLayerImage(reg, "bench/tree", `x${copies}`, big);
    report.add(
      `- layers on ${reg.url} (docker-registry, loopback): normal ${mb(small.tarSize)} tar → ${mb(small.size)} gzip; ` +
        `×${copies} ${mb(big.tarSize)} tar → ${mb(big.size)} gzip (built in ${secs(Math.max(small.buildMs, big.buildMs))})`,
    );
    const peek = (image: string, ...args: string[]) => [...cli.cmd, "peek", image, ...args, "--json", "--no-cache", "-q"];

    // ---------------------------------------------------------------- 1. budgets
    report.section("1. Budgeted peek: bytes downloaded and entries listed vs GNU tar on the same prefix");
    const rows1: Cell[][] = [];
    const budgetFigures: { budget: number; ours: number; tar: number }[] = [];
    for (const budget of [...BUDGETS, undefined]) {
      const r = await capture(peek(smallImg.image, ...(budget === undefined ? ["--full"] : ["--budget", String(budget)])), { env });
      if (r.code !== 0) throw new Error(`peek exited ${r.code}: ${r.stderr.slice(0, 500)}`);
      const run = parsePeek(r.stdout);
      const prefix = budget === undefined ? `cat ${q(small.path)}` : `head -c ${budget} ${q(small.path)}`;
      const tarOut = await capture(["bash", "-c", `${prefix} | gzip -dc 2>/dev/null | tar -tf - 2>/dev/null | wc -l`]);
      const tarCount = Number(tarOut.stdout.trim());
      const want = budget === undefined ? small.size : Math.min(budget, small.size);
      const bytesOk = run.stats.bytesDownloaded === want;
      const countOk = run.entries >= tarCount && run.entries === run.stats.entries && (budget !== undefined || run.stats.complete);
      if (!bytesOk) misses.push(`FAIL: budget ${budget ?? "full"}: downloaded ${run.stats.bytesDownloaded}, want ${want}`);
      if (!countOk) misses.push(`FAIL: budget ${budget ?? "full"}: listed ${run.entries} (stats ${run.stats.entries}), GNU tar ${tarCount}`);
      if (budget !== undefined) budgetFigures.push({ budget, ours: run.entries, tar: tarCount });
      rows1.push([
        budget === undefined ? `--full (${mb(small.size)})` : sizeLabel(budget),
        run.stats.bytesDownloaded,
        bytesOk ? "exact" : "FAIL",
        mb(run.stats.bytesDecompressed),
        run.entries,
        tarCount,
        ratio(run.entries, tarCount),
        countOk ? (run.stats.complete ? "ok, complete" : "ok") : "FAIL",
      ]);
    }
    const fullEntries = Number(rows1[rows1.length - 1]?.[4] ?? 0);
    report.add(table(["budget", "bytes downloaded", "= budget", "tar bytes decoded", "ours", "GNU tar", "ours/tar", "verdict"], rows1));

    // ---------------------------------------------------------------- 2. speed
    report.section(`2. Complete listing wall time (best of ${runs}) and inflate speed`);
    process.stderr.write("bench: timing complete listings…\n");
    const curlTar = (url: string) => ["bash", "-o", "pipefail", "-c", `curl -sf ${q(url)} | tar -tzvf - > /dev/null`];
    const floor = await bestOf(runs, peek(smallImg.image, "--budget", "64K"), { env });
    const oursSmall = await bestOf(runs, peek(smallImg.image, "--full"), { env });
    const tarSmall = await bestOf(runs, curlTar(smallImg.blobUrl));
    const oursBig = await measure(peek(bigImg.image, "--full"), { env, lines: true });
    if (oursBig.code !== 0) throw new Error(`peek --full on the ×${copies} layer exited ${oursBig.code}: ${oursBig.stderr.slice(0, 500)}`);
    const bigRun = parsePeek(oursBig.lastLine ?? "");
    const bigEntries = (oursBig.lines ?? 1) - 1;
    const tarBig = await bestOf(1, curlTar(bigImg.blobUrl));
    const speedRatio = oursSmall.bestMs / tarSmall.bestMs;
    if (speedRatio > 1) misses.push(`MISS: complete listing ${ratio(oursSmall.bestMs, tarSmall.bestMs)} of curl | tar -tzv (target ≤ 1.0×)`);
    const all = (ms: number[]) => ms.map((m) => secs(m)).join(", ");
    report.add(
      table(
        ["layer", "layerslayer peek --full", "curl | tar -tzv", "ours/tar", "ours MB/s (tar bytes)", "runs (ours; tar)"],
        [
          [`normal, ${mb(small.size)}`, secs(oursSmall.bestMs), secs(tarSmall.bestMs), ratio(oursSmall.bestMs, tarSmall.bestMs), (small.tarSize / 1e3 / oursSmall.bestMs).toFixed(0), `${all(oursSmall.allMs)}; ${all(tarSmall.allMs)}`],
          [`×${copies}, ${mb(big.size)}`, secs(oursBig.ms), secs(tarBig.bestMs), ratio(oursBig.ms, tarBig.bestMs), (big.tarSize / 1e3 / oursBig.ms).toFixed(0), "1 run each"],
        ],
      ),
    );
    report.add(`\nFixed cost (start-up, manifest, config, one ranged GET): \`peek --budget 64K\` best of ${runs} = ${secs(floor.bestMs)}.`);
    if (bigEntries !== bigRun.stats.entries || !bigRun.stats.complete || bigRun.stats.bytesDownloaded !== big.size) {
      misses.push(`FAIL: ×${copies} layer: ${bigEntries} entries printed, stats ${JSON.stringify(bigRun.stats)}`);
    } else if (bigEntries !== copies * fullEntries) misses.push(`note: ×${copies} layer lists ${bigEntries} entries, not ${copies} × ${fullEntries}`);

    process.stderr.write("bench: inflate speed…\n");
    const inflate = await inflateSpeeds(small.path);
    const ours = inflate.find((r) => r.variant === "gunzip")!;
    const oursTar = inflate.find((r) => r.variant === "gunzip+readTar")!;
    const ds = inflate.find((r) => r.variant === "DecompressionStream-gzip")!;
    const sync = inflate.find((r) => r.variant === "Bun.gunzipSync")!;
    for (const r of inflate) if (r.bytes !== small.tarSize) misses.push(`FAIL: ${r.variant} decoded ${r.bytes} bytes, want ${small.tarSize}`);
    report.add(`\nInflate, ${mb(small.size)} gzip → ${mb(small.tarSize)} in memory, decompressed MB/s, each decoder in its own process:\n`);
    report.add(
      table(
        ["decoder", "first run", `best of 3`, "ours/this"],
        inflate.map((r) => [INFLATE_LABELS[r.variant], r.firstMBs.toFixed(0), r.bestMBs.toFixed(0), r.variant.startsWith("gunzip") ? "—" : ratio(ours.bestMBs, r.bestMBs)]),
      ),
    );
    // A CLI run is one cold process: estimate its decode time from the first (cold) run in-process.
    const decodeMs = small.tarSize / 1e3 / oursTar.firstMBs;
    const rest = oursSmall.bestMs - floor.bestMs - decodeMs;
    report.add(
      `\nWhere the ${secs(oursSmall.bestMs)} goes (estimate from the figures above): fixed cost ${secs(floor.bestMs)}; ` +
        `inflate + tar parsing of ${mb(small.tarSize)} in a cold process (${oursTar.firstMBs.toFixed(0)} MB/s) ≈ ${secs(decodeMs)}; ` +
        `the rest (HTTP body, sha256, entries → NDJSON) ≈ ${rest < 0.05 * oursSmall.bestMs ? "lost in the noise (the download runs on Bun's HTTP thread, beside the decoding)" : secs(rest)}. ` +
        `CPU time (user+sys) of the best runs: ours ${oursSmall.cpuS.toFixed(2)} s, curl | tar -tzv ${tarSmall.cpuS.toFixed(2)} s ` +
        `(there GNU gzip's C inflate runs in its own process beside tar and curl, so it can use the second core).`,
    );

    // ---------------------------------------------------------------- 3. memory
    report.section("3. Peak RSS of peek --full");
    const bare = await measure([...cli.cmd, "--version"], { env });
    const rssRatio = oursBig.rssKiB / oursSmall.rssKiB;
    const rssOk = oursBig.rssKiB <= RSS_LIMIT_KIB && oursSmall.rssKiB <= RSS_LIMIT_KIB && rssRatio <= FLAT_TOLERANCE;
    if (!rssOk) misses.push(`MISS: peak RSS ${mib(oursSmall.rssKiB)} / ${mib(oursBig.rssKiB)} (target ≤ 64 MiB, ×${copies}/×1 ≤ ${FLAT_TOLERANCE})`);
    report.add(
      table(
        ["run", "layer (gzip → tar)", "entries", "peak RSS", "vs normal"],
        [
          ["`layerslayer --version` (runtime + CLI)", "", "", mib(bare.rssKiB), ratio(bare.rssKiB, oursSmall.rssKiB)],
          ["peek --budget 64K (floor)", `${mb(small.size)} → ${mb(small.tarSize)}`, budgetFigures[0]?.ours ?? "", mib(floor.rssKiB), ratio(floor.rssKiB, oursSmall.rssKiB)],
          ["peek --full, normal", `${mb(small.size)} → ${mb(small.tarSize)}`, fullEntries, mib(oursSmall.rssKiB), "1.00×"],
          [`peek --full, ×${copies}`, `${mb(big.size)} → ${mb(big.tarSize)}`, bigEntries, mib(oursBig.rssKiB), ratio(oursBig.rssKiB, oursSmall.rssKiB)],
          ["curl | tar -tzv, normal", "", "", mib(tarSmall.rssKiB), ratio(tarSmall.rssKiB, oursSmall.rssKiB)],
        ],
      ),
    );
    report.add(`\nRSS measured with ${rssMethod()}. Target: ≤ 64 MiB and flat (×${copies}/×1 ≤ ${FLAT_TOLERANCE}): ${rssOk ? "ok" : "MISS"}.`);

    // ---------------------------------------------------------------- summary
    report.section("Verdict");
    report.add(misses.length ? misses.map((m) => `- ${m}`).join("\n") : "- every check passed and every target was met");
    const readme = [
      "```markdown",
      "## Benchmark",
      "",
      `\`npm run bench\` on ${cpu} (${cpus().length} cores), Bun ${Bun.version}, ${cli.short === "binary" ? "the compiled binary" : "run from source"}, against a local docker-registry. ` +
        `Layer: GNU tar of /${tree.dirs.join(", /")} (${fullEntries} entries, ${mb(small.tarSize)}), \`gzip -6\` → ${mb(small.size)}; a ×${copies} copy (${mb(big.size)}) for memory. Baselines are measured in the same run.`,
      "",
      table(
        ["", "layerslayer", "baseline", "ratio"],
        [
          ...budgetFigures.map((f): Cell[] => [`entries listed, \`--budget ${f.budget >= MiB ? `${f.budget / MiB}M` : `${f.budget / KiB}K`}\` (downloads exactly ${f.budget} B)`, f.ours, `${f.tar} (\`head -c | gzip -dc | tar -t\`)`, ratio(f.ours, f.tar)]),
          ["complete listing, `peek --full`", secs(oursSmall.bestMs), `${secs(tarSmall.bestMs)} (\`curl | tar -tzv\`)`, ratio(oursSmall.bestMs, tarSmall.bestMs)],
          [`complete listing, ×${copies} layer`, secs(oursBig.ms), `${secs(tarBig.bestMs)} (\`curl | tar -tzv\`)`, ratio(oursBig.ms, tarBig.bestMs)],
          ["gzip inflate", `${ours.bestMBs.toFixed(0)} MB/s`, `${ds.bestMBs.toFixed(0)} MB/s (DecompressionStream), ${sync.bestMBs.toFixed(0)} MB/s (Bun.gunzipSync)`, `${ratio(ours.bestMBs, ds.bestMBs)}, ${ratio(ours.bestMBs, sync.bestMBs)}`],
          [`peak RSS, \`peek --full\`, ×${copies} layer`, mib(oursBig.rssKiB), `${mib(oursSmall.rssKiB)} (normal layer)`, ratio(oursBig.rssKiB, oursSmall.rssKiB)],
        ],
      ),
      "```",
    ].join("\n");
    report.section("For the README");
    report.add(readme);
    report.add(`\n(bench took ${secs(performance.now() - started)})`);
    mkdirSync(join(ROOT, ".bench"), { recursive: true });
    writeFileSync(join(ROOT, ".bench/last.md"), report.text());
    process.stderr.write(`bench: report written to .bench/last.md\n`);
    if (misses.some((m) => m.startsWith("FAIL"))) process.exitCode = 1;
  } finally {
    await cleanup();
  }
}

try {
  await main();
} catch (e) {
  // main() has cleaned up already (its finally); one line, no stack, for an expected failure.
  process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
}
