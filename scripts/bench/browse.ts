/**
 * `bun scripts/bench/browse.ts [RUNS] [--bin PATH]…`: figures for the browser's targets (issue 19),
 * not a test: nothing here asserts a time. Starts Debian's docker-registry on loopback, pushes a
 * one-layer image of ~6,700 real files of this machine (GNU tar, gzip -6), then runs `browse IMAGE`
 * in tmux at 80×24 with a fresh cache each run, under GNU time, and reports (medians of RUNS,
 * default 3) for each variant: the source (`bun src/cli/main.ts`, when no --bin is given) or each
 * `--bin` binary (`--bin` alone: dist/layerslayer, `npm run build`), the variants taking turns so
 * that they share the machine's load:
 *
 *   - first screen: spawn to the layer list on the screen (target ≤ 0.5 s, uncached);
 *   - tree usable: spawn to the first tree row (from the budgeted first pass, or the complete
 *     listing when it came first); target ≤ 0.5 s from the budgeted listing;
 *   - complete: spawn to "1/1 layers merged" (target ≤ 1.5 s after the budgeted listing);
 *   - peak RSS of the browse process (target ≤ 150 MiB).
 *
 * Times are read by polling tmux's screen every 10 ms, so they carry ~10-40 ms of tmux. The machine
 * is shared, so each run of a variant is paired with baselines measured just before it, the same
 * way: `--help` (start-up alone), `peek IMAGE -q` with a fresh cache (the budgeted listing a
 * command prints: what the first pass costs outside the browser) and `find IMAGE no-such-name` with a fresh
 * cache (the complete listing: the floor of "tree complete"); and the load average is printed
 * at the start and the end.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pushImage } from "../../test/support/fixtures.ts";
import { startRegistry, type TestRegistry } from "../../test/support/registry.ts";
import type { TargetRow } from "./targets.ts";
import { startTerminal } from "../../test/support/tmux.ts";
import { loadavg } from "node:os";
import { GNU_TIME, measure } from "./proc.ts";
import { mb, mib, secs, table } from "./report.ts";

const ENTRIES = 6700;
const root = join(import.meta.dir, "..", "..");
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");

/** A gzip layer of the first ENTRIES regular files under a few directories of /usr. */
function rootfsLayer(dir: string): Uint8Array {
  const list = join(dir, "files");
  const found = Bun.spawnSync(["sh", "-c", `find usr/include usr/share/perl* usr/share/zoneinfo usr/lib/python3* -type f 2>/dev/null | head -${ENTRIES}`], { cwd: "/" });
  writeFileSync(list, found.stdout);
  const tar = join(dir, "layer.tar.gz");
  const made = Bun.spawnSync(["sh", "-c", `tar -C / -cf - --files-from ${list} | gzip -6 > ${tar}`]);
  if (made.exitCode !== 0) throw new Error(`tar failed: ${made.stderr.toString()}`);
  return new Uint8Array(readFileSync(tar));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

/** One `browse IMAGE` in tmux with a fresh cache: the times of the marks (ms from spawn) and the peak RSS. */
async function browseOnce(cmd: string[], image: string, work: string, i: number): Promise<{ first: number; usable: number; complete: number; rssKiB: number; cpuS: number }> {
  const cache = mkdtempSync(join(work, "cache-"));
  const report = join(work, `time-${i}`);
  const line = `XDG_CACHE_HOME=${cache} ${GNU_TIME} -v -o ${report} ${cmd.join(" ")} browse ${image}; echo EXIT=$?; sleep 30`;
  const t0 = performance.now();
  const term = startTerminal(["sh", "-c", line], { width: 80, height: 24 });
  const at: Record<string, number> = {};
  const marks: [string, RegExp][] = [
    ["first", /── Layers/],
    // The first tree row (a directory) under the tree's heading: from the budgeted listing.
    ["usable", /── Tree.*\n[+ ~-][▶ ]▸/],
    ["complete", /1\/1 layers merged/],
  ];
  try {
    for (let n = 0; n < 3000 && at.complete === undefined; n++) {
      const screen = term.screen();
      for (const [name, re] of marks) if (at[name] === undefined && re.test(screen)) at[name] = performance.now() - t0;
      await Bun.sleep(10);
    }
    term.type("q");
    for (let n = 0; n < 500 && !/EXIT=/.test(term.screen()); n++) await Bun.sleep(10);
  } finally {
    term.kill();
  }
  const text = readFileSync(report, "utf8");
  rmSync(cache, { recursive: true, force: true });
  const rss = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(text)?.[1] ?? NaN);
  const cpu = (re: RegExp) => Number(re.exec(text)?.[1] ?? NaN);
  const cpuS = cpu(/User time \(seconds\): ([\d.]+)/) + cpu(/System time \(seconds\): ([\d.]+)/);
  return { first: at.first ?? NaN, usable: at.usable ?? NaN, complete: at.complete ?? NaN, rssKiB: rss, cpuS };
}

type Variant = { name: string; cmd: string[] };
type Row = { help: number; peek: number; find: number; first: number; usable: number; complete: number; rssKiB: number; cpuS: number; findCpuS: number };

/**
 * Measures each variant `runs` times, taking turns, against a registry of its own (or `reg`), and
 * writes the tables with `say`. Gives the medians of the first variant as `npm run bench`'s target
 * rows.
 */
