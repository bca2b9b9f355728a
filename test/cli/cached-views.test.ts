import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../support/cli.ts";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy.ts";
import { layerFrom, pushImage } from "../support/fixtures.ts";
import { startRegistry, type TestRegistry } from "../support/registry.ts";

describe("the listing cache on a real registry", () => {
  let reg: TestRegistry;
  let proxy: FaultProxy;
  const env = { LAYERSLAYER_CACHE_DIR: mkdtempSync(join(tmpdir(), "ls-cache-views-")) };
  beforeAll(async () => {
    reg = await startRegistry();
    proxy = startFaultProxy(reg.url);
    const many = Array.from({ length: 300 }, (_, i) => ({ path: `lib/m${i}.so`, content: crypto.getRandomValues(new Uint8Array(2000)) }));
    await pushImage(reg, "cv/app", "v1", {
      layers: [{ bytes: layerFrom([{ path: "etc/passwd", content: "root:x:0:0\n" }, ...many]) }, { bytes: layerFrom([{ path: "etc/.wh.passwd", content: "" }, { path: "app/x", content: "x" }]) }],
    });
  });
  afterAll(async () => {
    proxy.stop();
    await reg.stop();
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
