/**
 * `bun scripts/bench/browse.ts [RUNS]`: figures for the browser's targets (issue 19), not a test:
 * nothing here asserts a time. Starts Debian's docker-registry on loopback, pushes a one-layer
 * image of ~6,700 real files of this machine (GNU tar, gzip -6), then runs `browse IMAGE` in tmux
 * at 80×24 with a fresh cache each run, under GNU time, and reports (medians of RUNS, default 3):
 *
 *   - first screen: spawn to the layer list on the screen (target ≤ 0.5 s, uncached);
 *   - tree usable: spawn to the first tree row (from the budgeted first pass, or the complete
 *     listing when it came first); target ≤ 0.5 s from the budgeted listing;
 *   - complete: spawn to "1/1 layers merged" (target ≤ 1.5 s after the budgeted listing);
 *   - peak RSS of the browse process (target ≤ 150 MiB).
 *
 * Times are read by polling tmux's screen every 10 ms, so they carry ~10-40 ms of tmux.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pushImage } from "../../test/support/fixtures.ts";
import { startRegistry } from "../../test/support/registry.ts";
import { startTerminal } from "../../test/support/tmux.ts";
import { GNU_TIME } from "./proc.ts";
import { mb, mib, secs, table } from "./report.ts";

const ENTRIES = 6700;
const root = join(import.meta.dir, "..", "..");
const runs = Math.max(1, Number(process.argv[2] ?? 3));

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

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), "ls-bench-browse-"));
  const reg = await startRegistry();
  try {
    const bytes = rootfsLayer(work);
    await pushImage(reg, "bench/rootfs", "1", { layers: [{ bytes, compression: "gzip" }] });
    const image = `${reg.host}/bench/rootfs:1`;
    const rows: { first: number; usable: number; complete: number; rssKiB: number }[] = [];
    for (let i = 0; i < runs; i++) {
      const cache = mkdtempSync(join(work, "cache-"));
      const report = join(work, `time-${i}`);
      const cmd = `XDG_CACHE_HOME=${cache} ${GNU_TIME} -v -o ${report} ${process.execPath} ${join(root, "src/cli/main.ts")} browse ${image}; echo EXIT=$?; sleep 30`;
      const t0 = performance.now();
      const term = startTerminal(["sh", "-c", cmd], { width: 80, height: 24 });
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
      const rss = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(text)?.[1] ?? NaN);
      rows.push({ first: at.first ?? NaN, usable: at.usable ?? NaN, complete: at.complete ?? NaN, rssKiB: rss });
      rmSync(cache, { recursive: true, force: true });
    }
    const m = (k: keyof (typeof rows)[number]) => median(rows.map((r) => r[k]));
    console.log(`browse of a one-layer image of ${ENTRIES} files (${mb(bytes.length)} gzip -6) on ${reg.url}, uncached, tmux 80×24, medians of ${runs}, Bun ${Bun.version}\n`);
    console.log(
      table(
        ["", "median", "runs", "target"],
        [
          ["first screen (layer list)", secs(m("first")), rows.map((r) => secs(r.first)).join(", "), "≤ 0.5 s"],
          ["tree usable (budgeted listing)", secs(m("usable")), rows.map((r) => secs(r.usable)).join(", "), "≤ 0.5 s"],
          ["tree complete", secs(m("complete")), rows.map((r) => secs(r.complete)).join(", "), "≤ 1.5 s after the budgeted one"],
          ["complete − usable", secs(m("complete") - m("usable")), rows.map((r) => secs(r.complete - r.usable)).join(", "), "≤ 1.5 s"],
          ["peak RSS", mib(m("rssKiB")), rows.map((r) => mib(r.rssKiB)).join(", "), "≤ 150 MiB"],
        ],
      ),
    );
  } finally {
    await reg.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
