/**
 * Benchmark: every figure is a ratio against a baseline measured in the same run, or a peak RSS
 * against its target (not a test; nothing here asserts a time). Starts Debian's docker-registry,
 * builds a rootfs-sized layer from real directories of this machine (GNU tar; gzip -6, zstd -3, and
 * a multi-member gzip) and a layer of 1,000,000 small entries, pushes them, then measures:
 *   1. budgeted peeks: bytes downloaded (exactly the budget) and entries listed, against GNU tar on
 *      the same compressed prefix, with peak RSS;
 *   2. complete listings against `curl | tar -tzv` / `curl | zstd -dc | tar -tv`, with peak RSS;
 *   2b. through a capped link (16 MB/s per connection, +20 ms): a complete listing and `save` against
 *      curl through the same link (scripts/bench/capped.ts, which also runs alone);
 *   3. start-up: `--help` against `skopeo --version`, a cached `ls` against `--help`;
 *   4. decoder speeds in memory (native and exact paths);
 *   floors: the 256K peek's memory and a cached `ls` against programs that do only the least
 *   (scripts/bench/floors.ts; `--only floors` runs that section alone and leaves the README alone).
 * The machine is shared: every comparison runs its commands round-robin, `--runs` times, and
 * reports medians. Prints every ratio, writes .bench/last.md and the README's benchmark table
 * (between its `bench:start` / `bench:end` markers; `--no-readme` leaves the README alone).
 *
 *   bun scripts/bench.ts [--source | --binary] [--runs N] [--many N] [--no-readme] [--only floors]
 *
 * --source runs `bun src/cli/main.ts`, --binary runs dist/layerslayer; by default the binary when
 * it exists and is newer than every file under src/, else the source.
 */

import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { startRegistry, type TestRegistry } from "../test/support/registry.ts";
import { DECODER_LABELS, decoderSpeeds } from "./bench/inflate.ts";
import { buildMany, buildRootfs, pickTree, pushLayerImage, type LayerFile } from "./bench/layers.ts";
import { capture, interleaved, measure, q, rssMethod, stopChildren, type Timed } from "./bench/proc.ts";
import { KiB, mb, MiB, mib, ratio, Report, secs, sizeLabel, table, type Cell } from "./bench/report.ts";
import { floorsSection } from "./bench/floors.ts";
import { readmeTable, verdict, type TargetRow } from "./bench/targets.ts";
import { serveBench } from "./bench/serve.ts";
import { cappedRows } from "./bench/capped.ts";
import { browseBench } from "./bench/browse.ts";

const ROOT = join(import.meta.dir, "..");
const BUDGETS = [64 * KiB, 256 * KiB, 1 * MiB];

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
  return /^.*?\d+(?:\.\d+)+/.exec(r.stdout.trim())?.[0] ?? r.stdout.trim();
}

