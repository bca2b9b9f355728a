/**
 * Scale and pathological-tree measurements (not a test; nothing here asserts a time):
 *   1. peak RSS and wall time of `peek --full` of a one-layer image with N entries (default
 *      1,000,000) pushed to a local docker-registry, with the cache on (first run: streamed and
 *      stored in parts; second run: read back from the cache), then `ls -R` (from the cache,
 *      without it, filling it), `ls -lR` and `find` on it;
 *   2. bytes per entry of the merged tree (heap growth after a full GC, in this process);
 *   3. wall time of `ls --tree`, `ls -R` and `find` on a 10,000-component path, 100,000 entries in
 *      one directory and a chain of 1,000 symlinks.
 *
 *   bun scripts/scale.ts [--entries N] [--source | --binary] [--rows TEXT,TEXT]
 *
 * `--rows` runs only the rows whose label contains one of the texts (the first `peek --full`, which
 * fills the cache, always runs); "merged tree" picks section 2, any label of section 3 picks it.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { heapStats } from "bun:jsc";
import { pushImage } from "../test/support/fixtures.ts";
import { startRegistry } from "../test/support/registry.ts";
import { syntheticLayer, type SyntheticEntry } from "../test/support/synthetic-tar.ts";
import { MergedTree } from "../src/image/merge.ts";
import type { Entry } from "../src/types.ts";
import { measure, rssMethod, stopChildren } from "./bench/proc.ts";

const ROOT = join(import.meta.dir, "..");
const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(name);
const value = (name: string, fallback: number) => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : fallback;
};
const N = value("--entries", 1_000_000);
const binary = join(ROOT, "dist/layerslayer");
const useBinary = flag("--binary") || (!flag("--source") && existsSync(binary));
const rowsArg = argv.indexOf("--rows");
const picks = rowsArg >= 0 ? (argv[rowsArg + 1] ?? "").split(",").filter(Boolean) : undefined;
const picked = (label: string) => !picks || picks.some((p) => label.includes(p));
const cli = useBinary ? [binary] : [process.execPath, join(ROOT, "src/cli/main.ts")];

const mib = (kib: number) => `${(kib / 1024).toFixed(1)} MiB`;
const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

function* manyEntries(n: number): Generator<SyntheticEntry> {
  for (let i = 0; i < n; i++) {
    if (i % 1000 === 0) yield { path: `usr/share/d${Math.floor(i / 1000)}`, type: "dir" };
    yield { path: `usr/share/d${Math.floor(i / 1000)}/file-${i}.txt` };
  }
}

function entryOf(path: string, type: Entry["type"], i: number): Entry {
  return { path, type, mode: type === "dir" ? 0o755 : 0o644, size: i % 4096, uid: 0, gid: 0, mtime: 1_700_000_000, headerOffset: i * 512, compressedOffset: i * 20 };
}

/**
 * Heap bytes per entry of a merged tree of `n` entries, the entries it keeps included (after a
 * full GC on both sides; the listing array itself is dropped before the second reading).
 */
function treeBytesPerEntry(n: number): number {
  Bun.gc(true);
  const before = heapStats().heapSize;
  const entries: Entry[] = [];
  let i = 0;
  for (const e of manyEntries(n)) entries.push(entryOf(e.path, e.type ?? "file", i++));
  const tree = new MergedTree();
  tree.addLayer(entries, 0);
  entries.length = 0;
  Bun.gc(true);
  const after = heapStats().heapSize;
  const perEntry = (after - before) / i;
  if (tree.size < i) throw new Error("the tree lost entries");
  return perEntry;
}

async function run(label: string, args: string[], env: Record<string, string>, always = false): Promise<void> {
  if (!always && !picked(label)) return;
  const m = await measure([...cli, ...args], { env, lines: true });
  const status = m.code === 0 ? "" : `  exit ${m.code}: ${m.stderr.split("\n").slice(-3).join(" | ")}`;
  console.log(`${label.padEnd(44)} ${secs(m.ms).padStart(9)} ${mib(m.rssKiB).padStart(11)} ${String(m.lines ?? 0).padStart(9)} lines${status}`);
}

