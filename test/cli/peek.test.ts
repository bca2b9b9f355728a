import { beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { runCli } from "../support/cli.ts";
import { startConfigHolder } from "../support/config-holder.ts";
import { layerFrom, pushImage, type PushedImage } from "../support/fixtures.ts";
import { useRegistry } from "../support/registry.ts";
import { concat, header } from "../tar/helpers.ts";

describe("peek on a real registry", () => {
  const reg = useRegistry();
  let img: PushedImage;
  beforeAll(async () => {
    const many = Array.from({ length: 400 }, (_, i) => ({
      path: `usr/lib/mod-${String(i).padStart(4, "0")}.so`,
      content: new Uint8Array(4000).map((_, j) => (i * 31 + j * 7) & 0xff),
    }));
    img = await pushImage(reg, "peek/app", "v1", {
      layers: [
        {
          bytes: layerFrom([
            { path: "etc/passwd", content: "root:x:0:0::/root:/bin/sh\n" },
            { path: "bin/sh", content: "x", mode: 0o755 },
            { path: "bin/evil\x1b[31mred\nname", content: "" },
            { path: "bin/su", content: "s", mode: 0o4755 },
          ]),
        },
        { bytes: layerFrom(many), compression: "zstd" },
        { bytes: layerFrom([{ path: "app/index.js", content: "1" }], { format: "ustar" }), compression: "none" },
      ],
      history: [{ created_by: "ADD rootfs.tar /" }, { created_by: "RUN build libs" }, { created_by: "COPY . /app" }],
    });
    // A highly compressible layer: one 2 GiB file of zeros in ~2 MB of gzip, made of members
    // (the tar header, then the same 8 MiB-of-zeros member again and again).
    const zeros = Bun.gzipSync(new Uint8Array(8 << 20), { level: 9 });
    const members = [Bun.gzipSync(header({ name: "zeros", size: 256 * (8 << 20) }) as Uint8Array<ArrayBuffer>), ...Array.from({ length: 256 }, () => zeros)];
    await pushImage(reg, "peek/bomb", "v1", { layers: [{ bytes: concat(...members) }] });
  }, 60_000);

  test("all layers, streamed ls -l lines, one stats line each, names escaped", async () => {
    const r = await runCli(["peek", `${reg.host}/peek/app:v1`, "--full"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines.filter((l) => l.startsWith("── layer ")).length).toBe(3);
    expect(lines[0]).toBe(`── layer 0/2 ${img.layers[0]!.digest} (${img.layers[0]!.size})  ADD rootfs.tar /`);
    expect(r.stdout).toMatch(/\n-rwsr-xr-x 0 +0 +1 2024-03-01 12:34 bin\/su\n/);
    expect(r.stdout).toContain("bin/evil\\x1b[31mred\\nname");
    expect(r.stdout).not.toContain("\x1b");
    const stats = lines.filter((l) => l.startsWith("downloaded "));
    expect(stats.length).toBe(3);
    expect(stats[1]).toMatch(/, 403 entries, complete$/); // 400 files, '.', usr, usr/lib
    for (const s of stats) expect(s).toMatch(/ \(100%\), decompressed .*, complete$/);
  });

  test("--json: NDJSON entries and one stats object per layer, nothing else", async () => {
    const r = await runCli(["peek", `${reg.host}/peek/app:v1`, "--json", "--layer", "0", "--full"]);
    const docs = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(docs.every((d) => d.schema === 1)).toBe(true);
    const su = docs.find((d) => d.path === "/bin/su");
    expect(su).toEqual({ schema: 1, layer: 0, path: "/bin/su", type: "file", mode: 0o4755, size: 1, uid: 0, gid: 0, mtime: "2024-03-01T12:34:56Z" });
    const stats = docs.filter((d) => d.stats);
    expect(stats.length).toBe(1);
    expect(stats[0].stats).toMatchObject({
      layer: 0,
      digest: img.layers[0]!.digest,
      layerSize: img.layers[0]!.size,
      bytesDownloaded: img.layers[0]!.size,
      complete: true,
      entries: docs.length - 1,
    });
  });

  test("a small budget lists a part and says partial (budget reached), exact byte count", async () => {
    const r = await runCli(["peek", `${reg.host}/peek/app:v1`, "--layer", "1", "--budget", "16K", "--json"]);
    const docs = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const stats = docs.at(-1).stats;
    expect(stats.bytesDownloaded).toBe(16384);
    expect(stats.complete).toBe(false);
    expect(stats.entries).toBe(docs.length - 1);
    expect(stats.entries).toBeGreaterThan(0);
    expect(stats.entries).toBeLessThan(401);
    const text = await runCli(["peek", `${reg.host}/peek/app:v1`, "--layer", "1", "--budget", "16K"]);
    expect(text.stdout).toMatch(/\ndownloaded 16K of [\d.]+K \([\d.]+%\), decompressed [\d.]+[KM], \d+ entries, partial \(budget reached\)\n$/);
  });

  test("--layer by digest prefix and by negative index", async () => {
    const byDigest = await runCli(["peek", `${reg.host}/peek/app:v1`, "--layer", img.layers[2]!.digest.slice(7, 19), "--json"]);
    expect(byDigest.stdout).toContain('"path":"/app/index.js"');
    const last = await runCli(["peek", `${reg.host}/peek/app:v1`, "-L", "-1", "--json"]);
    expect(last.stdout).toBe(byDigest.stdout);
    const bad = await runCli(["peek", `${reg.host}/peek/app:v1`, "--layer", "7"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe("layerslayer: --layer 7: the image has 3 layers (0-2)\n");
  });

  test("-q: exactly one line per entry on stdout, no heading or summary", async () => {
    const full = await runCli(["peek", `${reg.host}/peek/app:v1`, "--full", "--json"]);
    const entries = full.stdout
      .trim()
      .split("\n")
      .filter((l) => !l.includes('"stats"')).length;
    const quiet = await runCli(["peek", `${reg.host}/peek/app:v1`, "--full", "-q"]);
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).toBe("");
    const lines = quiet.stdout.trimEnd().split("\n");
    expect(lines.length).toBe(entries);
    for (const l of lines) expect(l).toMatch(/^[-dlcbps][-rwxsStT]{9} /);
  });

  test("bad budgets are usage errors", async () => {
    for (const b of ["abc", "0", "-5K"]) {
      const r = await runCli(["peek", `${reg.host}/peek/app:v1`, "--budget", b]);
      expect(r.code).toBe(2);
      expect(r.stderr.split("\n").length).toBe(2);
    }
    expect((await runCli(["peek", `${reg.host}/peek/app:v1`, "--budget", "1K", "--full"])).code).toBe(2);
  });

  test("a gzip bomb costs time up to the budget, never memory", async () => {
    const peakOf = async (budget: string) => {
      const proc = Bun.spawn([process.execPath, "src/cli/main.ts", "peek", `${reg.host}/peek/bomb:v1`, "--budget", budget, "--json", "--no-cache"], {
        stdout: "pipe",
        stderr: "pipe",
        env: { ...process.env, HOME: "/tmp" },
      });
      let peak = 0;
      const poll = setInterval(() => {
        try {
          const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${proc.pid}/status`, "utf8"));
          if (m) peak = Math.max(peak, Number(m[1]) * 1024);
        } catch {}
      }, 20);
      const out = await new Response(proc.stdout).text();
      await proc.exited;
      clearInterval(poll);
      return { peak, stats: JSON.parse(out.trim().split("\n").at(-1)!).stats };
    };
    const small = await peakOf("64K");
    const large = await peakOf("1M");
    expect(large.stats.bytesDownloaded).toBe(1024 * 1024);
    expect(large.stats.bytesDecompressed).toBeGreaterThan(900 * 1024 * 1024);
    expect(small.stats.bytesDecompressed).toBeLessThan(100 * 1024 * 1024);
    expect(large.stats.entries).toBe(1);
    // Ten times the data decoded, about the same memory: it does not follow the amount decoded.
    expect(small.peak).toBeGreaterThan(0);
    expect(large.peak / small.peak).toBeLessThan(1.35);
    expect(large.peak).toBeLessThan(192 * 1024 * 1024);
  });
});

describe("peek reads the layers while the config is read", () => {
  const reg = useRegistry();
  let img: PushedImage;
  beforeAll(async () => {
    img = await pushImage(reg, "peek/early", "v1", {
      layers: [{ bytes: layerFrom([{ path: "etc/os-release", content: "ID=early\n" }]) }, { bytes: layerFrom([{ path: "app/main", content: "x" }]) }],
      history: [{ created_by: "ADD base /" }, { created_by: "COPY app /app" }],
    });
  });

  const configHolder = (failConfig = false) => startConfigHolder(reg.url, img.configDigest, failConfig);

  test("the first layer is asked for before the config's answer; the output is the same, headings and all", async () => {
    const proxy = configHolder();
    try {
      const r = await runCli(["peek", `${proxy.host}/peek/early:v1`, "--no-cache"]);
      expect(r.code).toBe(0);
      expect(proxy.early()).toBe(true);
      const direct = await runCli(["peek", `${reg.host}/peek/early:v1`, "--no-cache"]);
      expect(r.stdout.replaceAll(proxy.host, reg.host)).toBe(direct.stdout);
      expect(r.stdout.split("\n")[0]).toBe(`── layer 0/1 ${img.layers[0]!.digest} (${img.layers[0]!.size})  ADD base /`);
      expect(r.stdout).toContain("  COPY app /app\n");
    } finally {
      proxy.stop();
    }
  }, 30_000);

  test("a config that cannot be read: its error alone, nothing on stdout, the layers' reads stopped", async () => {
    const proxy = configHolder(true);
    try {
      const r = await runCli(["peek", `${proxy.host}/peek/early:v1`, "--no-cache"]);
      expect(r.code).not.toBe(0);
      expect(r.code).not.toBe(1); // a clear error, not a crash
      expect(r.stdout).toBe("");
      const lines = r.stderr.trim().split("\n");
      expect(lines.length).toBe(1);
      expect(lines[0]).toStartWith("layerslayer: ");
      expect(lines[0]).not.toContain("layer 0:");
    } finally {
      proxy.stop();
    }
  }, 30_000);
});
