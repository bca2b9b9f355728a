import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../support/cli.ts";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy.ts";
import { layerFrom, pushImage } from "../support/fixtures.ts";
import { useRegistry } from "../support/registry.ts";
import { syntheticLayer } from "../support/synthetic-tar.ts";

describe("the listing cache on a real registry", () => {
  const reg = useRegistry();
  let proxy: FaultProxy;
  const env = { LAYERSLAYER_CACHE_DIR: mkdtempSync(join(tmpdir(), "ls-cache-views-")) };
  beforeAll(async () => {
    proxy = startFaultProxy(reg.url);
    const many = Array.from({ length: 300 }, (_, i) => ({ path: `lib/m${i}.so`, content: crypto.getRandomValues(new Uint8Array(2000)) }));
    await pushImage(reg, "cv/app", "v1", {
      layers: [
        { bytes: layerFrom([{ path: "etc/passwd", content: "root:x:0:0\n" }, ...many]) },
        {
          bytes: layerFrom([
            { path: "etc/.wh.passwd", content: "" },
            { path: "app/x", content: "x" },
          ]),
        },
      ],
    });
  });
  afterAll(async () => {
    proxy.stop();
  });
  const blobBytes = () => proxy.requests.filter((r) => r.method === "GET" && r.path.includes("/blobs/")).length;
  const image = () => `${proxy.host}/cv/app:v1`;

  test("the second ls and find download no blob bytes; --no-cache downloads again", async () => {
    const first = await runCli(["ls", image(), "/", "-R"], { env });
    expect(first.code).toBe(0);
    const afterFirst = blobBytes();
    expect(afterFirst).toBeGreaterThanOrEqual(2); // config + two layers at least
    const second = await runCli(["ls", image(), "/", "-R"], { env });
    expect(second.stdout).toBe(first.stdout);
    const find = await runCli(["find", image(), "passwd", "--json"], { env });
    expect(JSON.parse(find.stdout).hits.map((h: { action: string }) => h.action)).toEqual(["added", "deleted"]);
    expect(blobBytes()).toBe(afterFirst); // manifest by tag is fetched, no blob is
    await runCli(["ls", image(), "/", "--no-cache"], { env });
    expect(blobBytes()).toBeGreaterThan(afterFirst);
  });

  test("the merged tree is kept: a second ls and find read no listing and answer the same; a damaged tree is rebuilt", async () => {
    const dir = { LAYERSLAYER_CACHE_DIR: mkdtempSync(join(tmpdir(), "ls-cache-tree-")) };
    const views = [
      ["ls", image(), "/", "-lR", "--json"],
      ["ls", image(), "/etc", "--history"],
      ["find", image(), "*", "--json"],
    ];
    const fresh = await Promise.all(views.map((v) => runCli([...v, "--no-cache"])));
    const first = await runCli([...views[0]!, "--verbose"], { env: dir });
    expect(first.stderr).toContain("2 layer listings: 0 from the cache");
    for (const [i, v] of views.entries()) {
      const kept = await runCli([...v, "--verbose"], { env: dir });
      expect(kept.code).toBe(0);
      expect(kept.stderr).toContain("the merged tree of 2 layers from the cache");
      expect(kept.stdout).toBe(fresh[i]!.stdout);
    }
    // Another selection of layers is another tree.
    const one = await runCli(["ls", image(), "/", "--layer", "1", "--verbose"], { env: dir });
    expect(one.stderr).toContain("1 layer listings: 1 from the cache");
    // A stored tree whose bytes changed is dropped and made again from the listings.
    const db = new Database(join(dir.LAYERSLAYER_CACHE_DIR, "cache.sqlite"));
    db.query("UPDATE trees SET data = zeroblob(64)").run();
    db.close();
    const rebuilt = await runCli([...views[0]!, "--verbose"], { env: dir });
    expect(rebuilt.stderr).toContain("2 layer listings: 2 from the cache");
    expect(rebuilt.stdout).toBe(fresh[0]!.stdout);
  });

  test("a peek served from the cache says so and downloads nothing; partial peeks are never stored", async () => {
    const dir = { LAYERSLAYER_CACHE_DIR: mkdtempSync(join(tmpdir(), "ls-cache-peek-")) };
    const partial = await runCli(["peek", image(), "--layer", "0", "--budget", "4K", "--json"], { env: dir });
    expect(JSON.parse(partial.stdout.trim().split("\n").at(-1)!).stats.complete).toBe(false);
    const again = JSON.parse((await runCli(["peek", image(), "--layer", "0", "--budget", "4K", "--json"], { env: dir })).stdout.trim().split("\n").at(-1)!).stats;
    expect(again.cached).toBeUndefined();
    expect(again.bytesDownloaded).toBe(4096);
    await runCli(["peek", image(), "--layer", "0", "--full"], { env: dir });
    const before = blobBytes();
    const cached = await runCli(["peek", image(), "--layer", "0", "--budget", "4K", "--json"], { env: dir });
    const lines = cached.stdout.trim().split("\n");
    const stats = JSON.parse(lines.at(-1)!).stats;
    expect(stats).toMatchObject({ cached: true, complete: true, bytesDownloaded: 0, entries: lines.length - 1 });
    expect(blobBytes()).toBe(before); // the config comes from the cache too
  });
});

describe("cache clear while a view reads the cache", () => {
  const reg = useRegistry();
  beforeAll(async () => {
    // Layers of several cache parts each, so that merging them takes a while.
    const layers = [];
    for (let l = 0; l < 4; l++) layers.push({ bytes: await syntheticLayer(Array.from({ length: 30_000 }, (_, i) => ({ path: `l${l}/d${i % 50}/f${i}` }))) });
    await pushImage(reg, "cc/app", "v1", { layers });
  });

  test("ls -R with listings in the cache and `cache clear` running beside it: never 'damaged', always the right answer", async () => {
    const image = `${reg.host}/cc/app:v1`;
    const expected = await runCli(["ls", image, "/", "-R"]);
    expect(expected.code).toBe(0);
    expect(expected.stdout.split("\n").length).toBeGreaterThan(120_000);
    const env = { LAYERSLAYER_CACHE_DIR: mkdtempSync(join(tmpdir(), "ls-cache-clear-")) };
    let clears = 0;
    for (let round = 0; round < 6; round++) {
      // Listings (not the merged tree) in the cache: `ls` reads them layer by layer.
      expect((await runCli(["cache", "warm", image, "-q"], { env })).code).toBe(0);
      let running = true;
      const clearer = (async () => {
        for (let i = 0; running && i < 40; i++) {
          const c = await runCli(["cache", "clear", "-q"], { env });
          expect(c.code).toBe(0);
          clears++;
        }
      })();
      const ls = await runCli(["ls", image, "/", "-R"], { env });
      running = false;
      await clearer;
      expect(ls.stderr).not.toContain("damaged");
      expect(ls.code).toBe(0);
      expect(ls.stdout).toBe(expected.stdout);
    }
    expect(clears).toBeGreaterThanOrEqual(6);
  }, 240_000);
});
