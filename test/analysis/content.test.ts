/**
 * `diff --content` by the digests TOCs declare (eStargz, zstd:chunked), and by reading the files
 * when one side has no TOC or with --verify: the same verdicts every way, and nothing of the files
 * downloaded when both TOCs decide.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compareContents, tocVerdict } from "../../src/analysis/content.ts";
import { loadListings } from "../../src/image/load.ts";
import { resolveImage, type ResolvedImage } from "../../src/oci/resolve.ts";
import { runCli } from "../support/cli.ts";
import { layerFrom, pushImage } from "../support/fixtures.ts";
import { editToc, forgeEstargz, splitEstargz, type TocLayer } from "../support/forge-toc.ts";
import { MemorySource } from "../support/memory-source.ts";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy.ts";
import { useRegistry } from "../support/registry.ts";
import { pushTocPair, type TocPair } from "./toc-pair.ts";

const reg = useRegistry();
let pair: TocPair;
let proxy: FaultProxy;
let work: string;

beforeAll(async () => {
  pair = await pushTocPair(reg, "content/rootfs");
  proxy = startFaultProxy(reg.url);
  proxy.rule = () => undefined;
  work = mkdtempSync(join(tmpdir(), "ls-content-"));
}, 180_000);
afterAll(() => {
  proxy?.stop();
  rmSync(work, { recursive: true, force: true });
});

interface DiffDoc {
  a: { listings: { index: number; source: string; toc?: { format: string }; cached: boolean }[] };
  b: { listings: { index: number; source: string; toc?: { format: string }; cached: boolean }[] };
  paths: { path: string; kind: string; fields?: string[]; contentFrom?: string }[];
  contentCompared: number;
  contentByToc: number;
  bytesDownloaded: number;
}

const at = (image: string, host = reg.host) => `${host}/${image}`;

async function diff(a: string, b: string, ...more: string[]): Promise<DiffDoc> {
  const r = await runCli(["diff", a, b, "--ignore-mtime", "--content", "--json", ...more]);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 1, stderr: "" });
  return JSON.parse(r.stdout) as DiffDoc;
}

/** The paths whose content differs, and how that was found. */
const contentChanges = (d: DiffDoc) =>
  d.paths
    .filter((p) => p.fields?.includes("content"))
    .map((p) => [p.path, p.contentFrom])
    .sort();

describe("what two TOCs' digests say", () => {
  const chunk = (fileOffset: number, size: number, digest?: string) => ({ start: 0, end: 1, fileOffset, size, ...(digest ? { digest } : {}) });
  test("file digests decide; else chunk digests when the file is cut alike; else nothing", () => {
    expect(tocVerdict({ chunks: [], digest: "sha256:a" }, { chunks: [], digest: "sha256:a" })).toBe(false);
    expect(tocVerdict({ chunks: [], digest: "sha256:a" }, { chunks: [], digest: "sha256:b" })).toBe(true);
    const one = [chunk(0, 4, "sha256:1"), chunk(4, 4, "sha256:2")];
    expect(tocVerdict({ chunks: one }, { chunks: [chunk(0, 4, "sha256:1"), chunk(4, 4, "sha256:2")] })).toBe(false);
    expect(tocVerdict({ chunks: one }, { chunks: [chunk(0, 4, "sha256:1"), chunk(4, 4, "sha256:3")] })).toBe(true);
    // Cut elsewhere, or a chunk without a digest: the TOCs cannot tell.
    expect(tocVerdict({ chunks: one }, { chunks: [chunk(0, 2, "sha256:1"), chunk(2, 6, "sha256:2")] })).toBeUndefined();
    expect(tocVerdict({ chunks: one }, { chunks: [chunk(0, 4, "sha256:1"), chunk(4, 4)] })).toBeUndefined();
    expect(tocVerdict({ chunks: [] }, { chunks: [] })).toBeUndefined();
  });
});

