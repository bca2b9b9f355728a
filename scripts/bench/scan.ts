/**
 * Benchmark of scan and search (not a test; nothing here asserts a time). Measures:
 *   1. the SQLite database's size per recorded entry, for 1,000,000 entries made from this
 *      machine's real paths, in two shapes: "releases" (the same paths again in later layers,
 *      other sizes and times, like many tags of one distribution) and "unique" (every path
 *      different: each copy of the tree under its own top directory);
 *   2. `search` of a substring over those 1,000,000 entries (the library call, and the whole CLI);
 *   3. `scan` of 50 small images through a proxy that adds latency to every request, with
 *      --concurrency 8 against --concurrency 1.
 * Writes the report to .bench/scan.md.
 *
 *   bun scripts/bench/scan.ts [--entries N] [--delay MS]
 */
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { changesOf } from "../../src/db/changes.ts";
import { SqliteDatabase } from "../../src/db/sqlite.ts";
import { MergedTree } from "../../src/image/merge.ts";
import { search } from "../../src/scan/search.ts";
import type { Entry } from "../../src/types.ts";
import { startFaultProxy } from "../../test/support/fault-proxy.ts";
import { layerFrom, pushImage } from "../../test/support/fixtures.ts";
import { startRegistry } from "../../test/support/registry.ts";
import { capture } from "./proc.ts";
import { ratio, Report, secs, table } from "./report.ts";

