import { beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../support/cli.ts";
import { CheckpointSet } from "../../src/codec/checkpoint.ts";
import { gunzip } from "../../src/codec/gzip.ts";
import { readFile } from "../../src/index.ts";
import { RegistryClient } from "../../src/registry/client.ts";
import { sampleData } from "../codec/helpers.ts";
import { gnuTar, makeTree, pushImage, type FileSpec } from "../support/fixtures.ts";
import { useRegistry } from "../support/registry.ts";
import { readTar } from "../../src/tar/reader.ts";
import type { Entry } from "../../src/types.ts";

const reg = useRegistry();
let layer: Uint8Array;
/** The same tar as zstd frames of 256 KiB input each (as seekable zstd and zstd:chunked are made of many frames). */
let framed: Uint8Array;
const client = new RegistryClient({ plainHttp: true });
const OS_RELEASE = 'PRETTY_NAME="Fixture Linux"\nID=fixture\n';

/** A layer whose symlink comes late and points at a file in the middle (as in Debian's rootfs). */
function files(): { files: FileSpec[]; order: string[] } {
  const list: FileSpec[] = [];
  const order: string[] = ["usr", "usr/share"];
  for (let i = 0; i < 12; i++) {
    list.push({ path: `usr/share/a${i}.txt`, content: sampleData(512 * 1024, 100 + i) });
    order.push(`usr/share/a${i}.txt`);
  }
  list.push({ path: "usr/lib/os-release", content: OS_RELEASE });
  order.push("usr/lib", "usr/lib/os-release");
  for (let i = 0; i < 12; i++) {
    list.push({ path: `usr/share/b${i}.txt`, content: sampleData(512 * 1024, 200 + i) });
    order.push(`usr/share/b${i}.txt`);
  }
  list.push({ path: "etc/os-release", symlink: "../usr/lib/os-release" });
  order.push("etc", "etc/os-release");
  list.push({ path: "var/last.txt", content: "the end\n" });
  order.push("var", "var/last.txt");
  return { files: list, order };
}

beforeAll(async () => {
  const { files: f, order } = files();
  const root = makeTree(f);
  try {
    const tar = gnuTar(root, "pax", order);
    const gz = Bun.spawnSync(["gzip", "-6", "-n", "-c"], { stdin: tar });
    layer = new Uint8Array(gz.stdout);
    const frames: Uint8Array[] = [];
    for (let at = 0; at < tar.length; at += 256 * 1024) frames.push(Bun.zstdCompressSync(tar.subarray(at, at + 256 * 1024), { level: 3 }));
    framed = new Uint8Array(Buffer.concat(frames));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  await pushImage(reg, "ra/rootfs", "v1", { layers: [{ bytes: layer }] });
  await pushImage(reg, "ra/rootfs", "zstd", { layers: [{ bytes: framed, compression: "zstd" }] });
}, 60_000);

/** Exact entries of the layer and its checkpoints, computed here from the whole blob. */
async function reference(): Promise<{ entries: Entry[]; maxSpan: number }> {
  const set = new CheckpointSet();
  const entries: Entry[] = [];
  async function* once() {
    yield layer;
  }
  for await (const ev of readTar(gunzip(once(), { checkpoints: set }))) if (ev.kind === "entry") entries.push(ev.entry);
  let maxSpan = set.list[0]!.bit / 8;
  for (let i = 1; i < set.list.length; i++) maxSpan = Math.max(maxSpan, (set.list[i]!.bit - set.list[i - 1]!.bit) / 8);
  return { entries, maxSpan };
}

describe("cat from gzip checkpoints", () => {
  test("through a symlink to an earlier file: the bytes up to the symlink plus one checkpoint span, not a second pass from byte 0", async () => {
    const { entries, maxSpan } = await reference();
    const link = entries.find((e) => e.path === "etc/os-release")!;
    const { bytes, result } = await readFile(`${reg.host}/ra/rootfs:v1`, "/etc/os-release", { client });
    expect(new TextDecoder().decode(bytes)).toBe(OS_RELEASE);
    expect(result.path).toBe("usr/lib/os-release");
    // The first read stops at the symlink (one ranged request may run a little past it).
    const slack = 128 * 1024;
    expect(result.bytesDownloaded).toBeLessThanOrEqual(link.compressedOffset + maxSpan + slack);
    // Without checkpoints the second read alone would cost the bytes up to the target (~1/2 of the layer).
    const target = entries.find((e) => e.path === "usr/lib/os-release")!;
    expect(result.bytesDownloaded).toBeLessThan(link.compressedOffset + target.compressedOffset);
    expect(result.totalDownloaded).toBe(result.bytesDownloaded);
  });
});

describe("cat from zstd frames", () => {
  test("a layer of many frames: the file behind a late symlink is read from the frame that holds it", async () => {
    const { bytes, result } = await readFile(`${reg.host}/ra/rootfs:zstd`, "/etc/os-release", { client });
    expect(new TextDecoder().decode(bytes)).toBe(OS_RELEASE);
    // The symlink is near the end; the target is in the middle: from byte 0 the second read alone would cost half the layer.
    expect(result.bytesDownloaded).toBeLessThan(framed.length * 1.25);
    const later = await readFile(`${reg.host}/ra/rootfs:zstd`, "/usr/share/b5.txt", { client });
    expect(Buffer.compare(Buffer.from(later.bytes), Buffer.from(sampleData(512 * 1024, 205)))).toBe(0);
  });
});

describe("checkpoints kept between runs", () => {
  test("a later cat of a file before the symlink costs at most about one checkpoint span (the run's partial listing and checkpoints are cached)", async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), "ls-ra-cache-"));
    try {
      const env = { XDG_CACHE_HOME: cacheDir };
      const first = await runCli(["cat", `${reg.host}/ra/rootfs:v1`, "/etc/os-release", "--json", "-o", "/dev/null"], { env });
      expect(first.code).toBe(0);
      const later = await runCli(["cat", `${reg.host}/ra/rootfs:v1`, "/usr/share/b5.txt", "--json", "-o", join(cacheDir, "b5.txt")], { env });
      expect(later.code).toBe(0);
      expect(Buffer.compare(readFileSync(join(cacheDir, "b5.txt")), Buffer.from(sampleData(512 * 1024, 205)))).toBe(0);
      // (Read from byte 0 it would cost about 2 MB of this 2.8 MB layer.)
      expect(JSON.parse(later.stdout).bytesDownloaded).toBeLessThanOrEqual(1024 * 1024);
    } finally {
      rmSync(cacheDir, { recursive: true, force: true });
    }
  });

  test("after cache warm, cat of the layer's last file costs at most 2 MiB, and the checkpoints take at most 3 % of the layer", async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), "ls-ra-cache-"));
    try {
      const env = { XDG_CACHE_HOME: cacheDir };
      const warm = await runCli(["cache", "warm", `${reg.host}/ra/rootfs:v1`], { env });
      expect(warm.stderr).toBe("");
      expect(warm.code).toBe(0);
      expect(warm.stdout).toMatch(/^layer 0 sha256:[0-9a-f]{64}: 32 entries, \d+ checkpoints, downloaded /);
      const again = await runCli(["cache", "warm", `${reg.host}/ra/rootfs:v1`, "--json"], { env });
      expect(JSON.parse(again.stdout).layers[0]).toMatchObject({ status: "cached", bytesDownloaded: 0 });
      const last = await runCli(["cat", `${reg.host}/ra/rootfs:v1`, "/var/last.txt", "--json", "-o", "/dev/null"], { env });
      expect(last.code).toBe(0);
      expect(JSON.parse(last.stdout).bytesDownloaded).toBeLessThanOrEqual(1024 * 1024);
      const db = new Database(join(cacheDir, "layerslayer", "cache.sqlite"), { readonly: true });
      const row = db.query("SELECT length(checkpoints) AS n FROM layer_index").get() as { n: number };
      db.close();
      expect(row.n).toBeLessThanOrEqual(0.03 * layer.length);
    } finally {
      rmSync(cacheDir, { recursive: true, force: true });
    }
  });
});