describe("diff --content with TOCs", () => {
  for (const [name, pick] of [
    ["eStargz against eStargz", (): [string, string] => [pair.estargz[0], pair.estargz[1]]],
    ["zstd:chunked against zstd:chunked", (): [string, string] => [pair.zstdChunked[0], pair.zstdChunked[1]]],
    ["eStargz against zstd:chunked", (): [string, string] => [pair.estargz[0], pair.zstdChunked[1]]],
  ] as const) {
    test(`${name}: decided by the TOCs' digests, nothing of the files downloaded`, async () => {
      const [a, b] = pick();
      const d = await diff(at(a, proxy.host), at(b, proxy.host), "--no-cache");
      expect(contentChanges(d)).toEqual(pair.contentChanged.map((p) => [p, "toc"]));
      // etc/same, etc/changed, etc/nonce, usr/bin/tool, usr/bin/big: equal sizes, compared.
      expect(d.contentCompared).toBe(5);
      expect(d.contentByToc).toBe(5);
      expect(d.paths.find((p) => p.path === "/etc/grown")?.fields).toEqual(["size"]);
      for (const side of [d.a, d.b]) expect(side.listings.map((l) => l.source)).toEqual(["toc"]);
      // Nothing more than the listings: the same bytes as a diff without --content.
      const plain = await runCli(["diff", at(a), at(b), "--ignore-mtime", "--json", "--no-cache"]);
      expect(d.bytesDownloaded).toBe((JSON.parse(plain.stdout) as DiffDoc).bytesDownloaded);
      const layerSizes = d.bytesDownloaded;
      expect(layerSizes).toBeLessThan(200_000);
      // The text says the verdicts are what the TOCs declare.
      const text = await runCli(["diff", at(a), at(b), "--ignore-mtime", "--content", "--no-cache"]);
      expect(text.code).toBe(1);
      expect(text.stdout).toContain("Listings: A's layer 0 is listed as its TOC declares it (the tar stream was not read; --verify reads it)");
      expect(text.stdout).toContain("Listings: B's layer 0 is listed as its TOC declares it");
      expect(text.stdout).toContain("Content: 5 of the 5 files of equal size compared by the digests their layers' TOCs declare");
      expect(text.stdout).toContain("Changed: /usr/bin/big: content differs (as the layers' TOCs declare it");
    }, 60_000);
  }

  test("one side without a TOC: the files are read (the TOC side by its chunks), the same verdicts", async () => {
    const d = await diff(at(pair.estargz[0]), at(pair.gzip[1]), "--no-cache");
    expect(contentChanges(d)).toEqual(pair.contentChanged.map((p) => [p, "bytes"]));
    expect(d.contentByToc).toBe(0);
    expect(d.a.listings.map((l) => l.source)).toEqual(["toc"]);
    expect(d.b.listings.map((l) => l.source)).toEqual(["stream"]);
  }, 60_000);

  test("--verify: every listing and every file from the tar streams, the same verdicts", async () => {
    const d = await diff(at(pair.estargz[0]), at(pair.zstdChunked[1]), "--no-cache", "--verify");
    expect(contentChanges(d)).toEqual(pair.contentChanged.map((p) => [p, "bytes"]));
    expect(d.contentByToc).toBe(0);
    for (const side of [d.a, d.b]) expect(side.listings.map((l) => l.source)).toEqual(["stream"]);
    const text = await runCli(["diff", at(pair.estargz[0]), at(pair.estargz[1]), "--ignore-mtime", "--verify", "--no-cache"]);
    expect(text.code).toBe(1);
    expect(text.stdout).not.toContain("Listings:");
  }, 60_000);

  test("TOC listings from the cache: labelled as cached TOC listings, the TOCs found again for their digests", async () => {
    const env = { XDG_CACHE_HOME: mkdtempSync(join(work, "cache-")) };
    for (const image of pair.estargz) expect((await runCli(["ls", at(image), "/"], { env })).code).toBe(0);
    const r = await runCli(["diff", at(pair.estargz[0]), at(pair.estargz[1]), "--ignore-mtime", "--content", "--json"], { env });
    expect(r.code).toBe(1);
    const d = JSON.parse(r.stdout) as DiffDoc;
    expect(d.a.listings).toEqual([{ index: 0, source: "toc", toc: expect.objectContaining({ format: "estargz", checked: true }), cached: true }]);
    expect(contentChanges(d)).toEqual(pair.contentChanged.map((p) => [p, "toc"]));
    // Only the TOCs (and the footers before them) were downloaded again.
    expect(d.bytesDownloaded).toBeGreaterThan(0);
    expect(d.bytesDownloaded).toBeLessThan(200_000);
    // --verify does not take the cached TOC listings for the tar streams'.
    const v = await runCli(["diff", at(pair.estargz[0]), at(pair.estargz[1]), "--ignore-mtime", "--json", "--verify"], { env });
    expect((JSON.parse(v.stdout) as DiffDoc).a.listings).toEqual([{ index: 0, source: "stream", cached: false }]);
  }, 60_000);
});

