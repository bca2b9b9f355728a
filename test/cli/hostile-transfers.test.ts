/**
 * Transfers a hostile or broken registry makes fail, through the CLI: every read ends within a
 * bounded number of requests (counted at the proxy), with one line and the right exit code.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MAX_FAULTS_PER_BLOB } from "../../src/blob/allowance.ts";
import { TAIL_BYTES } from "../../src/toc/footer.ts";
import { noise } from "../support/bytes.ts";
import { syntheticLayer } from "../support/synthetic-tar.ts";
import { errorLine, runCli } from "../support/cli.ts";
import { startFaultProxy, type Fault, type FaultProxy } from "../support/fault-proxy.ts";
import { layerFrom, pushImage, type PushedImage } from "../support/fixtures.ts";
import { useRegistry } from "../support/registry.ts";

/** The stats line of each layer in `peek --json` output (NDJSON). */
function peekStats(stdout: string): { bytesDownloaded: number; complete: boolean }[] {
  return stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l))
    .filter((d) => d.stats)
    .map((d) => d.stats);
}

// One real registry and one fault proxy in front of it for the whole file; each part pushes its image.
const reg = useRegistry();
let proxy: FaultProxy;
beforeAll(async () => {
  proxy = startFaultProxy(reg.url);
});
afterAll(async () => {
  proxy.stop();
});