async function gitState(): Promise<string> {
  const head = (await capture(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"])).stdout.trim();
  const dirty = (await capture(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"])).stdout.trim();
  return head ? `${head}${dirty ? " + uncommitted changes" : ""}` : "unknown";
}

interface PeekStats {
  bytesDownloaded: number;
  layerSize: number;
  entries: number;
  complete: boolean;
  bytesDecompressed: number;
}

/** Entries and the stats line of a `peek --json` run (counted as it streams: 1,000,000 lines). */
async function peekJson(cmd: string[], env: Record<string, string>): Promise<{ entries: number; stats: PeekStats; rssKiB: number }> {
  const m = await measure(cmd, { env, lines: true });
  if (m.code !== 0) throw new Error(`${cmd.join(" ")} exited ${m.code}: ${m.stderr.slice(0, 500)}`);
  const last = JSON.parse(m.lastLine ?? "{}") as { stats?: PeekStats };
  if (!last.stats) throw new Error(`peek --json printed no stats line: ${m.lastLine?.slice(0, 300)}`);
  return { entries: (m.lines ?? 1) - 1, stats: last.stats, rssKiB: m.rssKiB };
}

/** Entries GNU tar lists from a shell pipeline's output (`… | tar -t | wc -l`). */
async function tarCount(pipeline: string): Promise<number> {
  const r = await capture(["bash", "-c", `${pipeline} 2>/dev/null | tar -tf - 2>/dev/null | wc -l`]);
  return Number(r.stdout.trim());
}

async function main(): Promise<void> {
  const started = performance.now();
  const runs = option("--runs", 5);
  const manyCount = option("--many", 1_000_000);
  const cli = chooseCli();
  const only = process.argv[process.argv.indexOf("--only") + 1];
  if (process.argv.includes("--only") && only !== "floors") throw new Error("--only takes: floors");
  const onlyFloors = only === "floors" && process.argv.includes("--only");
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
  const fails: string[] = [];
  const targets: TargetRow[] = [];
  try {
    const tree = await pickTree();
    report.add(`# layerslayer benchmark\n`);
    const cpu = /^model name\s*:\s*(.*)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? "unknown CPU";
    report.add(
      [
        `- date: ${new Date().toISOString()}, commit ${await gitState()}`,
        `- machine: ${cpu}, ${cpus().length} cores, load average ${loadavg()
          .map((l) => l.toFixed(2))
          .join(
            " ",
          )} at start; Bun ${Bun.version}; ${await version("tar")}; ${await version("gzip")}; ${await version("zstd")}; ${await version("curl")}; ${await version("skopeo")}`,
        `- CLI measured: ${cli.label}, with an empty HOME; medians of ${runs} runs, commands of a comparison run round-robin`,
        `- tree: /${tree.dirs.join(", /")} — ${tree.paths} paths, ${mb(tree.bytes)} of files`,
      ].join("\n"),
    );

    reg = await startRegistry();
    if (onlyFloors) {
      // The floors section alone (scripts/bench/floors.ts): its report, never the README's table.
      await floorsSection({ cli: cli.cmd, env, runs, reg, tmp, report, targets, fails });
      report.add(`${readmeTable(targets, { intro: "" })}\n\n${verdict(targets, fails)}`);
      mkdirSync(join(ROOT, ".bench"), { recursive: true });
      writeFileSync(join(ROOT, ".bench/floors.md"), report.text());
      if (fails.length > 0) process.exitCode = 1;
      return;
    }
    process.stderr.write(`bench: building layers in ${tmp}…\n`);
    const [rootfs, many] = await Promise.all([buildRootfs(tree, tmp), buildMany(manyCount, join(tmp, "many.tar.gz"))]);
    const push = (tag: string, l: LayerFile) => pushLayerImage(reg!, "bench/rootfs", tag, l);
    const gz = await push("gzip", rootfs.gzip);
    const zst = await push("zstd", rootfs.zstd);
    const multi = await push("multi", rootfs.multi);
    const manyImg = await push("many", many);
    report.add(
      `- layers on ${reg.url} (docker-registry, loopback): rootfs ${mb(rootfs.tarSize)} tar → gzip -6 ${mb(rootfs.gzip.size)}, zstd -3 ${mb(rootfs.zstd.size)}, ` +
        `multi-member gzip (1 MiB of tar a member) ${mb(rootfs.multi.size)}; ${manyCount.toLocaleString("en")} small entries ${mb(many.tarSize)} tar → gzip -1 ${mb(many.size)}`,
    );
    const peek = (image: string, ...args: string[]) => [...cli.cmd, "peek", image, ...args, "--no-cache"];

    // ------------------------------------------------------------ 1. budgets
    report.section("1. Budgeted peek (gzip rootfs): bytes downloaded, entries against GNU tar on the same compressed prefix, peak RSS");
    const rows1: Cell[][] = [];
    for (const budget of BUDGETS) {
      const run = await peekJson(peek(gz.image, "--budget", String(budget), "--json"), env);
      const gnu = await tarCount(`head -c ${budget} ${q(rootfs.gzip.path)} | gzip -dc`);
      const timed = (await interleaved(runs, [{ cmd: peek(gz.image, "--budget", String(budget)), opts: { env } }]))[0]!;
      const bytesOk = run.stats.bytesDownloaded === budget;
      const countOk = run.entries === gnu && run.entries === run.stats.entries;
      if (!bytesOk) fails.push(`FAIL: budget ${budget}: downloaded ${run.stats.bytesDownloaded}, want ${budget}`);
      if (run.entries < gnu) fails.push(`FAIL: budget ${budget}: listed ${run.entries}, GNU tar ${gnu}`);
      rows1.push([
        sizeLabel(budget),
        run.stats.bytesDownloaded,
        bytesOk ? "exact" : "FAIL",
        run.entries,
        gnu,
        countOk ? "equal" : run.entries > gnu ? "more" : "FEWER",
        secs(timed.medianMs),
        mib(timed.rssKiB),
      ]);
      targets.push({
        what: `entries listed, \`--budget ${sizeLabel(budget).replace(" KiB", "K").replace(" MiB", "M")}\` (downloads exactly ${budget} B)`,
        ours: String(run.entries),
        baseline: `${gnu} (\`head -c \\| gzip -dc \\| tar -t\`)`,
        value: ratio(run.entries, gnu),
        target: "= GNU tar, bytes exact",
        met: countOk && bytesOk,
      });
    }
    report.add(table(["budget", "bytes downloaded", "= budget", "ours", "GNU tar", "entries", "wall (median)", "peak RSS"], rows1));

    // ------------------------------------------------------------ 2. complete listings
    report.section(`2. Complete listings against shell pipelines (median of ${runs}; ratio < 1 is faster than the pipeline)`);
    const curl = (url: string, rest: string) => ["bash", "-o", "pipefail", "-c", `curl -sf ${q(url)} | ${rest} > /dev/null`];
    const cases: {
      name: string;
      img: { image: string; blobUrl: string };
      layer: LayerFile;
      pipe: string;
      pipeLabel: string;
      n: number;
      target?: { ratio: number; stretch?: number; rss: number };
    }[] = [
      // Issue 24's targets: gzip ≤ 0.6×, zstd ≤ 1.0× (0.8× the stretch), both ≤ 64 MiB.
      { name: "gzip rootfs", img: gz, layer: rootfs.gzip, pipe: "tar -tzvf -", pipeLabel: "curl | tar -tzv", n: runs, target: { ratio: 0.6, rss: 64 } },
      {
        name: "zstd rootfs",
        img: zst,
        layer: rootfs.zstd,
        pipe: "zstd -dc | tar -tvf -",
        pipeLabel: "curl | zstd -dc | tar -tv",
        n: runs,
        target: { ratio: 1.0, stretch: 0.8, rss: 64 },
      },
      { name: "multi-member gzip rootfs", img: multi, layer: rootfs.multi, pipe: "tar -tzvf -", pipeLabel: "curl | tar -tzv", n: runs },
      {
        name: `${manyCount.toLocaleString("en")} small entries`,
        img: manyImg,
        layer: many,
        pipe: "tar -tzvf -",
        pipeLabel: "curl | tar -tzv",
        n: Math.max(3, Math.ceil(runs / 2)),
      },
    ];
    const rows2: Cell[][] = [];
    for (const c of cases) {
      process.stderr.write(`bench: complete listing, ${c.name}…\n`);
      const check = await peekJson(peek(c.img.image, "--full", "--json"), env);
      const gnu = await tarCount(`cat ${q(c.layer.path)} | ${c.pipe.startsWith("zstd") ? "zstd -dc" : "gzip -dc"}`);
      if (check.entries !== gnu || !check.stats.complete || check.stats.bytesDownloaded !== c.layer.size) {
        fails.push(`FAIL: ${c.name}: ${check.entries} entries (GNU tar ${gnu}), stats ${JSON.stringify(check.stats)}`);
      }
      const [ours, base] = (await interleaved(c.n, [{ cmd: peek(c.img.image, "--full"), opts: { env } }, { cmd: curl(c.img.blobUrl, c.pipe) }])) as [Timed, Timed];
      rows2.push([
        c.name,
        check.entries === gnu ? `${check.entries} = GNU tar` : `${check.entries} ≠ ${gnu}`,
        secs(ours.medianMs),
        secs(base.medianMs),
        ratio(ours.medianMs, base.medianMs),
        `${(c.layer.tarSize / 1e3 / ours.medianMs).toFixed(0)} MB/s`,
        mib(ours.rssKiB),
        mib(base.rssKiB),
        `${ours.cpuS.toFixed(2)} / ${base.cpuS.toFixed(2)} s`,
      ]);
      const r = ours.medianMs / base.medianMs;
      targets.push({
        what: `complete listing, ${c.name}, vs \`${c.pipeLabel.replace(/\|/g, "\\|")}\``,
        ours: secs(ours.medianMs),
        baseline: secs(base.medianMs),
        value: ratio(ours.medianMs, base.medianMs),
        target: c.target ? `≤ ${c.target.ratio.toFixed(1)}×${c.target.stretch ? ` (stretch ${c.target.stretch}×)` : ""}` : "",
        met: c.target ? r <= c.target.ratio : undefined,
      });
      targets.push({
        what: `peak RSS, complete listing, ${c.name}`,
        ours: mib(ours.rssKiB),
        baseline: `${mib(base.rssKiB)} (largest process of the pipeline)`,
        value: mib(ours.rssKiB),
        target: c.target ? `≤ ${c.target.rss} MiB` : "",
        met: c.target ? ours.rssKiB <= c.target.rss * 1024 : undefined,
      });
    }
    report.add(table(["layer", "entries", "layerslayer", "pipeline", "ours/pipeline", "tar bytes/s", "ours peak RSS", "pipeline peak RSS", "CPU ours / pipeline"], rows2));
    targets.push(...(await cappedRows({ cli: cli.cmd, env, runs, reg, image: gz.image, layer: rootfs.gzip, report, fails, tmp })));

    // ------------------------------------------------------------ 3. start-up
    report.section(`3. Start-up and cached listings (median of ${runs * 2})`);
    // Fill the cache (listing, manifest, config) once, then time cached runs.
    const lsCmd = [...cli.cmd, "ls", gz.image, "/usr"];
    const fill = await measure(lsCmd, { env });
    // A failed cached ls is reported, not fatal: the start-up figures stand on their own.
    if (fill.code !== 0) fails.push(`FAIL: \`ls\` to fill the cache exited ${fill.code}: ${fill.stderr.slice(0, 300) || "(nothing on stderr)"}`);
    const [help, ver, skopeo, lsTimed] = (await interleaved(runs * 2, [
      { cmd: [...cli.cmd, "--help"], opts: { env } },
      { cmd: [...cli.cmd, "--version"], opts: { env } },
      { cmd: ["skopeo", "--version"], opts: { env } },
      ...(fill.code === 0 ? [{ cmd: lsCmd, opts: { env } }] : []),
    ])) as [Timed, Timed, Timed, Timed | undefined];
    const ls = lsTimed ?? { medianMs: NaN, allMs: [], rssKiB: 0, cpuS: 0 };
    report.add(
      table(
        ["command", "wall (median)", "peak RSS", "ratio"],
        [
          ["`skopeo --version` (baseline)", secs(skopeo.medianMs), mib(skopeo.rssKiB), "1.00×"],
          ["`layerslayer --version`", secs(ver.medianMs), mib(ver.rssKiB), `${ratio(ver.medianMs, skopeo.medianMs)} skopeo`],
          ["`layerslayer --help`", secs(help.medianMs), mib(help.rssKiB), `${ratio(help.medianMs, skopeo.medianMs)} skopeo`],
          [
            `\`layerslayer ls IMAGE /usr\`, cached (${fill.ms > 0 ? `first run ${secs(fill.ms)}` : ""})`,
            secs(ls.medianMs),
            mib(ls.rssKiB),
            `${ratio(ls.medianMs, help.medianMs)} --help`,
          ],
        ],
      ),
    );
    targets.push({ what: "peak RSS, `--help`", ours: mib(help.rssKiB), baseline: "", value: mib(help.rssKiB), target: "≤ 32 MiB", met: help.rssKiB <= 32 * 1024 });
    targets.push({
      what: "`--help` wall vs `skopeo --version`",
      ours: secs(help.medianMs),
      baseline: secs(skopeo.medianMs),
      value: ratio(help.medianMs, skopeo.medianMs),
      target: "≤ 2×",
      met: help.medianMs <= 2 * skopeo.medianMs,
    });
    // The peek's memory and the cached ls against floors (issue 24): scripts/bench/floors.ts.
    await floorsSection({ cli: cli.cmd, env, runs, reg, tmp, report, targets, fails });

    // ------------------------------------------------------------ 4. decoders
    report.section("4. Decoders in memory (gzip and zstd rootfs, 64 KiB input chunks, each in its own process; decompressed MB/s, best of 3)");
    const speeds = await decoderSpeeds(rootfs.gzip.path, rootfs.zstd.path);
    for (const s of speeds) if (s.bytes !== rootfs.tarSize) fails.push(`FAIL: decoder ${s.variant} decoded ${s.bytes} bytes, want ${rootfs.tarSize}`);
    report.add(
      table(
        ["decoder", "first run", "best of 3"],
        speeds.map((s) => [DECODER_LABELS[s.variant], s.firstMBs.toFixed(0), s.bestMBs.toFixed(0)]),
      ),
    );
    report.add(`\nRSS measured with ${rssMethod()}.`);

    await serveBench(report, { cli: cli.cmd, env, reg });

    // ------------------------------------------------------------ browse (issue 19)
    report.section(`Browse: an uncached image in tmux (median of ${Math.min(runs, 3)}; scripts/bench/browse.ts runs it alone)`);
    targets.push(...(await browseBench([{ name: cli.short, cmd: cli.cmd }], Math.min(runs, 3), (t) => report.add(t), reg)));

    // ------------------------------------------------------------ summary
    report.section("Targets (issue 10)");
    const readme = readmeTable(targets, {
      intro:
        `\`npm run bench\` on ${cpu} (${cpus().length} cores, shared with other work: medians of ${runs} round-robin runs), Bun ${Bun.version}, ${cli.short === "binary" ? "the compiled binary" : "run from source"}, against a local docker-registry. ` +
        `Rootfs layer: GNU tar of /${tree.dirs.join(", /")} (${mb(rootfs.tarSize)}, ${tree.paths} paths) as \`gzip -6\` (${mb(rootfs.gzip.size)}), \`zstd -3\` (${mb(rootfs.zstd.size)}) and multi-member gzip (${mb(rootfs.multi.size)}); ` +
        `${manyCount.toLocaleString("en")} small entries as \`gzip -1\` (${mb(many.size)}). Baselines are measured in the same run.`,
    });
    report.add(readme);
    report.section("Verdict");
    report.add(verdict(targets, fails));
    report.add(`\n(bench took ${secs(performance.now() - started)})`);
    mkdirSync(join(ROOT, ".bench"), { recursive: true });
    writeFileSync(join(ROOT, ".bench/last.md"), report.text());
    process.stderr.write(`bench: report written to .bench/last.md\n`);
    if (!flag("--no-readme")) {
      const path = join(ROOT, "README.md");
      const text = readFileSync(path, "utf8");
      const re = /(<!-- bench:start -->\n)[\s\S]*?(<!-- bench:end -->)/;
      if (re.test(text)) {
        writeFileSync(path, text.replace(re, `$1${readme}\n$2`));
        process.stderr.write("bench: README.md benchmark table updated\n");
      } else process.stderr.write("bench: README.md has no bench:start/bench:end markers; table not written\n");
    }
    if (fails.length > 0) process.exitCode = 1;
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
