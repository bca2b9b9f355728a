/**
 * What the commands say and do about a TOC that lies (test/toc/compare.test.ts has every kind of
 * lie; here one of each format, through each command): a listing from a TOC is labelled as what the
 * TOC declares wherever it is shown, stored or searched; every command that reads the tar stream
 * anyway checks the TOC against it and fails with exit 7 on a difference; the cache never lets a
 * TOC's listing replace the stream's.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { editToc, type TocLayer } from "../support/forge-toc.ts";
import { errorLine, runCli } from "../support/cli.ts";
import { useRegistry } from "../support/registry.ts";
import { pushTocImages, type TocImages } from "../toc/fixture.ts";
import { pushForged, tocLayers, type TocLayers } from "../toc/hostile.ts";

const reg = useRegistry();
let images: TocImages;
let layers: TocLayers;
let dir: string;
/** Per format: an honest forged TOC and one that hides /etc/hostname. */
const made: Record<string, { honest: string; lying: string }> = {};

const hide = (es: Record<string, unknown>[]) => es.filter((e) => e.name !== "./etc/hostname");

beforeAll(async () => {
  images = await pushTocImages(reg, "trust/rootfs");
  layers = await tocLayers(reg, images);
  dir = mkdtempSync(join(tmpdir(), "ls-toc-trust-"));
  for (const layer of [layers.estargz, layers.zstdChunked] as TocLayer[]) {
    const repo = `trust/${layer.format === "estargz" ? "esgz" : "zstd"}`;
    made[layer.format] = {
      honest: `${reg.host}/${(await pushForged(reg, repo, "honest", layer, { doc: layer.doc })).image}`,
      lying: `${reg.host}/${(await pushForged(reg, repo, "lying", layer, { doc: editToc(layer.doc, hide) })).image}`,
    };
  }
}, 180_000);
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
});

const FORMATS = [
  ["estargz", "eStargz"],
  ["zstd:chunked", "zstd:chunked"],
] as const;

const MISMATCH = (name: string) => `the layer's ${name} TOC does not match its tar stream: the tar stream has /etc/hostname, which the TOC does not list`;

function statsOf(stdout: string): Record<string, unknown> {
  return stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l))
    .find((o) => o.stats)!.stats;
}

let cacheN = 0;
const freshCache = () => ({ LAYERSLAYER_CACHE_DIR: join(dir, `cache-${cacheN++}`) });

describe("a TOC's listing says what it is", () => {
  for (const [format, name] of FORMATS) {
    test(`${name}: peek, peek --json, ls, find and search`, async () => {
      const image = made[format]!.lying;
      const peek = await runCli(["peek", image, "--full"]);
      expect(peek.code).toBe(0);
      expect(peek.stdout).not.toContain("etc/hostname");
      expect(peek.stdout).toContain(`complete as the layer's ${name} TOC declares it (TOC of `);
      expect(peek.stdout).toContain("the tar stream was not read)");
      const json = await runCli(["peek", image, "--full", "--json"]);
      expect(statsOf(json.stdout)).toMatchObject({ complete: true, verified: false, source: "toc", toc: { format, checked: true } });
      const stream = await runCli(["peek", images.gzip.replace(/^/, `${reg.host}/`), "--full", "--json"]);
      expect(statsOf(stream.stdout)).toMatchObject({ complete: true, verified: true, source: "stream" });
      const ls = await runCli(["ls", image, "/etc"]);
      expect(ls.code).toBe(0);
      expect(ls.stderr).toContain("layer 0 is listed as its TOC declares it (the tar stream was not read;");
      const find = await runCli(["find", image, "os-release"]);
      expect(find.stderr).toContain("layer 0 is listed as its TOC declares it");
      // Recorded by scan as what the TOC declares, and searched as such.
      const db = join(dir, `scan-${format === "estargz" ? "e" : "z"}.sqlite`);
      expect((await runCli(["scan", image, "--full", "--db", db])).code).toBe(0);
      const found = await runCli(["search", "os-release", "--db", db, "--json"]);
      const hits = JSON.parse(found.stdout).hits as { path: string; source: string }[];
      expect(hits.length).toBeGreaterThan(0);
      for (const h of hits) expect(h.source).toBe("toc");
      const text = await runCli(["search", "os-release", "--db", db]);
      expect(text.stdout).toContain("(as the layer's TOC declares it)");
      // scan --full --verify reads the stream: the lie is found (exit 7), recorded as the image's error.
      const verified = await runCli(["scan", image, "--full", "--verify", "--db", db, "--json"]);
      expect(verified.code).toBe(7);
      expect(JSON.parse(verified.stdout.trim().split("\n")[0]!).error).toMatchObject({ code: "CORRUPT", message: `layer 0: ${MISMATCH(name)}` });
    });
  }
});

