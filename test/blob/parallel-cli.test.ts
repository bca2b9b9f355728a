/**
 * Parallel ranged fetches seen from the command line, against the real registry: listings, saved
 * blobs and file contents are byte for byte the same with --connections 1 and 4 (gzip and zstd
 * layers we made, a layer umoci made that skopeo recompressed to zstd), and the capped proxy in
 * front of the registry sees several answers at once only when more than one connection is asked
 * for. A range the registry keeps failing ends the command with exit 6 and one line.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { noise } from "../support/bytes.ts";
import { startCappedProxy, type CappedProxy } from "../support/capped-proxy.ts";
import { errorLine, runCli, type CliResult } from "../support/cli.ts";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy.ts";
import { layerFrom, pushImage, type FileSpec } from "../support/fixtures.ts";
import { sha256 } from "../support/push.ts";
import { useRegistry } from "../support/registry.ts";
import { umociLab } from "../support/umoci.ts";

const MiB = 1024 * 1024;
const reg = useRegistry();
const lab = umociLab("ls-parallel-");
let capped: CappedProxy;
let faults: FaultProxy;

/** ~20 MB of tar that does not compress (five 4 MiB ranges or more), and small files around it. */
function files(seed: number): FileSpec[] {
  const out: FileSpec[] = [{ path: "etc", dir: true }];
  for (let i = 0; i < 10; i++) out.push({ path: `data/blob-${i}.bin`, content: noise(2 * MiB, seed + i) });
  for (let i = 0; i < 50; i++) out.push({ path: `etc/conf-${i}.txt`, content: `setting ${i}\n`.repeat(i + 1) });
  out.push({ path: "usr/bin/tool", content: noise(300_000, seed + 99), mode: 0o755 });
  return out;
}

const images: Record<string, { ref: string; layer: { digest: string; size: number; bytes?: Uint8Array } }> = {};

beforeAll(async () => {
  for (const compression of ["gzip", "zstd"] as const) {
    const img = await pushImage(reg, `parallel/${compression}`, "1", { layers: [{ bytes: layerFrom(files(compression === "gzip" ? 1 : 50), { compression }), compression }] });
    images[compression] = { ref: `parallel/${compression}:1`, layer: img.layers[0]! };
  }
  // umoci makes the layer; skopeo copies it to the registry recompressed as zstd.
  lab.build("v1", undefined, (root) => {
    for (let i = 0; i < 6; i++) lab.put(root, `srv/part-${i}`, Buffer.from(noise(3 * MiB, 200 + i)).toString("base64"));
    lab.put(root, "etc/os-release", "ID=lab\n");
  });
  lab.sh(["skopeo", "copy", "--quiet", "--dest-tls-verify=false", "--dest-compress-format", "zstd", `oci:${lab.layout}:v1`, `docker://${reg.host}/parallel/umoci:v1`]);
  const manifest = JSON.parse(lab.sh(["skopeo", "inspect", "--raw", "--tls-verify=false", `docker://${reg.host}/parallel/umoci:v1`])) as {
    layers: { digest: string; size: number; mediaType: string }[];
  };
  expect(manifest.layers[0]!.mediaType).toContain("zstd");
  images.umoci = { ref: "parallel/umoci:v1", layer: manifest.layers[0]! };
  capped = startCappedProxy(reg.url, { bytesPerSecond: 16e6, latencyMs: 20 });
  faults = startFaultProxy(reg.url);
}, 180_000);

afterAll(() => {
  capped.stop();
  faults.stop();
  rmSync(lab.work, { recursive: true, force: true });
});

