/** `peek --full` of a layer with many entries: the listing goes to the cache in parts as it streams. */
import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PART_ENTRIES } from "../../src/cache/listing-parts.ts";
import { runCli } from "../support/cli.ts";
import { pushImage, type PushedImage } from "../support/fixtures.ts";
import { useRegistry } from "../support/registry.ts";
import { syntheticLayer } from "../support/synthetic-tar.ts";

const N = 2 * PART_ENTRIES + 500;

describe("peek --full with the cache: a listing stored in parts", () => {
  const reg = useRegistry();
  let img: PushedImage;
  let cacheHome: string;
  beforeAll(async () => {
    const entries = function* () {
      for (let i = 0; i < N; i++) yield { path: `dir${Math.floor(i / 1000)}/file-${i}.txt`, size: i % 3 };
    };
    img = await pushImage(reg, "parts/app", "v1", { layers: [{ bytes: await syntheticLayer(entries()) }] });
    cacheHome = mkdtempSync(join(tmpdir(), "ls-parts-"));
  }, 60_000);
  afterAll(async () => {
    rmSync(cacheHome, { recursive: true, force: true });
  });
  const peek = () => runCli(["peek", `${reg.host}/parts/app:v1`, "--full", "--json"], { env: { XDG_CACHE_HOME: cacheHome } });
  const db = () => new Database(join(cacheHome, "layerslayer", "cache.sqlite"));
  const lines = (out: string) => out.trim().split("\n");

  test("ls reading the layer stores the listing in the same parts it packed, and lists what peek lists", async () => {
    const home = mkdtempSync(join(tmpdir(), "ls-parts-ls-"));
    try {
      const env = { XDG_CACHE_HOME: home };
      const ls = await runCli(["ls", `${reg.host}/parts/app:v1`, "/", "-R"], { env });
      expect(ls.code).toBe(0);
      const d = new Database(join(home, "layerslayer", "cache.sqlite"));
      const parts = d.query("SELECT seq FROM listing_parts WHERE digest = ? ORDER BY seq").all(img.layers[0]!.digest) as { seq: number }[];
      d.close();
      expect(parts.map((p) => p.seq)).toEqual([0, 1, 2]);
      const cached = await runCli(["peek", `${reg.host}/parts/app:v1`, "--full", "--json"], { env });
      const got = lines(cached.stdout);
      expect(JSON.parse(got[N]!).stats).toMatchObject({ cached: true, entries: N, complete: true });
      const files = got
        .slice(0, N)
        .map((l) => JSON.parse(l).path as string)
        .filter((p) => p.endsWith(".txt"));
      expect(files.length).toBe(N);
      expect(
        lines(ls.stdout)
          .filter((l) => l.endsWith(".txt"))
          .sort(),
      ).toEqual(files.map((p) => p.slice(1)).sort());
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  test("stored as it streams, read back part by part; a damaged part is made up from the registry", async () => {
    const first = await peek();
    expect(first.code).toBe(0);
    const firstLines = lines(first.stdout);
    expect(firstLines.length).toBe(N + 1);
    const d = db();
    const parts = d.query("SELECT seq FROM listing_parts WHERE digest = ? ORDER BY seq").all(img.layers[0]!.digest) as { seq: number }[];
    expect(parts.map((p) => p.seq)).toEqual([0, 1, 2]);
    d.close();

    const second = await peek();
    const secondLines = lines(second.stdout);
    expect(secondLines.slice(0, N)).toEqual(firstLines.slice(0, N));
    expect(JSON.parse(secondLines[N]!).stats).toMatchObject({ cached: true, bytesDownloaded: 0, entries: N, complete: true });

    const d2 = db();
    d2.query("UPDATE listing_parts SET data = ? WHERE seq = 1").run(new Uint8Array([1, 2, 3]));
    d2.close();
    const third = await peek();
    expect(third.code).toBe(0);
    const thirdLines = lines(third.stdout);
    expect(thirdLines.slice(0, N)).toEqual(firstLines.slice(0, N));
    const stats = JSON.parse(thirdLines[N]!).stats;
    expect(stats.cached).toBeUndefined();
    expect(stats).toMatchObject({ entries: N, complete: true });
  });
});