describe("a registry that breaks every answer for a layer", () => {
  let img: PushedImage;
  let dir: string;
  beforeAll(async () => {
    // 12 MB: an allowance that grew with the position would let the tail probe make 17 requests.
    img = await pushImage(reg, "h/app", "v1", {
      layers: [
        {
          bytes: layerFrom([
            { path: "etc/motd", content: "hello\n" },
            { path: "big", content: noise(12_000_000, 9) },
          ]),
        },
      ],
    });
    dir = mkdtempSync(join(tmpdir(), "ls-hostile-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const image = () => `${proxy.host}/h/app:v1`;
  const layerGets = () => proxy.requests.filter((q) => q.path.endsWith(`/blobs/${img.layers[0]!.digest}`));
  const breakLayer = (fault: Fault) => {
    proxy.requests.length = 0;
    proxy.rule = (req) => (req.url.endsWith(`/blobs/${img.layers[0]!.digest}`) ? fault : undefined);
  };
  const faults: [string, Fault][] = [
    ["resets right after the headers", { kind: "reset", afterBytes: 0 }],
    ["resets after a few bytes", { kind: "reset", afterBytes: 7 }],
    ["closes the body early", { kind: "cut", afterBytes: 3 }],
  ];

  for (const [how, fault] of faults) {
    test(`peek --full when it ${how}: exit 6 after one allowance of requests, the tail probe's and the read's together`, async () => {
      breakLayer(fault);
      const r = await runCli(["peek", image(), "--full"]);
      expect(r.code).toBe(6);
      expect(errorLine(r)).toMatch(/could not be resumed|closing the transfer early/);
      const gets = layerGets();
      // The TOC footer probe (the blob's last bytes) gives up as soon as a read from byte 0 does.
      const size = img.layers[0]!.size;
      const probe = gets.filter((q) => Number(/^bytes=(\d+)-/.exec(q.range ?? "")?.[1]) >= size - TAIL_BYTES);
      expect(probe.length).toBe(MAX_FAULTS_PER_BLOB + 1);
      // The read's first request went out beside the probe; once the probe failed it was closed and
      // the read asked again, drawing on what the probe left: one try, then its own error.
      const reads = gets.filter((q) => q.range === `bytes=0-${size - TAIL_BYTES - 1}` || q.range === "bytes=0-");
      expect(reads.map((q) => q.range)).toEqual([`bytes=0-${size - TAIL_BYTES - 1}`, "bytes=0-"]);
      expect(gets.length).toBe(MAX_FAULTS_PER_BLOB + 3);
    });

    test(`cat -o when it ${how}: exit 6, one line, no file left`, async () => {
      breakLayer(fault);
      const out = join(dir, `motd-${how.replace(/\W+/g, "-")}`);
      const r = await runCli(["cat", image(), "/etc/motd", "-o", out]);
      expect(r.code).toBe(6);
      errorLine(r);
      expect(existsSync(out)).toBe(false);
      expect(readdirSync(dir).filter((n) => n.includes(out.split("/").at(-1)!))).toEqual([]);
      expect(layerGets().length).toBeLessThanOrEqual(MAX_FAULTS_PER_BLOB + 2);
    });
  }

  test("peek --full when every connection is reset before an answer: exit 6, one line, bounded", async () => {
    breakLayer({ kind: "drop" });
    const started = performance.now();
    const r = await runCli(["peek", image(), "--full"]);
    const ms = performance.now() - started;
    expect(r.code).toBe(6);
    expect(errorLine(r)).toContain("connection closed unexpectedly");
    // The probe's tries, the read's request beside them, and the read's own once the probe failed.
    expect(layerGets().length).toBe(MAX_FAULTS_PER_BLOB + 3);
    // One allowance: its backoff (100 ms doubling, capped at 10 s) once, not twice.
    // One allowance's backoff (~7 s here), where the probe's and then the read's took ~16 s.
    expect(ms).toBeLessThan(12_000);
  }, 60_000);

  afterAll(() => void (proxy.rule = () => undefined));
});

describe("download counts never exceed the layer", () => {
  let img: PushedImage;
  beforeAll(async () => {
    img = await pushImage(reg, "c/app", "v1", {
      layers: [
        // under TAIL_BYTES, a few hundred bytes (read whole by the first request), past the first 64 KiB range
        { bytes: await syntheticLayer([{ path: "a", size: 1 }]) },
        {
          bytes: layerFrom([
            { path: "etc/motd", content: "hello\n" },
            { path: "etc/x", content: "x".repeat(300) },
          ]),
        },
        {
          bytes: layerFrom([
            { path: "etc/issue", content: "hi\n" },
            { path: "opt/blob", content: noise(300_000, 4) },
          ]),
        },
      ],
    });
  });
  const image = () => `${proxy.host}/c/app:v1`;
  /** Each layer's first answer is cut short (then a resume), or the registry ignores Range, or both. */
  const conditions: [string, () => void][] = [
    ["a registry that behaves", () => void (proxy.rule = () => undefined)],
    ["a registry that ignores Range", () => void (proxy.rule = (req) => (req.url.includes("/blobs/") ? { kind: "ignoreRange" } : undefined))],
    [
      "a transfer cut once, then a registry that ignores Range",
      () => {
        const seen = new Set<string>();
        proxy.rule = (req) => {
          if (!req.url.includes("/blobs/")) return undefined;
          if (seen.has(req.url)) return { kind: "ignoreRange" };
          seen.add(req.url);
          return { kind: "cut", afterBytes: 40 };
        };
      },
    ],
  ];
  const small = () => img.layers.map((l) => l.size);
  test("the fixture has a layer under the tail probe's size, one of a few hundred bytes, one past 64 KiB", () => {
    expect(small()[0]!).toBeLessThan(TAIL_BYTES);
    expect(small()[1]!).toBeGreaterThan(TAIL_BYTES);
    expect(small()[2]!).toBeGreaterThan(65_536);
  });
  for (const [name, setup] of conditions) {
    test(`peek --full, ${name}: every layer downloaded once, exactly its size`, async () => {
      setup();
      const r = await runCli(["peek", image(), "--full", "--json"]);
      expect(r.code).toBe(0);
      const stats = peekStats(r.stdout);
      expect(stats.map((s) => [s.bytesDownloaded, s.complete])).toEqual(img.layers.map((l) => [l.size, true]));
    });
    for (const [layer, path] of [
      [0, "/a"],
      [1, "/etc/motd"],
      [2, "/etc/issue"],
    ] as const) {
      test(`cat --verify of a file in layer ${layer}, ${name}: downloaded exactly the layer`, async () => {
        setup();
        const out = join(mkdtempSync(join(tmpdir(), "ls-count-")), "f");
        const r = await runCli(["cat", image(), path, "--verify", "--json", "-o", out]);
        expect(r.code).toBe(0);
        const doc = JSON.parse(r.stdout);
        expect(doc.layer).toBe(layer);
        expect(doc.verified).toBe(true);
        expect(doc.bytesDownloaded).toBe(img.layers[layer]!.size);
        rmSync(out, { force: true });
      });
    }
  }
  afterAll(() => void (proxy.rule = () => undefined));
});

describe("a registry that ignores Range", () => {
  let img: PushedImage;
  beforeAll(async () => {
    // Incompressible, so each layer is as large on the wire as it is on disk (8 MB).
    const layer = (seed: number) => ({
      bytes: layerFrom([
        { path: `etc/l${seed}`, content: "x\n" },
        { path: `opt/b${seed}`, content: noise(8_000_000, seed) },
      ]),
    });
    img = await pushImage(reg, "r/app", "v1", { layers: [layer(1), layer(2)] });
  });
  const blobGets = () => proxy.requests.filter((q) => q.path.includes("/blobs/") && img.layers.some((l) => q.path.endsWith(l.digest)));

  for (const budget of ["64K", "256K"]) {
    test(`peek --budget ${budget} of every layer: one warning for the run, and the proxy sends little more than the budget`, async () => {
      proxy.requests.length = 0;
      proxy.paceBytes = 16 * 1024;
      proxy.paceMs = 5;
      proxy.rule = (req) => (req.url.includes("/blobs/") ? { kind: "ignoreRange" } : undefined);
      const r = await runCli(["peek", `${proxy.host}/r/app:v1`, "--budget", budget, "--json"]);
      proxy.paceBytes = 0;
      expect(r.code).toBe(0);
      const warnings = r.stderr.split("\n").filter((l) => l.startsWith("layerslayer: warning:"));
      expect(warnings).toEqual([
        `layerslayer: warning: ${proxy.host} ignores Range requests and sends whole blobs: reading stops at the budget, but every read starts at a blob's first byte`,
      ]);
      const bytes = Number.parseInt(budget) * 1024;
      const stats = peekStats(r.stdout);
      expect(stats.map((s) => s.bytesDownloaded)).toEqual([bytes, bytes]);
      const gets = blobGets();
      expect(gets.length).toBe(2);
      // What the client took off the wire before it cancelled: the budget and what the HTTP client
      // read ahead meanwhile (a few hundred KiB on a busy machine), not the 8 MB layer.
      for (const g of gets) {
        expect(g.bodyBytesSent).toBeGreaterThanOrEqual(bytes);
        expect(g.bodyBytesSent).toBeLessThan(bytes + 1024 * 1024);
      }
    });
  }

  test("a registry that honours Range: no warning", async () => {
    proxy.rule = () => undefined;
    const r = await runCli(["peek", `${proxy.host}/r/app:v1`, "--budget", "64K"]);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain("warning");
  });
  afterAll(() => void (proxy.rule = () => undefined));
});