describe("reading the stream anyway checks the TOC", () => {
  for (const [format, name] of FORMATS) {
    test(`${name}: peek --full --verify, cache warm and save: exit 7 on a lie, the match said otherwise`, async () => {
      const { honest, lying } = made[format]!;
      const peek = await runCli(["peek", lying, "--full", "--verify"]);
      expect(peek.code).toBe(7);
      expect(errorLine(peek)).toBe(`layerslayer: layer 0: ${MISMATCH(name)}`);
      // The stream's entries were printed (what a runtime applies), the hidden file among them.
      expect(peek.stdout).toContain("etc/hostname");
      const good = await runCli(["peek", honest, "--full", "--verify"]);
      expect(good.code).toBe(0);
      expect(good.stdout).toContain(`(its ${name} TOC matches the tar stream)`);
      expect(statsOf((await runCli(["peek", honest, "--full", "--verify", "--json"])).stdout)).toMatchObject({ source: "stream", verified: true, tocMatched: format });

      const warm = await runCli(["cache", "warm", lying], { env: freshCache() });
      expect(warm.code).toBe(7);
      expect(errorLine(warm)).toBe(`layerslayer: layer 0: ${MISMATCH(name)}`);
      const warmed = await runCli(["cache", "warm", honest, "--json"], { env: freshCache() });
      expect(warmed.code).toBe(0);
      expect(JSON.parse(warmed.stdout).layers[0]).toMatchObject({ status: "warmed", from: "stream", tocMatched: format });

      const out = join(dir, `save-${format === "estargz" ? "e" : "z"}`);
      const save = await runCli(["save", lying, "-o", out, "--json"]);
      expect(save.code).toBe(7);
      expect(errorLine(save)).toBe(`layerslayer: layer 0: ${MISMATCH(name)}`);
      const saved = JSON.parse(save.stdout).layers[0];
      expect(saved).toMatchObject({ status: "saved", error: `layer 0: ${MISMATCH(name)}` });
      // The blob is what the registry holds, verified: kept.
      expect(existsSync(saved.path)).toBe(true);
      const fine = await runCli(["save", honest, "-o", `${out}-honest`, "--json"]);
      expect(fine.code).toBe(0);
      expect(JSON.parse(fine.stdout).layers[0]).toMatchObject({ status: "saved", tocMatched: format });
    });
  }

  test("--verify goes with --full only", async () => {
    const r = await runCli(["peek", made.estargz!.honest, "--verify"]);
    expect(r.code).toBe(2);
    expect(errorLine(r)).toContain("--verify reads whole layers: it goes with --full");
  });

  test("an ordinary layer: --verify reads it as --full does, nothing to compare", async () => {
    const r = await runCli(["peek", `${reg.host}/${images.gzip}`, "--full", "--verify", "--json"]);
    expect(r.code).toBe(0);
    const stats = statsOf(r.stdout);
    expect(stats).toMatchObject({ source: "stream", verified: true });
    expect(stats.tocMatched).toBeUndefined();
  });
});

describe("cat --verify trusts no TOC", () => {
  for (const [format, name] of FORMATS) {
    test(`${name}: a file the TOC hides is not found by its listing, and is found in the stream with --verify`, async () => {
      const { lying } = made[format]!;
      const hostname = images.files.find((f) => f.path === "etc/hostname") as { content: string };
      const env = freshCache();
      const plain = await runCli(["cat", lying, "/etc/hostname"], { env });
      expect(plain.code).toBe(4);
      // The error says whose word it is: the TOC's, not the stream's.
      expect(errorLine(plain)).toMatch(/no such file in the image \(as layer \d+'s TOC declares it; --verify reads the tar stream\)$/);
      // Even with the TOC's listing in the cache from that run.
      const verified = await runCli(["cat", lying, "/etc/hostname", "--verify"], { env });
      expect(verified.code).toBe(0);
      expect(verified.stdout).toBe(hostname.content);
      expect(verified.stderr).toContain("layer verified");
    });
  }
});

describe("the cache keeps a TOC's listing marked, and never over the stream's", () => {
  for (const [format, name] of FORMATS) {
    test(`${name}`, async () => {
      const { lying } = made[format]!;
      const env = freshCache();
      // A TOC's listing is stored, and served marked as such.
      expect((await runCli(["peek", lying, "--full"], { env })).code).toBe(0);
      const again = await runCli(["peek", lying, "--full"], { env });
      expect(again.stdout).toContain(`complete as the layer's ${name} TOC declares it`);
      expect(again.stdout).toContain("(from the cache)");
      expect(again.stdout).not.toContain("etc/hostname");
      expect(statsOf((await runCli(["peek", lying, "--full", "--json"], { env })).stdout)).toMatchObject({ cached: true, source: "toc", verified: false });
      // cache warm reads the stream: the lie is found, and the TOC's listing does not count as warm.
      expect((await runCli(["cache", "warm", lying], { env })).code).toBe(7);

      // The stream's listing (peek --full --verify of the honest image) replaces a TOC's...
      const { honest } = made[format]!;
      const env2 = freshCache();
      expect((await runCli(["peek", honest, "--full"], { env: env2 })).stdout).toContain("TOC declares it");
      expect((await runCli(["peek", honest, "--full", "--verify"], { env: env2 })).code).toBe(0);
      const stream = await runCli(["peek", honest, "--full", "--json"], { env: env2 });
      expect(statsOf(stream.stdout)).toMatchObject({ cached: true, source: "stream", verified: true, tocMatched: format });
      // ...and no later read from the TOC (a run that finds nothing cached, as another process would) replaces it.
      const ls = await runCli(["ls", honest, "/etc"], { env: env2 });
      expect(ls.stderr).not.toContain("listed as its TOC declares it");
      expect(statsOf((await runCli(["peek", honest, "--full", "--json"], { env: env2 })).stdout)).toMatchObject({ cached: true, source: "stream" });
      const warm = await runCli(["cache", "warm", honest, "--json"], { env: env2 });
      expect(JSON.parse(warm.stdout).layers[0]).toMatchObject({ from: "stream" });
    });
  }
});
