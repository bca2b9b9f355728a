/** Complete ⇔ verified: whole reads go to the blob's last byte and check it; nothing unverified is cached or called complete. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { humanSize } from "../../src/output/format.ts";
import { errorLine, runCli } from "../support/cli.ts";
import { noise } from "../support/bytes.ts";
import { startFaultProxy, type Fault, type FaultProxy } from "../support/fault-proxy.ts";
import { layerFrom, pushImage, type PushedImage } from "../support/fixtures.ts";
import { useRegistry } from "../support/registry.ts";

describe("verification through a proxy that alters bytes of the real registry's blobs", () => {
  const reg = useRegistry();
  let proxy: FaultProxy;
  let img: PushedImage;
  const dirs: string[] = [];
  const files = Array.from({ length: 60 }, (_, i) => ({ path: `usr/share/f${String(i).padStart(3, "0")}`, content: noise(3000, i) }));
  beforeAll(async () => {
    proxy = startFaultProxy(reg.url);
    img = await pushImage(reg, "v/app", "v1", {
      layers: [
        { bytes: layerFrom([{ path: "etc/motd", content: "hello from layer 0\n" }, ...files]) },
        { bytes: layerFrom([{ path: "opt/tool", content: "tool\n" }], { compression: "none" }), compression: "none" },
      ],
    });
  });
  afterAll(async () => {
    proxy.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const image = () => `${proxy.host}/v/app:v1`;
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), "ls-verify-"));
    dirs.push(d);
    return d;
  };
  /** Flips the blob's byte at `offset` in whatever range of it a response carries. */
  const flipBlobByte = (layer: number, offset: number) => {
    const { digest } = img.layers[layer]!;
    proxy.rule = (req): Fault | undefined => {
      if (!req.url.includes(`/blobs/${digest}`)) return undefined;
      const start = Number(/bytes=(\d+)-/.exec(req.headers.get("range") ?? "")?.[1] ?? 0);
      return { kind: "flip", offsets: [offset - start] };
    };
  };
  const cachedListings = async (cache: string) => {
    const r = await runCli(["cache", "info", "--json"], { env: { XDG_CACHE_HOME: cache } });
    if (r.code !== 0) throw new Error(`cache info: ${r.stderr}`);
    return JSON.parse(r.stdout).listings as number;
  };
  const statsOf = (stdout: string) => JSON.parse(stdout.trim().split("\n").at(-1)!).stats;

  test("a whole read is verified, complete and cached; a budgeted one is neither and is not cached", async () => {
    proxy.rule = () => undefined;
    const cache = tmp();
    const part = await runCli(["peek", image(), "--layer", "0", "--budget", "8K", "--json"], { env: { XDG_CACHE_HOME: cache } });
    expect(part.code).toBe(0);
    expect(statsOf(part.stdout)).toMatchObject({ complete: false, verified: false, bytesDownloaded: 8192 });
    expect(await cachedListings(cache)).toBe(0);
    const full = await runCli(["peek", image(), "--layer", "0", "--full", "--json"], { env: { XDG_CACHE_HOME: cache } });
    expect(statsOf(full.stdout)).toMatchObject({ complete: true, verified: true, bytesDownloaded: img.layers[0]!.size, entries: files.length + 5 });
    expect(await cachedListings(cache)).toBe(1);
  });

  test("a flipped byte in the padding after the end-of-archive: exit 7, every entry printed, named in the stats line, nothing cached", async () => {
    const layer = img.layers[1]!;
    flipBlobByte(1, layer.size - 1); // GNU tar pads to 10 KiB records: this byte comes after the end marker
    const cache = tmp();
    const r = await runCli(["peek", image(), "--layer", "1", "--full"], { env: { XDG_CACHE_HOME: cache } });
    expect(r.code).toBe(7);
    expect(r.stdout).toContain(" opt/tool\n");
    expect(r.stdout.trim().split("\n").at(-1)).toMatch(/, 3 entries, partial \(stopped by corrupt data\)$/);
    expect(errorLine(r)).toContain(`layer 1: ${proxy.host}/v/app@${layer.digest}: the blob's bytes hash to sha256:`);
    expect(await cachedListings(cache)).toBe(0);
  });

  test("a flipped byte in the last gzip trailer (CRC32, then ISIZE): exit 7, nothing cached", async () => {
    const size = img.layers[0]!.size;
    for (const [offset, why] of [
      [size - 8, "CRC32 mismatch"],
      [size - 1, "mismatch"],
    ] as const) {
      flipBlobByte(0, offset);
      const cache = tmp();
      const r = await runCli(["peek", image(), "--layer", "0", "--full", "--json"], { env: { XDG_CACHE_HOME: cache } });
      expect(r.code).toBe(7);
      // Whichever check notices first: the decoder's trailer check or the blob's digest.
      expect(errorLine(r)).toMatch(new RegExp(`${why}|the blob's bytes hash to sha256:`));
      const stats = statsOf(r.stdout);
      expect(stats).toMatchObject({ complete: false, verified: false });
      // Every entry found is printed (the native decoder may drop its last partial output chunk on a trailer error).
      expect(stats.entries).toBeGreaterThan(files.length / 2);
      expect(r.stdout.trim().split("\n").length).toBe(stats.entries + 1);
      expect(await cachedListings(cache)).toBe(0);
      const ls = await runCli(["ls", image(), "/usr/share"], { env: { XDG_CACHE_HOME: cache } });
      expect(ls.code).toBe(7);
      expect(errorLine(ls)).toMatch(new RegExp(`${why}|the blob's bytes hash to sha256:`));
      // Layer 1 verified and may be cached; layer 0 is not: read again from the registry.
      proxy.rule = () => undefined;
      const again = await runCli(["peek", image(), "--layer", "0", "--json"], { env: { XDG_CACHE_HOME: cache } });
      expect(statsOf(again.stdout).cached).toBeUndefined();
    }
  });

  test("a network error mid-layer: exit 6, the entries before it printed, the stats line names the error", async () => {
    const { digest } = img.layers[0]!;
    proxy.rule = (req) => {
      if (!req.url.includes(`/blobs/${digest}`)) return undefined;
      // The first answer breaks off after 60 KB; every resume breaks at once.
      return { kind: "reset", afterBytes: (req.headers.get("range") ?? "").startsWith("bytes=0-") ? 60_000 : 0 };
    };
    const r = await runCli(["peek", image(), "--layer", "0", "--full"]);
    expect(r.code).toBe(6);
    const lines = r.stdout.trim().split("\n");
    expect(lines.at(-1)).toMatch(/^downloaded [\d.]+K of [\d.]+K \([\d.]+%\), .*, (\d+) entries, partial \(stopped by a network error\)$/);
    const n = Number(/, (\d+) entries/.exec(lines.at(-1)!)![1]);
    expect(n).toBeGreaterThan(5);
    expect(lines.length).toBe(n + 2); // heading, n entries, stats
    expect(errorLine(r)).toContain("could not be resumed");
  });

  test("a registry that answers every range with the wrong one: exit 7 after a bounded number of requests, one line", async () => {
    const { digest } = img.layers[0]!;
    proxy.requests.length = 0;
    proxy.rule = (req) => (req.url.includes(`/blobs/${digest}`) ? { kind: "contentRange", start: 3 } : undefined);
    const r = await runCli(["peek", image(), "--layer", "0", "--budget", "64K"]);
    expect(r.code).toBe(7);
    expect(errorLine(r)).toBe(`layerslayer: layer 0: ${proxy.host}/v/app@${digest}: the registry answered a request for bytes 0- with bytes 3- (6 bad answers, giving up)`);
    expect(r.stdout.trim().split("\n").at(-1)).toMatch(/, 0 entries, partial \(stopped by corrupt data\)$/);
    expect(proxy.requests.filter((q) => q.path.endsWith(digest)).length).toBe(6);
  });

  test("cat says when it stopped before the end; --verify reads on and says verified", async () => {
    proxy.rule = () => undefined;
    const quick = await runCli(["cat", image(), "/etc/motd"]);
    expect(quick.code).toBe(0);
    expect(quick.stdout).toBe("hello from layer 0\n");
    expect(quick.stderr).toContain("; unverified: stopped before the end of the layer (--verify reads on and checks it)");
    const checked = await runCli(["cat", image(), "/etc/motd", "--verify"]);
    expect(checked.code).toBe(0);
    expect(checked.stdout).toBe("hello from layer 0\n");
    expect(checked.stderr).toMatch(/, layer verified\n$/);
    // The whole layer (plus the small tail read that looks for a TOC).
    expect(checked.stderr).toMatch(new RegExp(`from layer 0, downloaded [\\d.]+K of ${humanSize(img.layers[0]!.size)} \\(10\\d\\.\\d%\\)`));
  });

  test("cat of a file in a layer that arrived whole: verified without --verify; a bad byte after the file is exit 7, -o leaves nothing", async () => {
    proxy.rule = () => undefined;
    const whole = await runCli(["cat", image(), "/opt/tool", "--no-cache"]);
    expect(whole.code).toBe(0);
    expect(whole.stdout).toBe("tool\n");
    expect(whole.stderr).toMatch(new RegExp(`from layer 1, downloaded ${humanSize(img.layers[1]!.size)} of ${humanSize(img.layers[1]!.size)} \\(100\\.0%\\), layer verified\n$`));
    // The end-of-archive blocks are after the file: the file's bytes are intact, the blob is not.
    flipBlobByte(1, img.layers[1]!.size - 1);
    const dir = tmp();
    const bad = await runCli(["cat", image(), "/opt/tool", "--no-cache", "-o", join(dir, "tool")]);
    expect(bad.code).toBe(7);
    expect(errorLine(bad)).toMatch(/^layerslayer: layer 1: .*: the blob's bytes hash to sha256:[0-9a-f]{64}, not its digest$/);
    expect(readdirSync(dir)).toEqual([]);
  });

  test("cat --verify -o of a file whose layer does not verify: exit 7, no file, no temp file", async () => {
    flipBlobByte(0, img.layers[0]!.size - 8);
    const dir = tmp();
    const out = join(dir, "motd");
    const r = await runCli(["cat", image(), "/etc/motd", "--verify", "-o", out]);
    expect(r.code).toBe(7);
    expect(errorLine(r)).toMatch(/CRC32 mismatch|the blob's bytes hash to sha256:/);
    expect(readdirSync(dir)).toEqual([]);
    // Without --verify the file's own bytes are intact and written, and the summary says unverified.
    const plain = await runCli(["cat", image(), "/etc/motd", "-o", out]);
    expect(plain.code).toBe(0);
    expect(readFileSync(out, "utf8")).toBe("hello from layer 0\n");
    expect(plain.stderr).toContain("unverified");
  });

  test("cat reads an upper layer whole to look past it: a bad byte there is exit 7, -o leaves nothing", async () => {
    flipBlobByte(1, img.layers[1]!.size - 1);
    const dir = tmp();
    const r = await runCli(["cat", image(), "/etc/motd", "-o", join(dir, "motd")]);
    expect(r.code).toBe(7);
    expect(errorLine(r)).toContain("the blob's bytes hash to");
    expect(existsSync(join(dir, "motd"))).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });
});
