import { describe, expect, test } from "bun:test";
import { parseReference } from "../../src/ref/reference.ts";
import { DEFAULT_CONNECTIONS } from "../../src/registry/client.ts";
import { checkRegistry, isLoopbackHost, parseListen, serveConfig } from "../../src/serve/config.ts";
import { ServeCore } from "../../src/serve/core.ts";

const TOKEN = "0123456789abcdef0123";

describe("serveConfig", () => {
  test("listen addresses", () => {
    expect(parseListen("127.0.0.1:8080")).toEqual({ hostname: "127.0.0.1", port: 8080 });
    expect(parseListen("[::1]:9")).toEqual({ hostname: "::1", port: 9 });
    expect(parseListen(":8080")).toEqual({ hostname: "0.0.0.0", port: 8080 });
    expect(() => parseListen("8080")).toThrow(/HOST:PORT/);
    expect(() => parseListen("a:70000")).toThrow(/HOST:PORT/);
  });

  test("loopback is 127.0.0.0/8, ::1 and localhost; anything else needs a token", () => {
    for (const h of ["127.0.0.1", "127.0.0.2", "::1", "localhost"]) expect(isLoopbackHost(h)).toBe(true);
    for (const h of ["0.0.0.0", "::", "10.0.0.1", "example.com"]) expect(isLoopbackHost(h)).toBe(false);
    expect(serveConfig({ listen: "127.0.0.2:1" }, {}).loopbackOnly).toBe(true);
    expect(() => serveConfig({ listen: "[::]:1" }, {})).toThrow(/bearer token/);
    expect(serveConfig({ listen: "[::]:1" }, { LAYERSLAYER_SERVE_TOKEN: `${TOKEN}\n` }).token).toBe(TOKEN);
    expect(() => serveConfig({ tokenFile: "/nonexistent/token" }, {})).toThrow(/--token-file/);
  });

  test("the allow-list", () => {
    const cfg = serveConfig({ allowRegistry: ["Registry.Example:5000,docker.io", "quay.io"] }, {});
    expect([...cfg.allowRegistries]).toEqual(["registry.example:5000", "docker.io", "quay.io"]);
    checkRegistry(cfg, "registry.example:5000");
    expect(() => checkRegistry(cfg, "ghcr.io")).toThrow("registry ghcr.io is not in the allow-list by --allow-registry");
    // On loopback without a list: any registry (the address policy still applies).
    checkRegistry(serveConfig({}, {}), "ghcr.io");
    // Beyond loopback without a list: none.
    expect(() => checkRegistry(serveConfig({ listen: "0.0.0.0:1" }, { LAYERSLAYER_SERVE_TOKEN: TOKEN }), "ghcr.io")).toThrow(/--allow-registry/);
  });

  test("CORS takes an origin only", () => {
    expect(serveConfig({ cors: "https://a.example" }, {}).cors).toBe("https://a.example");
    expect(() => serveConfig({ cors: "https://a.example/path" }, {})).toThrow(/origin/);
    expect(() => serveConfig({ cors: "*" }, {})).toThrow(/origin/);
  });

  test("--connections reaches the registry clients of the core (whole-layer reads use that many)", () => {
    const ref = parseReference("127.0.0.1:5000/team/app:v1");
    const cfg = (connections?: number) => serveConfig({ allowRegistry: ["127.0.0.1:5000"], cache: false, ...(connections !== undefined ? { connections } : {}) }, {});
    expect(new ServeCore(cfg(1)).source(ref).connections).toBe(1);
    expect(new ServeCore(cfg(3)).source(ref).connections).toBe(3);
    expect(new ServeCore(cfg()).source(ref).connections).toBe(DEFAULT_CONNECTIONS);
  });
});
