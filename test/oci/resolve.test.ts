import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LayerslayerError } from "../../src/errors.ts";
import type { Progress } from "../../src/layer/progress.ts";
import { resolveImage } from "../../src/oci/resolve.ts";
import { parseReference } from "../../src/ref/reference.ts";
import { RegistryClient } from "../../src/registry/client.ts";
import { RegistrySource } from "../../src/source/registry.ts";
import { errorLine, runCli } from "../support/cli.ts";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy.ts";
import { layerFrom, pushImage, pushIndex, type PushedImage } from "../support/fixtures.ts";
import { useRegistry } from "../support/registry.ts";

/**
 * --platform on a single-platform image (no index): the platform its config declares must match,
 * as an index entry's must; otherwise exit 4 naming the image's platform. Real registry.
 */
describe("--platform on a single-platform image", () => {
  const reg = useRegistry();
  let dir: string;
  const layer = layerFrom([{ path: "etc/arch", content: "x\n" }]);
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "ls-platform-"));
    await pushImage(reg, "p/amd", "v1", { layers: [{ bytes: layer }] }); // linux/amd64
    await pushImage(reg, "p/arm64", "v1", { layers: [{ bytes: layer }], platform: { os: "linux", architecture: "arm64" } });
    await pushImage(reg, "p/armv7", "v1", { layers: [{ bytes: layer }], platform: { os: "linux", architecture: "arm", variant: "v7" } });
    await pushImage(reg, "p/windows", "v1", { layers: [{ bytes: layer }], platform: { os: "windows", architecture: "amd64" } });
    await pushImage(reg, "p/odd", "v1", { layers: [{ bytes: layer }], platform: { os: "linux\x1b[31m", architecture: "amd64\u202e" } });
    // A config that declares no platform at all.
    await pushImage(reg, "p/none", "v1", { layers: [{ bytes: layer }], config: { architecture: undefined, os: undefined } });
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
  });

  const mismatches: [string, string, string][] = [
    ["p/amd", "linux/arm64", "linux/amd64"],
    ["p/amd", "windows/amd64", "linux/amd64"],
    ["p/amd", "linux/amd64/v3", "linux/amd64"],
    ["p/arm64", "linux/amd64", "linux/arm64"],
    ["p/arm64", "linux/arm64/v9", "linux/arm64"],
    ["p/armv7", "linux/arm/v6", "linux/arm/v7"],
    ["p/armv7", "linux/arm64", "linux/arm/v7"],
    ["p/windows", "linux/amd64", "windows/amd64"],
    ["p/odd", "linux/amd64", "linux\\x1b[31m/amd64\\u202e"],
  ];
  for (const [repo, asked, is] of mismatches) {
    test(`${repo} asked as ${asked}: exit 4, "the image is ${is} only"`, async () => {
      const r = await runCli(["inspect", `${reg.host}/${repo}:v1`, "--platform", asked]);
      expect(r.code).toBe(4);
      expect(errorLine(r)).toBe(`layerslayer: ${reg.host}/${repo}:v1: no image for platform ${asked}; the image is ${is} only`);
      expect(r.stdout).toBe("");
    });
  }

  const matches: [string, string, string][] = [
    ["p/amd", "linux/amd64", "linux/amd64"],
    ["p/arm64", "linux/arm64", "linux/arm64"],
    ["p/arm64", "linux/arm64/v8", "linux/arm64"], // v8 is arm64's default variant
    ["p/armv7", "linux/arm", "linux/arm/v7"],
    ["p/armv7", "linux/arm/v7", "linux/arm/v7"],
    ["p/none", "linux/s390x", "unknown"], // nothing declared: nothing to check against
  ];
  for (const [repo, asked, shown] of matches) {
    test(`${repo} asked as ${asked}: used (platform ${shown})`, async () => {
      const r = await runCli(["inspect", `${reg.host}/${repo}:v1`, "--platform", asked, "--json"]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).platform).toBe(shown);
    });
  }

  test("every command that resolves an image says the same (ls, cat, peek, history, manifest, config, save)", async () => {
    const image = `${reg.host}/p/amd:v1`;
    const line = `layerslayer: ${image}: no image for platform linux/arm64; the image is linux/amd64 only`;
    const out = join(dir, "save");
    for (const args of [
      ["ls", image, "/etc"],
      ["cat", image, "/etc/arch"],
      ["peek", image],
      ["history", image],
      ["manifest", image],
      ["config", image],
      ["save", image, "-o", out],
    ]) {
      const r = await runCli([...args, "--platform", "linux/arm64"]);
      expect(r.code).toBe(4);
      expect(errorLine(r)).toBe(line);
      expect(r.stdout).toBe("");
      const ok = await runCli([...args, "--platform", "linux/amd64"]);
      expect(ok.code).toBe(0);
    }
  });

  test("scan records the mismatch as a failure with NOT_FOUND (exit 4)", async () => {
    const r = await runCli(["scan", `${reg.host}/p/amd:v1`, "--platform", "linux/arm64", "--json", "--db", join(dir, "db.sqlite")]);
    expect(r.code).toBe(4);
    const rec = JSON.parse(r.stdout.trim());
    expect(rec.error).toEqual({ code: "NOT_FOUND", message: `${reg.host}/p/amd:v1: no image for platform linux/arm64; the image is linux/amd64 only` });
  });
});