describe("a TOC that lies about a file's content", () => {
  test("what it declares is the verdict, said so; --verify reads the bytes and finds the change", async () => {
    // Version 2's eStargz layer, its TOC giving /usr/bin/big version 1's digests (the data left as it was).
    const [one, two] = pair.estargzBlobs.map(splitEstargz) as [TocLayer, TocLayer];
    const isBig = (e: Record<string, unknown>) => String(e.name).replace(/^\.\//, "") === "usr/bin/big";
    const of = (l: TocLayer) => l.doc.entries.filter(isBig);
    const truth = of(one);
    // Its entry and three more chunks of 256 KiB.
    expect(truth.length).toBe(4);
    const lying = editToc(two.doc, (entries) => {
      let k = 0;
      return entries.map((e) => (isBig(e) ? { ...e, digest: truth[k]!.digest, chunkDigest: truth[k++]!.chunkDigest } : e));
    });
    expect(of({ ...two, doc: lying }).map((e) => e.chunkDigest)).toEqual(truth.map((e) => e.chunkDigest));
    const forged = forgeEstargz(two, { doc: lying });
    await pushImage(reg, "content/lying", "v2", { layers: [{ bytes: forged.bytes, annotations: forged.annotations }] });
    const declared = await diff(at(pair.estargz[0]), at("content/lying:v2"), "--no-cache");
    expect(contentChanges(declared)).toEqual([
      ["/etc/changed", "toc"],
      ["/etc/nonce", "toc"],
    ]);
    expect(declared.contentByToc).toBe(5);
    const read = await diff(at(pair.estargz[0]), at("content/lying:v2"), "--no-cache", "--verify");
    expect(contentChanges(read)).toEqual(pair.contentChanged.map((p) => [p, "bytes"]));
  }, 60_000);
});

describe("reading files in one pass", () => {
  test("a member named by its path (a listing without tar offsets, as a TOC gives it): found, compared, or said missing", async () => {
    const layer = (twice: string) =>
      layerFrom([
        { path: "a/file", content: "first\n" },
        { path: "b/file", content: twice },
      ]);
    const img = async (bytes: Uint8Array) => resolveImage(new MemorySource([{ bytes }]));
    const [a, b] = [await img(layer("equal\n")), await img(layer("other\n"))];
    const listingOf = async (i: ResolvedImage) => new Map((await loadListings(i, [0])).map((l) => [l.index, l]));
    const at = (path: string, size: number) => ({
      layer: 0,
      entry: { path, type: "file" as const, mode: 0o644, size, uid: 0, gid: 0, mtime: 0, headerOffset: -1, compressedOffset: -1 },
    });
    const v = await compareContents({ img: a, listings: await listingOf(a) }, { img: b, listings: await listingOf(b) }, [
      { a: at("a/file", 6), b: at("a/file", 6) },
      { a: at("b/file", 6), b: at("b/file", 6) },
    ]);
    expect(v.differs).toEqual([false, true]);
    expect(v.byToc).toEqual([false, false]);
    expect(v.bytesDownloaded).toBe(a.manifest.image.layers[0]!.size + b.manifest.image.layers[0]!.size);
    const missing = compareContents({ img: a, listings: await listingOf(a) }, { img: b, listings: await listingOf(b) }, [{ a: at("c/file", 6), b: at("c/file", 6) }]);
    await expect(missing).rejects.toThrow("1 file(s) its listing names were not found in its tar stream");
  });
});

describe("diff --content without TOCs", () => {
  test("after cache warm, each file is read from the gzip checkpoint before it: the same verdicts", async () => {
    const env = { XDG_CACHE_HOME: mkdtempSync(join(work, "cache-")) };
    for (const image of pair.gzip) expect((await runCli(["cache", "warm", at(image)], { env })).code).toBe(0);
    proxy.requests.length = 0;
    const r = await runCli(["diff", at(pair.gzip[0], proxy.host), at(pair.gzip[1], proxy.host), "--ignore-mtime", "--content", "--json"], { env });
    expect(r.code).toBe(1);
    const d = JSON.parse(r.stdout) as DiffDoc;
    expect(contentChanges(d)).toEqual(pair.contentChanged.map((p) => [p, "bytes"]));
    expect(d.a.listings).toEqual([{ index: 0, source: "stream", cached: true }]);
    // Reads that start past the layer's beginning and are no tail probe: resumed at a checkpoint.
    const ranges = proxy.requests.filter((q) => q.path.includes("/blobs/sha256:") && q.range).map((q) => /bytes=(\d+)-(\d*)/.exec(q.range!)!);
    expect(ranges.some((m) => Number(m[1]) > 0 && (m[2] === "" || Number(m[2]) - Number(m[1]) > 128))).toBe(true);
    // The same verdicts as one pass over each layer from its start.
    const fresh = await diff(at(pair.gzip[0]), at(pair.gzip[1]), "--no-cache");
    expect(contentChanges(fresh)).toEqual(contentChanges(d));
  }, 60_000);
});

describe("efficiency of a layer listed from its TOC", () => {
  test("says so in text and JSON; --verify reads the tar stream", async () => {
    const text = await runCli(["efficiency", at(pair.zstdChunked[0]), "--no-cache"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain("listings: layer 0 is listed as its TOC declares it (the tar stream was not read; --verify reads it)");
    const json = JSON.parse((await runCli(["efficiency", at(pair.zstdChunked[0]), "--json", "--no-cache"])).stdout);
    expect(json.listings).toEqual([{ index: 0, source: "toc", toc: expect.objectContaining({ format: "zstd:chunked" }), cached: false }]);
    const verified = await runCli(["efficiency", at(pair.zstdChunked[0]), "--json", "--verify", "--no-cache"]);
    expect(verified.code).toBe(0);
    const v = JSON.parse(verified.stdout);
    expect(v.listings).toEqual([{ index: 0, source: "stream", cached: false }]);
    expect({ ...v, listings: [] }).toEqual({ ...json, listings: [] });
  }, 60_000);
});
