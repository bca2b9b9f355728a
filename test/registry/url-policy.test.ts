import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { errorLine, runCli } from "../support/cli.ts";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy.ts";
import { layerFrom, pushImage, type PushedImage } from "../support/fixtures.ts";
import { useRegistry } from "../support/registry.ts";

const SCHEMES = ["file:///etc/passwd", "data:text/plain,root:x:0:0", "s3://bucket/key", "ftp://127.0.0.1/x", "javascript:alert(1)"];

describe("only http and https are fetched (through a hostile proxy in front of the real registry)", () => {
  const reg = useRegistry();
  let proxy: FaultProxy;
  let img: PushedImage;
  beforeAll(async () => {
    img = await pushImage(reg, "h/app", "v1", { layers: [{ bytes: layerFrom([{ path: "etc/motd", content: "hi\n" }]) }] });
    proxy = startFaultProxy(reg.url);
  });
  afterAll(async () => {
    proxy.stop();
  });

  test("a redirect of the manifest to another scheme: exit 6, one line, nothing of the target read", async () => {
    for (const target of SCHEMES) {
      proxy.rule = (req) => (req.url.includes("/manifests/") ? { kind: "status", status: 307, headers: { Location: target } } : undefined);
      const r = await runCli(["manifest", `${proxy.host}/h/app:v1`]);
      expect(r.code).toBe(6);
      const scheme = target.slice(0, target.indexOf(":") + 1);
      expect(errorLine(r)).toBe(`layerslayer: ${proxy.host}: redirect: refusing a ${scheme} URL (only http and https are fetched)`);
      expect(r.stdout).toBe("");
    }
  });

  test("a redirect of the config blob to file: is refused the same way (exit 6)", async () => {
    proxy.rule = (req) => (req.url.includes(`/blobs/${img.configDigest}`) ? { kind: "status", status: 302, headers: { Location: "file:///etc/passwd" } } : undefined);
    const r = await runCli(["config", `${proxy.host}/h/app:v1`]);
    expect(r.code).toBe(6);
    expect(errorLine(r)).toContain("refusing a file: URL");
    expect(r.stdout).not.toContain("root:");
  });

  test("a relative redirect and a redirect to http(s) are still followed", async () => {
    proxy.rule = (req) => (req.url.includes("/manifests/v1") ? { kind: "status", status: 307, headers: { Location: `${reg.url}/v2/h/app/manifests/${img.digest}` } } : undefined);
    const r = await runCli(["manifest", `${proxy.host}/h/app:v1`]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).config.digest).toBe(img.configDigest);
  });

  test("a token realm with another scheme: exit 3, one line, never opened", async () => {
    for (const realm of SCHEMES) {
      proxy.requests.length = 0;
      proxy.rule = () => ({ kind: "status", status: 401, headers: { "WWW-Authenticate": `Bearer realm="${realm}",service="x"` } });
      const r = await runCli(["manifest", `${proxy.host}/h/app:v1`]);
      expect(r.code).toBe(3);
      const scheme = realm.slice(0, realm.indexOf(":") + 1);
      expect(errorLine(r)).toBe(`layerslayer: ${proxy.host}: token realm: refusing a ${scheme} URL (only http and https are fetched)`);
    }
  });

  test("a token realm that is no URL at all: exit 3 with the realm escaped", async () => {
    proxy.rule = () => ({ kind: "status", status: 401, headers: { "WWW-Authenticate": 'Bearer realm="not a url\tat all",service="x"' } });
    const r = await runCli(["manifest", `${proxy.host}/h/app:v1`]);
    expect(r.code).toBe(3);
    expect(errorLine(r)).toBe(`layerslayer: ${proxy.host}: token realm: "not a url\\tat all" is not a valid URL`);
  });
});

describe("https never steps down to plain http on a redirect", () => {
  const reg = useRegistry({ tls: true, redirect: true });
  beforeAll(async () => {
    // A TLS-only registry whose blob GETs redirect to a plain-HTTP server on another port.
    await pushImage(reg, "d/app", "v1", { layers: [{ bytes: layerFrom([{ path: "etc/motd", content: "hi\n" }]) }] });
  });

  test("a redirect from the https registry to an http host is refused (exit 6)", async () => {
    const r = await runCli(["config", `${reg.host}/d/app:v1`, "--verbose"], { env: { NODE_EXTRA_CA_CERTS: reg.certPath! } });
    expect(r.code).toBe(6);
    expect(r.stderr).toContain(`· ${reg.host} speaks HTTPS only; switching`);
    expect(r.stderr.trim().split("\n").at(-1)).toBe(
      `layerslayer: ${reg.host}: redirect: refusing to go from https to plain http (${reg.redirect!.url}); plain HTTP is allowed only for the registry's own host, with --plain-http`,
    );
    expect(reg.redirect!.requests.length).toBe(0);
  });
});