async function main(): Promise<void> {
  const reg = await startRegistry();
  const work = mkdtempSync(join(tmpdir(), "ls-scale-"));
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: work, XDG_CACHE_HOME: join(work, "cache"), NO_COLOR: "1" };
  try {
    console.log(`CLI: ${cli.join(" ")}; peak RSS by ${rssMethod()}`);
    let t = performance.now();
    const big = await syntheticLayer(manyEntries(N));
    const image = (await pushImage(reg, "scale/big", "v1", { layers: [{ bytes: big }] }), `${reg.host}/scale/big:v1`);
    console.log(`layer: ${N} files in ${Math.ceil(N / 1000)} directories, ${(big.length / 2 ** 20).toFixed(1)} MiB gzip (built in ${secs(performance.now() - t)})\n`);
    console.log(`${"command".padEnd(44)} ${"wall".padStart(9)} ${"peak RSS".padStart(11)} ${"output".padStart(15)}`);
    await run("peek --full (cache on, first run)", ["peek", image, "--full"], env, true);
    await run("peek --full (from the cache)", ["peek", image, "--full"], env);
    await run("peek --full --no-cache", ["peek", image, "--full", "--no-cache"], env);
    await run("ls -R / (from the cache)", ["ls", image, "-R"], env);
    await run("ls -R / --no-cache", ["ls", image, "-R", "--no-cache"], env);
    await run("ls -R / (cache empty: read and stored)", ["ls", image, "-R"], { ...env, XDG_CACHE_HOME: join(work, "cache2") });
    await run("ls -lR / (from the cache)", ["ls", image, "-lR"], env);
    await run("ls -R --json / (from the cache)", ["ls", image, "-R", "--json"], env);
    await run("find '*.txt' (from the cache)", ["find", image, "*-99999*"], env);

    if (picked("merged tree")) {
      t = performance.now();
      const perEntry = treeBytesPerEntry(Math.min(N, 1_000_000));
      console.log(`\nmerged tree: ${perEntry.toFixed(0)} bytes per entry (heap growth, ${Math.min(N, 1_000_000)} entries, ${secs(performance.now() - t)})\n`);
    }

    const deep = Array.from({ length: 10_000 }, (_, i) => `c${i % 10}`).join("/");
    const wide = function* () {
      yield { path: "wide", type: "dir" as const };
      for (let i = 0; i < 100_000; i++) yield { path: `wide/entry-${i}` };
    };
    const chain = function* () {
      yield { path: "target", size: 5 };
      yield { path: "link0", type: "symlink" as const, linkname: "target" };
      for (let i = 1; i < 1000; i++) yield { path: `link${i}`, type: "symlink" as const, linkname: `link${i - 1}` };
    };
    const odd = await pushImage(reg, "scale/odd", "v1", {
      layers: [{ bytes: await syntheticLayer([{ path: `${deep}/leaf.txt`, size: 3 }]) }, { bytes: await syntheticLayer(wide()) }, { bytes: await syntheticLayer(chain()) }],
    });
    void odd;
    const oddImage = `${reg.host}/scale/odd:v1`;
    for (const [label, args] of [
      ["ls --tree (10,000-component path)", ["ls", oddImage, "/c0", "--tree"]],
      ["ls -R (10,000-component path)", ["ls", oddImage, "/c0", "-R"]],
      ["find leaf.txt (10,000-component path)", ["find", oddImage, "leaf.txt"]],
      ["ls --tree /wide (100,000 names)", ["ls", oddImage, "/wide", "--tree"]],
      ["ls -R /wide (100,000 names)", ["ls", oddImage, "/wide", "-R"]],
      ["find 'entry-9999*' (100,000 names)", ["find", oddImage, "entry-9999*"]],
      ["ls -l /link999 (1,000 chained symlinks)", ["ls", oddImage, "/link999", "-l"]],
      ["cat /link39 (40 links: the limit)", ["cat", oddImage, "/link39"]],
    ] as const) {
      await run(label, [...args], env);
    }
  } finally {
    stopChildren();
    await reg.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