const ROOT = join(import.meta.dir, "..", "..");
const LAYER_ENTRIES = 5000;
const LAYERS_PER_IMAGE = 4;
const IMAGES = 50;
const TARGET_BYTES_PER_ENTRY = 120;
const TARGET_SEARCH_MS = 1000;
const TARGET_SPEEDUP = 4;

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} wants a whole number ≥ 1`);
  return v;
}

/** Real paths of this machine (files, dirs, links) under the usual system trees, in tar order. */
function machinePaths(): { path: string; type: Entry["type"] }[] {
  const r = Bun.spawnSync([
    "sh",
    "-c",
    "cd / && find usr etc var opt srv -xdev \\( -type f -printf 'f %p\\n' \\) -o \\( -type d -printf 'd %p\\n' \\) -o \\( -type l -printf 'l %p\\n' \\) 2>/dev/null | LC_ALL=C sort -k2",
  ]);
  const types: Record<string, Entry["type"]> = { f: "file", d: "dir", l: "symlink" };
  return r.stdout
    .toString()
    .split("\n")
    .filter(Boolean)
    .map((l) => ({ type: types[l[0]!]!, path: l.slice(2) }));
}

function digestOf(text: string): string {
  return `sha256:${new Bun.CryptoHasher("sha256").update(text).digest("hex")}`;
}

/** Fills a database with `total` entries in layers of LAYER_ENTRIES, images of LAYERS_PER_IMAGE layers. */
export async function fill(file: string, total: number, shape: "releases" | "unique"): Promise<{ seconds: number; bytes: number; entries: number; images: number }> {
  const paths = machinePaths();
  const db = new SqliteDatabase(file);
  const started = performance.now();
  let written = 0;
  let layer = 0;
  let pending: { digest: string; entries: Entry[] }[] = [];
  let images = 0;
  const flushImage = async () => {
    const tree = new MergedTree();
    pending.forEach((l, i) => tree.addLayer(l.entries, i));
    await db.putImage({
      reference: `bench.example/corpus/${shape}:${images}`,
      platform: "linux/amd64",
      manifestDigest: digestOf(`manifest ${shape} ${images}`),
      configDigest: digestOf(`config ${shape} ${images}`),
      configBytes: new TextEncoder().encode(`{"architecture":"amd64","os":"linux","n":${images}}`),
      layers: pending.map((l) => l.digest),
      changes: changesOf(tree.events()),
    });
    images++;
    pending = [];
  };
  for (let copy = 0; written < total; copy++) {
    for (let start = 0; start < paths.length && written < total; start += LAYER_ENTRIES) {
      const slice = paths.slice(start, Math.min(start + LAYER_ENTRIES, start + total - written));
      const entries: Entry[] = slice.map((p, i) => ({
        path: shape === "unique" ? `r${copy}/${p.path}` : p.path,
        type: p.type,
        mode: p.type === "dir" ? 0o755 : 0o644,
        size: p.type === "file" ? ((start + i) * 7919 + copy * 104729) % 2_000_000 : 0,
        uid: 0,
        gid: 0,
        mtime: 1_700_000_000 + copy * 86_400 + i,
        ...(p.type === "symlink" ? { linkname: "../lib/target" } : {}),
        headerOffset: 0,
        compressedOffset: 0,
      }));
      const digest = digestOf(`layer ${shape} ${layer++}`);
      await db.putLayer(
        {
          digest,
          mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
          layerSize: entries.length * 300,
          bytesDownloaded: entries.length * 300,
          bytesDecompressed: entries.length * 1000,
          entries: entries.length,
          complete: true,
          verified: true,
        },
        entries,
      );
      written += entries.length;
      pending.push({ digest, entries });
      if (pending.length === LAYERS_PER_IMAGE) await flushImage();
    }
  }
  if (pending.length) await flushImage();
  await db.close();
  const bytes = ["", "-wal", "-shm"].reduce((n, s) => n + (statSync(file + s, { throwIfNoEntry: false })?.size ?? 0), 0);
  return { seconds: (performance.now() - started) / 1000, bytes, entries: written, images };
}

async function bestMs(n: number, fn: () => Promise<unknown>): Promise<{ ms: number; result: unknown }> {
  let best = Infinity;
  let result: unknown;
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    result = await fn();
    best = Math.min(best, performance.now() - t);
  }
  return { ms: best, result };
}

async function scanSpeed(report: Report, delay: number): Promise<void> {
  const reg = await startRegistry();
  const proxy = startFaultProxy(reg.url);
  const dir = mkdtempSync(join(tmpdir(), "ls-bench-scan-"));
  try {
    const refs: string[] = [];
    for (let i = 0; i < IMAGES; i++) {
      const layers = [0, 1].map((l) => ({
        bytes: layerFrom([
          { path: `app${i}/layer${l}/file.txt`, content: `image ${i} layer ${l}\n`.repeat(50) },
          { path: `etc/app${i}.conf`, content: `n=${i}` },
        ]),
      }));
      await pushImage(reg, `bench/app${i}`, "v1", { layers });
      refs.push(`${proxy.host}/bench/app${i}:v1`);
    }
    const list = join(dir, "refs.txt");
    writeFileSync(list, refs.join("\n"));
    proxy.delayMs = delay;
    const rows: (string | number)[][] = [];
    const times: Record<number, number> = {};
    for (const c of [1, 8]) {
      let best = Infinity;
      let requests = 0;
      for (let run = 0; run < 2; run++) {
        const db = join(dir, `c${c}-${run}.sqlite`);
        const before = proxy.requests.length;
        const t = performance.now();
        const r = await capture([process.execPath, join(ROOT, "src/cli/main.ts"), "scan", "--from", list, "--concurrency", String(c), "--db", db, "--no-cache", "-q"], {
          env: { ...process.env, XDG_CACHE_HOME: dir } as Record<string, string>,
        });
        const ms = performance.now() - t;
        if (r.code !== 0) throw new Error(`scan failed: ${r.stderr}`);
        best = Math.min(best, ms);
        requests = proxy.requests.length - before;
      }
      times[c] = best;
      rows.push([`--concurrency ${c}`, secs(best), requests]);
    }
    rows.push(["speed-up", ratio(times[1]!, times[8]!), ""]);
    report.add(`${IMAGES} images of 2 small layers, every request delayed ${delay} ms by the proxy (best of 2, whole CLI runs):\n`);
    report.add(table(["scan", "wall time", "requests"], rows));
    report.add(`\nTarget: ≥ ${TARGET_SPEEDUP}× → ${times[1]! / times[8]! >= TARGET_SPEEDUP ? "met" : "MISSED"}`);
  } finally {
    proxy.stop();
    await reg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const total = option("--entries", 1_000_000);
  const delay = option("--delay", 50);
  const report = new Report();
  report.add(`# scan and search benchmark\n\n${new Date().toISOString()}, Bun ${Bun.version}, ${total.toLocaleString("en")} entries.`);
  const dir = mkdtempSync(join(tmpdir(), "ls-bench-db-"));
  try {
    report.section("Database size and search time (SQLite)");
    const sizes: (string | number)[][] = [];
    const searches: (string | number)[][] = [];
    for (const shape of ["releases", "unique"] as const) {
      const file = join(dir, `${shape}.sqlite`);
      const f = await fill(file, total, shape);
      sizes.push([shape, f.entries.toLocaleString("en"), f.images, `${(f.bytes / 1e6).toFixed(1)} MB`, `${(f.bytes / f.entries).toFixed(1)} B`, `${f.seconds.toFixed(1)} s`]);
      const db = new SqliteDatabase(file);
      for (const pattern of ["id_rsa", "shadow", "python3/dist", ".pem", "/etc/ssl/certs/"]) {
        const { ms, result } = await bestMs(3, () => search(db, { pattern }));
        searches.push([shape, `search ${pattern}`, (result as unknown[]).length, secs(ms)]);
      }
      for (const re of [/\.pem$/u, /\.(pem|crt)$/u]) {
        const r = await bestMs(1, () => search(db, { pattern: re.source, regex: re }));
        searches.push([shape, `search '${re.source}' --regex`, (r.result as unknown[]).length, secs(r.ms)]);
      }
      await db.close();
      const cli = await bestMs(3, () => capture([process.execPath, join(ROOT, "src/cli/main.ts"), "search", "shadow", "--db", file]));
      searches.push([shape, "CLI: layerslayer search shadow (whole process)", "", secs(cli.ms)]);
    }
    report.add(table(["shape", "entries", "images", "database", "per entry", "fill time"], sizes));
    report.add(`\nTarget: ≤ ${TARGET_BYTES_PER_ENTRY} B per entry.\n`);
    report.add(table(["shape", "query", "hits", "time (best of 3)"], searches));
    report.add(`\nTarget: a substring over ${total.toLocaleString("en")} entries ≤ ${TARGET_SEARCH_MS} ms.`);
    report.section("Scan concurrency against a distant registry");
    await scanSpeed(report, delay);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  mkdirSync(join(ROOT, ".bench"), { recursive: true });
  writeFileSync(join(ROOT, ".bench", "scan.md"), report.text());
}

if (import.meta.main) await main();
