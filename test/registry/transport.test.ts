import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { LayerslayerError } from "../../src/errors.ts";
import { parseReference } from "../../src/ref/reference.ts";
import { RegistryClient } from "../../src/registry/client.ts";
import { errorLine, runCli } from "../support/cli.ts";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy.ts";
import { layerFrom, pushImage, type PushedImage } from "../support/fixtures.ts";
import { useRegistry } from "../support/registry.ts";

describe("manifests and configs cut short, reset, or rate limited with a date (proxy in front of the real registry)", () => {
  const reg = useRegistry();
  let proxy: FaultProxy;
  let img: PushedImage;
  beforeAll(async () => {
    img = await pushImage(reg, "b/app", "v1", { layers: [{ bytes: layerFrom([{ path: "etc/motd", content: "hi\n" }]) }] });
    proxy = startFaultProxy(reg.url);
  });
  afterAll(async () => {
    proxy.stop();
  });

  test("a manifest cut short twice is fetched again and read whole", async () => {
    let cuts = 0;
    proxy.rule = (req) => (req.url.includes("/manifests/") && cuts++ < 2 ? { kind: "cut", afterBytes: 50 } : undefined);
    const r = await runCli(["manifest", `${proxy.host}/b/app:v1`]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).config.digest).toBe(img.configDigest);
    expect(cuts).toBe(3);
  });

  test("a manifest cut short every time: exit 6, one line, no internal error; --verbose shows the cause, no stack", async () => {
    proxy.rule = (req) => (req.url.includes("/manifests/") ? { kind: "cut", afterBytes: 50 } : undefined);
    const v = await runCli(["manifest", `${proxy.host}/b/app:v1`, "--verbose"]);
    expect(v.code).toBe(6);
    const lines = v.stderr.trimEnd().split("\n");
    expect(lines.at(-2)).toMatch(new RegExp(`^layerslayer: ${proxy.host}/b/app:v1 manifest: the transfer broke off after 50 of \\d+ bytes$`));
    expect(lines.at(-1)).toMatch(/^  cause: .*closed unexpectedly/);
    expect(v.stderr).not.toMatch(/^\s+at /m);
    expect(v.stderr).not.toContain("internal error");
  });

  test("a config reset mid-body every time: exit 6, one line", async () => {
    proxy.rule = (req) => (req.url.includes(`/blobs/${img.configDigest}`) ? { kind: "reset", afterBytes: 20 } : undefined);
    const r = await runCli(["config", `${proxy.host}/b/app:v1`]);
    expect(r.code).toBe(6);
    expect(errorLine(r)).toContain(`@${img.configDigest} (image config): the transfer broke off after 20 of`);
  });

  test("a config that stalls and is then served is read (the headers timeout is not the body's)", async () => {
    let resets = 0;
    proxy.rule = (req) => (req.url.includes(`/blobs/${img.configDigest}`) && resets++ === 0 ? { kind: "reset", afterBytes: 0 } : undefined);
    const r = await runCli(["config", `${proxy.host}/b/app:v1`]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).rootfs.type).toBe("layers");
  });

  test("Retry-After as an HTTP date is waited for, then the request is retried", async () => {
    let hits = 0;
    // HTTP dates have whole seconds: two seconds ahead is a wait of more than one.
    const when = new Date(Math.ceil(Date.now() / 1000) * 1000 + 2000).toUTCString();
    proxy.rule = (req) => (req.url.includes("/manifests/") && hits++ === 0 ? { kind: "status", status: 503, headers: { "Retry-After": when } } : undefined);
    const started = performance.now();
    const m = await new RegistryClient({ retries: 2, retryBaseMs: 1 }).fetchManifest(parseReference(`${proxy.host}/b/app:v1`));
    expect(m.digest).toBe(img.digest);
    expect(hits).toBe(2);
    expect(performance.now() - started).toBeGreaterThanOrEqual(1000);
  });

  test("Retry-After as a date in the past is retried at once; a far date gives up with the date in the message", async () => {
    let hits = 0;
    proxy.rule = (req) =>
      req.url.includes("/manifests/") && hits++ === 0 ? { kind: "status", status: 429, headers: { "Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT" } } : undefined;
    expect((await new RegistryClient({ retries: 2, retryBaseMs: 1 }).fetchManifest(parseReference(`${proxy.host}/b/app:v1`))).digest).toBe(img.digest);
    const far = new Date(Date.now() + 86_400_000).toUTCString();
    proxy.rule = (req) => (req.url.includes("/manifests/") ? { kind: "status", status: 429, headers: { "Retry-After": far } } : undefined);
    const r = await runCli(["manifest", `${proxy.host}/b/app:v1`]);
    expect(r.code).toBe(5);
    expect(errorLine(r)).toBe(`layerslayer: ${proxy.host}/b/app:v1: rate limited by the registry; retry after ${far}`);
  });

  test("a registry error body with control characters is printed escaped on one line", async () => {
    const body = JSON.stringify({ errors: [{ code: "DENIED", message: "no\x1b[2J\nway\r" }] });
    proxy.rule = (req) => (req.url.includes("/manifests/") ? { kind: "status", status: 404, body } : undefined);
    const r = await runCli(["manifest", `${proxy.host}/b/app:v1`]);
    expect(r.code).toBe(4);
    expect(errorLine(r)).toBe(`layerslayer: ${proxy.host}/b/app:v1: not found (DENIED: no\\x1b[2J\\nway\\r)`);
  });

  test("the library gives the same typed error (never a TypeError) for a body that breaks off", async () => {
    proxy.rule = (req) => (req.url.includes("/manifests/") ? { kind: "reset", afterBytes: 5 } : undefined);
    const err = await new RegistryClient({ retries: 1, retryBaseMs: 1 }).fetchManifest(parseReference(`${proxy.host}/b/app:v1`)).catch((e) => e);
    expect(err).toBeInstanceOf(LayerslayerError);
    expect((err as LayerslayerError).code).toBe("NETWORK");
  });
});