export async function browseBench(variants: Variant[], runs: number, say: (text: string) => void, reg?: TestRegistry): Promise<TargetRow[]> {
  const work = mkdtempSync(join(tmpdir(), "ls-bench-browse-"));
  const own = reg ? undefined : await startRegistry();
  const registry = (reg ?? own)!;
  try {
    const bytes = rootfsLayer(work);
    await pushImage(registry, "bench/browse", "1", { layers: [{ bytes, compression: "gzip" }] });
    const image = `${registry.host}/bench/browse:1`;
    const loadBefore = load();
    const rows = new Map<string, Row[]>(variants.map((v) => [v.name, []]));
    for (let i = 0; i < runs; i++) {
      for (const v of variants) {
        const baseCache = mkdtempSync(join(work, "cache-"));
        const env = { ...(process.env as Record<string, string>), XDG_CACHE_HOME: baseCache };
        const help = await measure([...v.cmd, "--help"], { env });
        const peek = await measure([...v.cmd, "peek", image, "-q"], { env });
        if (peek.code !== 0) throw new Error(`peek failed: ${peek.stderr}`);
        rmSync(baseCache, { recursive: true, force: true });
        const find = await measure([...v.cmd, "find", image, "no-such-name"], { env });
        if (find.code !== 0) throw new Error(`find failed: ${find.stderr}`);
        rmSync(baseCache, { recursive: true, force: true });
        const at = await browseOnce(v.cmd, image, work, i);
        rows.get(v.name)!.push({ help: help.ms, peek: peek.ms, find: find.ms, findCpuS: find.cpuS, ...at });
      }
    }
    say(`browse of a one-layer image of ${ENTRIES} files (${mb(bytes.length)} gzip -6) on ${registry.url}, uncached, tmux 80×24, medians of ${runs}, Bun ${Bun.version}`);
    say(`load average (1, 5, 15 min): ${loadBefore} at the start, ${load()} at the end\n`);
    for (const v of variants) {
      const rs = rows.get(v.name)!;
      const m = (k: keyof Row) => median(rs.map((r) => r[k]));
      const all = (k: keyof Row, f: (x: number) => string = secs) => rs.map((r) => f(r[k])).join(", ");
      say(`${v.name} (${v.cmd.join(" ")})`);
      say(
        table(
          ["", "median", "runs", "target"],
          [
            ["baseline: --help", secs(m("help")), all("help"), ""],
            ["baseline: peek IMAGE -q (uncached)", secs(m("peek")), all("peek"), ""],
            ["baseline: find IMAGE NAME (uncached, complete)", secs(m("find")), all("find"), ""],
            ["first screen (layer list)", secs(m("first")), all("first"), "≤ 0.5 s"],
            ["tree usable (budgeted listing)", secs(m("usable")), all("usable"), "≤ 0.5 s"],
            ["tree complete", secs(m("complete")), all("complete"), "≤ 1.5 s after the budgeted one"],
            ["complete − usable", secs(median(rs.map((r) => r.complete - r.usable))), rs.map((r) => secs(r.complete - r.usable)).join(", "), "≤ 1.5 s"],
            ["first screen − --help", secs(median(rs.map((r) => r.first - r.help))), rs.map((r) => secs(r.first - r.help)).join(", "), ""],
            ["baseline: find's CPU time (user + system)", `${m("findCpuS").toFixed(2)} s`, all("findCpuS", (x) => `${x.toFixed(2)} s`), ""],
            ["browse's CPU time, to q after complete", `${m("cpuS").toFixed(2)} s`, all("cpuS", (x) => `${x.toFixed(2)} s`), ""],
            ["peak RSS", mib(m("rssKiB")), all("rssKiB", mib), "≤ 150 MiB"],
          ],
        ),
      );
      say("");
    }
    const rs = rows.get(variants[0]!.name)!;
    const m = (k: keyof Row) => median(rs.map((r) => r[k]));
    const gap = median(rs.map((r) => r.complete - r.usable));
    const row = (what: string, ms: number, baseline: string, limitMs: number, target: string): TargetRow => ({
      what,
      ours: secs(ms),
      baseline,
      value: secs(ms),
      target,
      met: ms <= limitMs,
    });
    return [
      row(`browse: first screen, ${ENTRIES}-file layer, uncached`, m("first"), `--help ${secs(m("help"))}`, 500, "≤ 0.5 s"),
      row("browse: tree usable (budgeted listing)", m("usable"), `peek -q ${secs(m("peek"))}`, 500, "≤ 0.5 s"),
      row("browse: tree complete − usable", gap, `find (complete) ${secs(m("find"))}`, 1500, "≤ 1.5 s"),
      { what: "browse: peak RSS", ours: mib(m("rssKiB")), baseline: "", value: mib(m("rssKiB")), target: "≤ 150 MiB", met: m("rssKiB") <= 150 * 1024 },
    ];
  } finally {
    await own?.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const runs = Math.max(1, Number(args.find((a) => /^\d+$/.test(a)) ?? 3));
  /** The commands compared: each --bin PATH (or dist/layerslayer after a bare --bin), else the source. */
  const variants: { name: string; cmd: string[] }[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] !== "--bin") continue;
    const path = args[i + 1] && !args[i + 1]!.startsWith("--") && !/^\d+$/.test(args[i + 1]!) ? args[++i]! : join(root, "dist", "layerslayer");
    variants.push({ name: path.replace(`${root}/`, ""), cmd: [path] });
  }
  if (variants.length === 0) variants.push({ name: "source", cmd: [process.execPath, join(root, "src/cli/main.ts")] });
  await browseBench(variants, runs, (t) => console.log(t));
}
