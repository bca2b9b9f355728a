import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { openCache } from "../../src/cache/open.ts";
import { fakeDigest, holdLock, manyEntries, statsFor, tempDir } from "../cache/helpers.ts";
import { runCli } from "../support/cli.ts";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy.ts";
import { layerFrom, pushImage, pushIndex, type PushedImage } from "../support/fixtures.ts";
import { useRegistry } from "../support/registry.ts";

const reg = useRegistry();
let proxy: FaultProxy;
let img: PushedImage;
let index: { digest: string };

beforeAll(async () => {
  const layer = layerFrom([{ path: "etc/os-release", content: "ID=cachetest\n" }]);
  img = await pushImage(reg, "c/app", "v1", { layers: [{ bytes: layer }], config: { config: { Cmd: ["/bin/sh"] } } });
  index = await pushIndex(reg, "c/app", "multi", [{ image: img, platform: { os: "linux", architecture: "amd64" } }]);
  proxy = startFaultProxy(reg.url);
});
afterAll(async () => {
  proxy.stop();
});

/** Runs the CLI with its cache in `dir`; returns the result and the registry requests it made. */
async function run(args: string[], dir: string, env: Record<string, string> = {}) {
  proxy.requests.length = 0;
  const r = await runCli(args, { env: { LAYERSLAYER_CACHE_DIR: dir, ...env } });
  const gets = proxy.requests.filter((q) => q.method === "GET").map((q) => q.path);
  return { ...r, gets };
}

const manifestGets = (gets: string[], ref: string) => gets.filter((p) => p === `/v2/c/app/manifests/${ref}`);
const blobGets = (gets: string[]) => gets.filter((p) => p.includes("/blobs/"));
const warnings = (stderr: string) => stderr.split("\n").filter((l) => l.startsWith("layerslayer: warning:"));

describe("the cache in front of the registry", () => {
  test("inspect by digest twice: the second run takes manifest and config from the cache; --no-cache bypasses it", async () => {
    const dir = tempDir();
    const ref = `${proxy.host}/c/app@${img.digest}`;
    const first = await run(["inspect", ref, "--json"], dir);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(manifestGets(first.gets, img.digest)).toHaveLength(1);
    expect(blobGets(first.gets)).toEqual([`/v2/c/app/blobs/${img.configDigest}`]);

    const second = await run(["inspect", ref, "--json"], dir);
    expect(second.code).toBe(0);
    expect(second.stderr).toBe("");
    expect(second.stdout).toBe(first.stdout);
    expect(manifestGets(second.gets, img.digest)).toEqual([]);
    expect(blobGets(second.gets)).toEqual([]);

    const bypass = await run(["inspect", ref, "--json", "--no-cache"], dir);
    expect(bypass.code).toBe(0);
    expect(bypass.stdout).toBe(first.stdout);
    expect(manifestGets(bypass.gets, img.digest)).toHaveLength(1);
    expect(blobGets(bypass.gets)).toEqual([`/v2/c/app/blobs/${img.configDigest}`]);

    const info = JSON.parse((await run(["cache", "info", "--json"], dir)).stdout);
    expect(info).toMatchObject({ path: join(dir, "cache.sqlite"), blobs: 2, listings: 0 });
  });

  test("a tag is always asked for (tags move), but what it names is cached by digest", async () => {
    const dir = tempDir();
    const byTag = `${proxy.host}/c/app:multi`;
    const first = await run(["inspect", byTag, "--json"], dir);
    expect(first.code).toBe(0);
    expect(manifestGets(first.gets, "multi")).toHaveLength(1);
    expect(manifestGets(first.gets, img.digest)).toHaveLength(1);
    const second = await run(["inspect", byTag, "--json"], dir);
    expect(second.stdout).toBe(first.stdout);
    expect(manifestGets(second.gets, "multi")).toHaveLength(1);
    expect(manifestGets(second.gets, img.digest)).toEqual([]);
    expect(blobGets(second.gets)).toEqual([]);
    // The index fetched by tag was stored under its digest: asking by that digest needs no request.
    const byDigest = await run(["inspect", `${proxy.host}/c/app@${index.digest}`, "--json"], dir);
    expect(byDigest.code).toBe(0);
    expect(byDigest.gets).toEqual([]);
  });

  test("a tag pushed again is seen at once (nothing is cached by tag)", async () => {
    const dir = tempDir();
    const push = (id: string) => pushImage(reg, "c/moving", "latest", { layers: [{ bytes: layerFrom([{ path: "id", content: id }]) }] });
    const one = await push("one");
    const a = await run(["inspect", `${proxy.host}/c/moving:latest`, "--json"], dir);
    expect(JSON.parse(a.stdout).digest).toBe(one.digest);
    const two = await push("two");
    expect(two.digest).not.toBe(one.digest);
    const b = await run(["inspect", `${proxy.host}/c/moving:latest`, "--json"], dir);
    expect(JSON.parse(b.stdout).digest).toBe(two.digest);
  });
});