describe("--connections 1 and 4 give the same results", () => {
  for (const kind of ["gzip", "zstd", "umoci"]) {
    test(`${kind}: the full listing, byte for byte, and only 4 connections are parallel`, async () => {
      const { ref, layer } = images[kind]!;
      expect(layer.size).toBeGreaterThan(8 * MiB);
      const out: Record<number, string> = {};
      for (const n of [1, 4]) {
        capped.reset();
        const r = await runCli(["peek", `${capped.host}/${ref}`, "--full", "--json", "--no-cache", "--connections", String(n)]);
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        out[n] = r.stdout;
        const blobs = capped.requests.filter((q) => q.path.endsWith(layer.digest));
        if (n === 1) {
          expect(capped.peak()).toBe(1);
        } else {
          // Several answers at once (how many overlap depends on this machine's load), never more than asked.
          expect(capped.peak()).toBeGreaterThan(1);
          expect(capped.peak()).toBeLessThanOrEqual(4);
          // Every range bounded: none asks for the rest of the blob.
          expect(blobs.every((q) => /^bytes=\d+-\d+$/.test(q.range ?? ""))).toBe(true);
          expect(blobs.length).toBeGreaterThanOrEqual(Math.floor(layer.size / (2 * MiB)));
        }
      }
      expect(out[4]).toBe(out[1]!);
      const stats = JSON.parse(out[4]!.trim().split("\n").at(-1)!) as { stats: { complete: boolean; verified: boolean; bytesDownloaded: number } };
      expect(stats.stats).toMatchObject({ complete: true, verified: true, bytesDownloaded: layer.size });
    }, 120_000);
  }

  /**
   * Runs a command through the capped proxy with --connections 1, then 4: each succeeds, only the
   * second has several answers in flight; gives what `keep` takes from each run.
   */
  async function oneAndFour(args: (n: number) => string[], keep: (r: CliResult, n: number) => Uint8Array): Promise<Uint8Array[]> {
    const out: Uint8Array[] = [];
    for (const n of [1, 4]) {
      capped.reset();
      const r = await runCli([...args(n), "--connections", String(n)]);
      expect(r.code).toBe(0);
      if (n === 1) expect(capped.peak()).toBe(1);
      else expect(capped.peak()).toBeGreaterThan(1);
      out.push(keep(r, n));
    }
    expect(Buffer.compare(out[0]!, out[1]!)).toBe(0);
    return out;
  }

  test("save: the same verified blob with 1 and 4 connections", async () => {
    const { ref, layer } = images.gzip!;
    const dir = (n: number) => join(lab.work, `save-${n}`);
    const saved = await oneAndFour(
      (n) => ["save", `${capped.host}/${ref}`, "-o", dir(n), "--json"],
      (_, n) => readFileSync(join(dir(n), `${layer.digest.replace(":", "_")}.tar.gz`)),
    );
    expect(sha256(saved[1]!)).toBe(layer.digest);
  }, 120_000);

  test("cat --verify of a file past the first range: the same bytes", async () => {
    const { ref } = images.gzip!;
    const outs = await oneAndFour(
      () => ["cat", `${capped.host}/${ref}`, "/data/blob-7.bin", "--verify", "--no-cache"],
      (r) => r.bytes,
    );
    expect(Buffer.compare(outs[1]!, layerFiles.get("data/blob-7.bin")!)).toBe(0);
  }, 120_000);

  test("export --layer: the same tar with 1 and 4 connections, the layer's own", async () => {
    const { ref, layer } = images.zstd!;
    const file = (n: number) => join(lab.work, `export-${n}.tar`);
    const outs = await oneAndFour(
      (n) => ["export", `${capped.host}/${ref}`, "--layer", "0", "-o", file(n), "--no-cache", "-q"],
      (_, n) => readFileSync(file(n)),
    );
    expect(Buffer.from(Bun.zstdDecompressSync(layer.bytes as Uint8Array<ArrayBuffer>)).equals(outs[1]!)).toBe(true);
  }, 120_000);

  test("cat of a file deep in the layer: one growing stream first, then parallel ranges past 8 MiB; the same bytes", async () => {
    const { ref, layer } = images.gzip!;
    const outs = await oneAndFour(
      () => ["cat", `${capped.host}/${ref}`, "/data/blob-7.bin", "--no-cache"],
      (r) => {
        // Every request bounded (cat may stop early), whether one stream or several.
        const ranges = capped.requests.filter((q) => q.path.endsWith(layer.digest)).map((q) => q.range ?? "");
        expect(ranges.every((q) => /^bytes=\d+-\d+$/.test(q))).toBe(true);
        return r.bytes;
      },
    );
    expect(Buffer.compare(outs[1]!, layerFiles.get("data/blob-7.bin")!)).toBe(0);
  }, 120_000);

  test("--connections outside 1-16 is a usage error", async () => {
    const r = await runCli(["peek", `${reg.host}/${images.gzip!.ref}`, "--connections", "0"]);
    expect(r.code).toBe(2);
    expect(errorLine(r)).toContain("--connections 0: expected a whole number from 1 to 16");
  });
});

const layerFiles = new Map((files(1) as { path: string; content?: Uint8Array }[]).filter((f) => f.content instanceof Uint8Array).map((f) => [f.path, f.content!]));

describe("hostile answers on the command line", () => {
  test("a registry that ignores Range: the same listing as one stream", async () => {
    const { ref } = images.gzip!;
    faults.rule = () => ({ kind: "ignoreRange" });
    try {
      const r = await runCli(["peek", `${faults.host}/${ref}`, "--full", "--json", "--no-cache", "-q"]);
      expect(r.code).toBe(0);
      const one = await runCli(["peek", `${reg.host}/${ref}`, "--full", "--json", "--no-cache", "--connections", "1"]);
      expect(r.stdout).toBe(one.stdout);
    } finally {
      faults.rule = () => undefined;
    }
  }, 120_000);

  test("a range that keeps failing: exit 6, one line, in a bounded number of tries", async () => {
    const { ref, layer } = images.gzip!;
    faults.requests.length = 0;
    const bad = `bytes=${8 * MiB}-`;
    // The layer's bytes stop at 8 MiB (an answer running past it is cut there), and every try from there fails.
    faults.rule = (req) => {
      if (!new URL(req.url).pathname.endsWith(layer.digest)) return undefined;
      const range = req.headers.get("range") ?? "";
      if (range.startsWith(bad)) return { kind: "cut", afterBytes: 0 };
      const [from, to] = (/^bytes=(\d+)-(\d*)$/.exec(range) ?? []).slice(1).map((n) => (n === "" ? Infinity : Number(n)));
      return from! < 8 * MiB && to! >= 8 * MiB ? { kind: "cut", afterBytes: 8 * MiB - from! } : undefined;
    };
    try {
      const r = await runCli(["peek", `${faults.host}/${ref}`, "--full", "--no-cache"]);
      expect(r.code).toBe(6);
      expect(errorLine(r)).toContain("layer 0");
      const tries = faults.requests.filter((q) => q.range?.startsWith(bad)).length;
      expect(tries).toBeGreaterThan(1);
      // The read's allowance: 5 failed tries, one more per MiB received (the blob has ~21).
      expect(tries).toBeLessThanOrEqual(5 + 22);
    } finally {
      faults.rule = () => undefined;
    }
  }, 120_000);
});
