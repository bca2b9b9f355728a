import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { excluded, proxyFor, proxySettings } from "../../src/registry/proxy.ts";
import { runCli } from "../support/cli.ts";
import { layerFrom, pushImage } from "../support/fixtures.ts";
import { startConnectProxy, startTinyproxy, type TestProxy } from "../support/proxies.ts";
import { useRegistry } from "../support/registry.ts";

describe("proxy choice", () => {
  const settings = proxySettings({
    HTTP_PROXY: "proxy.corp:3128",
    https_proxy: "http://u:p@sproxy:8080",
    NO_PROXY: ".internal, example.com, 10.0.0.0/8, 192.168.1.5, reg.local:5000, [fd00::1]",
  });
  const via = (u: string) => proxyFor(new URL(u), settings);

  test("HTTPS_PROXY for https, HTTP_PROXY for http, a bare host:port is http://", () => {
    expect(via("https://registry.example.org/v2/")).toBe("http://u:p@sproxy:8080");
    expect(via("http://registry.example.org/v2/")).toBe("http://proxy.corp:3128");
    expect(proxyFor(new URL("https://x.org/"), proxySettings({ HTTP_PROXY: "http://p:1" }))).toBeUndefined();
  });
  test("upper case wins over lower case; an empty value is unset", () => {
    expect(proxySettings({ HTTP_PROXY: "http://a:1", http_proxy: "http://b:1" }).http).toBe("http://a:1");
    expect(proxySettings({ HTTP_PROXY: "", http_proxy: "http://b:1" }).http).toBe("http://b:1");
    expect(proxySettings({ HTTPS_PROXY: "" })).toEqual({});
  });
  test("loopback is never proxied, whatever NO_PROXY says", () => {
    for (const u of ["http://127.0.0.1:5000/v2/", "https://127.9.8.7/v2/", "http://localhost:80/", "https://[::1]:5000/v2/"]) {
      expect(proxyFor(new URL(u), proxySettings({ HTTP_PROXY: "http://p:1", HTTPS_PROXY: "http://p:1" }))).toBeUndefined();
    }
  });
  test("NO_PROXY: domains with their subdomains, leading dot for subdomains only, CIDR, IPs, ports", () => {
    expect(via("https://a.b.internal/")).toBeUndefined();
    expect(via("https://internal/")).toBe("http://u:p@sproxy:8080");
    expect(via("https://example.com/")).toBeUndefined();
    expect(via("https://sub.example.com/")).toBeUndefined();
    expect(via("https://notexample.com/")).toBe("http://u:p@sproxy:8080");
    expect(via("https://10.20.30.40/")).toBeUndefined();
    expect(via("https://11.0.0.1/")).toBe("http://u:p@sproxy:8080");
    expect(via("https://192.168.1.5:443/")).toBeUndefined();
    expect(via("https://reg.local:5000/")).toBeUndefined();
    expect(via("https://reg.local/")).toBe("http://u:p@sproxy:8080");
    expect(via("https://[fd00::1]:5000/")).toBeUndefined();
    expect(excluded(new URL("https://anything.org/"), "*")).toBe(true);
    expect(excluded(new URL("https://x.org/"), "*.x.org")).toBe(false);
    expect(excluded(new URL("https://a.x.org/"), "*.x.org")).toBe(true);
    expect(excluded(new URL("https://a.x.org/"), "bad/cidr, 300.1.1.1/8,")).toBe(false);
  });
});

describe("through a real forward proxy", () => {
  const reg = useRegistry();
  const tls = useRegistry({ tls: true });
  let tiny: TestProxy;
  let connect: TestProxy;
  let port: string;
  beforeAll(async () => {
    await pushImage(reg, "px/app", "v1", { layers: [{ bytes: layerFrom([{ path: "etc/proxied", content: "through the proxy" }]) }] });
    await pushImage(tls, "px/app", "v2", { layers: [{ bytes: layerFrom([{ path: "etc/tunnelled", content: "through a tunnel" }]) }] });
    port = reg.host.split(":")[1]!;
    // registry.test resolves nowhere: only the proxies know where it is.
    tiny = await startTinyproxy(".test", reg.host);
    connect = startConnectProxy({ [`registry.test:${tls.host.split(":")[1]}`]: tls.host });
  });
  afterAll(async () => {
    await tiny.stop();
    await connect.stop();
  });

  test("HTTP_PROXY carries every request to a registry only tinyproxy can reach", async () => {
    const r = await runCli(["cat", `registry.test:${port}/px/app:v1`, "/etc/proxied", "--plain-http", "--verbose"], { env: { HTTP_PROXY: tiny.url } });
    expect(r.stdout).toBe("through the proxy");
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`(through ${tiny.url})`);
    expect(tiny.seen()).toContain(`GET http://registry.test:${port}/v2/px/app/manifests/v1 HTTP/1.1`);
    expect(tiny.seen().some((l) => l.includes("/blobs/sha256:"))).toBe(true);
  });

  test("HTTPS_PROXY tunnels TLS with CONNECT; lower-case names work too", async () => {
    const tlsPort = tls.host.split(":")[1]!;
    const r = await runCli(["cat", `registry.test:${tlsPort}/px/app:v2`, "/etc/tunnelled", "--insecure"], { env: { https_proxy: connect.url } });
    expect(r.stdout).toBe("through a tunnel");
    expect(r.code).toBe(0);
    expect(connect.seen()).toContain(`registry.test:${tlsPort}`);
  });

  test("a loopback registry is reached directly even when the proxy is dead", async () => {
    const r = await runCli(["tags", `${reg.host}/px/app`], { env: { HTTP_PROXY: "http://127.0.0.1:1", HTTPS_PROXY: "http://127.0.0.1:1" } });
    expect(r.stdout).toBe("v1\n");
  });

  test("a proxy that refuses connections is named in the error, without its credentials", async () => {
    const r = await runCli(["tags", `registry.test:${port}/px/app`, "--plain-http"], { env: { HTTP_PROXY: "http://user:secret@127.0.0.1:1" } });
    expect(r.code).toBe(6);
    expect(r.stderr).toBe(`layerslayer: cannot reach registry.test:${port} through the proxy http://127.0.0.1:1: connection refused\n`);
  });
});