describe("a broken cache never breaks a command", () => {
  test("a corrupt file: one warning, the command works, again; cache clear removes it", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "cache.sqlite"), crypto.getRandomValues(new Uint8Array(16384)));
    const ref = `${proxy.host}/c/app@${img.digest}`;
    for (let i = 0; i < 2; i++) {
      const r = await run(["inspect", ref, "--json"], dir);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).digest).toBe(img.digest);
      expect(warnings(r.stderr)).toHaveLength(1);
      expect(r.stderr).toContain("not a usable database");
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    }
    const info = await run(["cache", "info"], dir);
    expect(info.code).toBe(0);
    expect(info.stdout).toContain("Problem:");
    const clear = await run(["cache", "clear"], dir);
    expect(clear.code).toBe(0);
    expect(clear.stderr).toBe("");
    expect(clear.stdout).toContain("Removed the unreadable cache file");
    const after = await run(["inspect", ref, "--json"], dir);
    expect(after.stderr).toBe("");
    const again = await run(["inspect", ref, "--json"], dir);
    expect(again.gets).toEqual([]);
  });

  test("a database another process holds locked: one warning, not a failure", async () => {
    const dir = tempDir();
    const lock = await holdLock(join(dir, "cache.sqlite"), "delete");
    try {
      const r = await run(["inspect", `${proxy.host}/c/app@${img.digest}`, "--json"], dir);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).digest).toBe(img.digest);
      expect(warnings(r.stderr)).toHaveLength(1);
      expect(r.stderr).toContain("locked by another process");
      const clear = await run(["cache", "clear"], dir);
      expect(clear.code).toBe(9); // IO: it could not do what was asked
      expect(clear.stderr).toContain("cannot clear the cache");
    } finally {
      await lock.release();
    }
  });

  test("an unwritable cache directory: one warning (none with -q), the command works", async () => {
    const base = tempDir();
    writeFileSync(join(base, "file"), "x");
    const dir = join(base, "file", "cache");
    const r = await run(["inspect", `${proxy.host}/c/app:v1`], dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(img.digest);
    expect(warnings(r.stderr)).toHaveLength(1);
    expect(r.stderr).toContain("cannot be opened or written");
    const quiet = await run(["inspect", `${proxy.host}/c/app:v1`, "-q"], dir);
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).toBe("");
  });
});

describe("layerslayer cache info / clear", () => {
  test("info and clear, as text and as JSON", async () => {
    const dir = tempDir();
    const empty = await run(["cache", "info"], dir);
    expect(empty.code).toBe(0);
    expect(empty.stdout).toContain(`Path:       ${join(dir, "cache.sqlite")}`);
    expect(empty.stdout).toContain("Listings:   0 layers (0 entries)");
    // A listing (as ls/find store them) and the manifest and config of one image.
    const store = openCache({ enabled: true, dir, warn: () => {} });
    const entries = manyEntries(1500);
    expect(store.putListing(statsFor(fakeDigest(7), entries), entries)).toBe(true);
    store.close();
    await run(["inspect", `${proxy.host}/c/app@${img.digest}`], dir);

    const text = await run(["cache", "info"], dir);
    expect(text.stdout).toMatch(/^Size: +\d+(\.\d)?[KM]$/m);
    expect(text.stdout).toContain("Listings:   1 layer (1500 entries)");
    expect(text.stdout).toContain("Blobs:      2 manifests and configs");
    const json = await run(["cache", "info", "--json"], dir);
    const doc = JSON.parse(json.stdout);
    expect(doc).toMatchObject({ path: join(dir, "cache.sqlite"), listings: 1, entries: 1500, blobs: 2 });
    expect(doc.sizeBytes).toBeGreaterThan(0);
    expect(doc.problem).toBeUndefined();
    // Options before the sub-command count too.
    expect(JSON.parse((await run(["cache", "--json", "info"], dir)).stdout)).toEqual(doc);

    const cleared = await run(["cache", "clear", "--json"], dir);
    expect(cleared.code).toBe(0);
    expect(JSON.parse(cleared.stdout)).toMatchObject({ listings: 1, entries: 1500, blobs: 2, discarded: false });
    expect(JSON.parse((await run(["cache", "info", "--json"], dir)).stdout)).toMatchObject({ listings: 0, entries: 0, blobs: 0 });
    const again = await run(["cache", "clear"], dir);
    expect(again.stdout).toContain("was already empty");

    await run(["inspect", `${proxy.host}/c/app@${img.digest}`], dir);
    const clearText = await run(["cache", "clear"], dir);
    expect(clearText.stdout).toMatch(/^Removed 0 layer listings \(0 entries\) and 2 manifests and configs from .*cache\.sqlite \(.* freed\)$/m);
  });

  test("the cache is under XDG_CACHE_HOME without LAYERSLAYER_CACHE_DIR", async () => {
    const xdg = tempDir();
    const r = await runCli(["cache", "info", "--json"], { env: { XDG_CACHE_HOME: xdg } });
    expect(JSON.parse(r.stdout).path).toBe(join(xdg, "layerslayer", "cache.sqlite"));
  });

  test("a missing or unknown sub-command is a usage error", async () => {
    const dir = tempDir();
    expect((await run(["cache"], dir)).code).toBe(2);
    expect((await run(["cache", "nope"], dir)).code).toBe(2);
    expect((await run(["cache", "info", "--platform", "linux/amd64"], dir)).code).toBe(2);
  });
});