/**
 * The documents an image is made of are read like its layers: each read takes the signal (a stalled
 * manifest or config read ends with ABORTED at once) and reports its bytes as progress events.
 * The fault proxy stalls the answer part way through its body.
 */
describe("cancelling the manifest and config reads", () => {
  let proxy: FaultProxy;
  let img: PushedImage;
  let index: { digest: string; bytes: string };
  useRegistry({}, async (r) => {
    img = await pushImage(r, "slow/app", "v1", {
      layers: [{ bytes: layerFrom([{ path: "etc/hostname", content: "box\n" }]) }],
      // A config big enough that part of it arrives before the stall.
      config: { config: { Labels: { padding: "x".repeat(20_000) } } },
    });
    index = await pushIndex(r, "slow/app", "multi", [{ image: img, platform: { os: "linux", architecture: "amd64" } }]);
    proxy = startFaultProxy(r.url);
  });
  afterAll(() => proxy?.stop());

  /** Resolves the image through the proxy; `stall` picks the answer that stops after 64 bytes. */
  async function cancelWhileStalled(stall: (path: string) => boolean): Promise<{ error: unknown; ms: number; events: Progress[] }> {
    proxy.rule = (req) => (req.method === "GET" && stall(new URL(req.url).pathname) ? { kind: "stall", afterBytes: 64 } : undefined);
    const controller = new AbortController();
    const events: Progress[] = [];
    const source = new RegistrySource(new RegistryClient(), parseReference(`${proxy.host}/slow/app:v1`));
    const resolving = resolveImage(source, undefined, { signal: controller.signal, onProgress: (p) => events.push(p) }).then(
      () => undefined,
      (e: unknown) => e,
    );
    // The stalled answer's first bytes are in: the read waits for the rest, which never comes.
    for (let i = 0; i < 200 && !events.some((e) => !e.done && e.downloaded >= 64); i++) await Bun.sleep(25);
    expect(events.some((e) => !e.done && e.downloaded >= 64)).toBe(true);
    const t0 = performance.now();
    controller.abort();
    const error = await resolving;
    return { error, ms: performance.now() - t0, events };
  }

  test("a stalled manifest read: ABORTED within 100 ms, its bytes reported as they came", async () => {
    const { error, ms, events } = await cancelWhileStalled((path) => path.includes("/manifests/"));
    expect(error).toBeInstanceOf(LayerslayerError);
    expect((error as LayerslayerError).code).toBe("ABORTED");
    expect(ms).toBeLessThan(100);
    expect(events.at(-1)).toMatchObject({ document: "manifest", layer: -1, downloaded: 64, decoded: 64, entries: 0, done: false });
    expect(events.some((e) => e.done)).toBe(false);
  });

  test("a stalled config read: ABORTED within 100 ms, after the manifest's final event", async () => {
    const { error, ms, events } = await cancelWhileStalled((path) => path.endsWith(`/blobs/${img.configDigest}`));
    expect((error as LayerslayerError).code).toBe("ABORTED");
    expect(ms).toBeLessThan(100);
    const manifestDone = events.find((e) => e.document === "manifest" && e.done);
    expect(manifestDone?.downloaded).toBe(img.size);
    expect(events.at(-1)).toMatchObject({ document: "config", digest: img.configDigest, size: new TextEncoder().encode(img.config).byteLength, downloaded: 64, done: false });
  });

  test("unstalled, every document's last event has done and its whole size", async () => {
    proxy.rule = () => undefined;
    const events: Progress[] = [];
    const source = new RegistrySource(new RegistryClient(), parseReference(`${proxy.host}/slow/app:v1`));
    const resolved = await resolveImage(source, undefined, { onProgress: (p) => events.push(p) });
    const done = events.filter((e) => e.done).map((e) => [e.document, e.downloaded]);
    expect(done).toEqual([
      ["manifest", resolved.manifest.bytes.byteLength],
      ["config", resolved.configBytes.byteLength],
    ]);
  });

  test("an index: its last event says index, then the manifest it chose and the config", async () => {
    proxy.rule = () => undefined;
    const events: Progress[] = [];
    const source = new RegistrySource(new RegistryClient(), parseReference(`${proxy.host}/slow/app:multi`));
    await resolveImage(source, { os: "linux", architecture: "amd64" }, { onProgress: (p) => events.push(p) });
    const done = events.filter((e) => e.done).map((e) => [e.document, e.digest, e.downloaded]);
    expect(done).toEqual([
      ["index", index.digest, new TextEncoder().encode(index.bytes).byteLength],
      ["manifest", img.digest, img.size],
      ["config", img.configDigest, new TextEncoder().encode(img.config).byteLength],
    ]);
  });
});
