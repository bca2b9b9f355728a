/**
 * `serve` is safe to expose: the token beyond loopback, the registry allow-list, no way into
 * loopback, link-local or private addresses (directly, by a name, or by a redirect), no local
 * files, bounded bodies, a flood limited, CORS closed, a log without secrets, and a client that
 * goes away stops the registry reads it caused.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { errorLine, runCli } from "../support/cli.ts";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy.ts";
import { layerFrom, pushImage, type PushedImage } from "../support/fixtures.ts";
import { READER, useRegistry, withRegistry } from "../support/registry.ts";

const dir = mkdtempSync(join(tmpdir(), "ls-serve-sec-"));
process.env.LAYERSLAYER_CACHE_DIR = join(dir, "cache");
const { serveConfig } = await import("../../src/serve/config.ts");
const { startServer } = await import("../../src/serve/server.ts");
type Running = ReturnType<typeof startServer>;

const TOKEN = "s3cret-token-0123456789abcdef";
const BIG = new Uint8Array(24 * 1024 * 1024);
for (let i = 0; i < BIG.length; i += 65536) crypto.getRandomValues(BIG.subarray(i, i + 65536));

const reg = useRegistry();
const redirecting = useRegistry({ redirect: true });
let img: PushedImage;
let ref: string;
const servers: Running[] = [];
const proxies: FaultProxy[] = [];

function serve(flags: Parameters<typeof serveConfig>[0], env: Record<string, string> = {}, log?: (l: string) => void): Running {
  const s = startServer(serveConfig({ listen: "127.0.0.1:0", cache: false, ...flags }, env), log ? { log } : {});
  servers.push(s);
  return s;
}

/** The server's URL by 127.0.0.1, whatever address it listens on. */
const local = (s: Running) => `http://127.0.0.1:${s.server.port}`;
const q = (params: Record<string, string>) => new URLSearchParams(params).toString();

beforeAll(async () => {
  const layers = [
    {
      bytes: layerFrom([
        { path: "etc/os-release", content: "ID=fixture\n" },
        { path: "zz/big.bin", content: BIG },
      ]),
    },
  ];
  img = await pushImage(reg, "sec/app", "v1", { layers });
  await pushImage(redirecting, "sec/app", "v1", { layers });
  ref = `${reg.host}/sec/app:v1`;
});

afterAll(async () => {
  for (const s of servers) await s.stop();
  for (const p of proxies) p.stop();
});

describe("the token", () => {
  test("beyond loopback a token is required to start", async () => {
    expect(() => serveConfig({ listen: "0.0.0.0:0" }, {})).toThrow(/needs a bearer token/);
    const r = await runCli(["serve", "--listen", "0.0.0.0:0"]);
    expect(r.code).toBe(2);
    expect(errorLine(r)).toContain("--token-file");
    expect(() => serveConfig({ listen: "0.0.0.0:0" }, { LAYERSLAYER_SERVE_TOKEN: "short" })).toThrow(/at least 16/);
  });

  test("listening on 0.0.0.0: no token and a wrong token are 401, the right one passes", async () => {
    const file = join(dir, "token");
    writeFileSync(file, `${TOKEN}\n`);
    const lines: string[] = [];
    const s = serve({ listen: "0.0.0.0:0", tokenFile: file, allowRegistry: [reg.host] }, {}, (l) => lines.push(l));
    const url = `${local(s)}/v1/inspect?${q({ ref })}`;
    const none = await fetch(url);
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toStartWith("Bearer");
    expect(((await none.json()) as any).error.code).toBe("UNAUTHORIZED");
    expect((await fetch(url, { headers: { Authorization: `Bearer ${TOKEN}x` } })).status).toBe(401);
    expect((await fetch(url, { headers: { Authorization: `Basic ${btoa(`u:${TOKEN}`)}` } })).status).toBe(401);
    expect((await fetch(url, { headers: { Authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    // The log holds every request, and never the token.
    expect(lines.length).toBe(4);
    expect(lines.join("\n")).not.toContain(TOKEN);
    expect(lines.join("\n")).not.toContain(TOKEN.slice(0, 12));
  });

  test("beyond loopback, a registry outside --allow-registry is refused, naming the flag", async () => {
    const s = serve({ listen: "0.0.0.0:0", allowRegistry: [reg.host] }, { LAYERSLAYER_SERVE_TOKEN: TOKEN });
    const res = await fetch(`${local(s)}/v1/inspect?${q({ ref: "docker.io/library/alpine:3.20" })}`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(403);
    expect(((await res.json()) as any).error.message).toContain("--allow-registry");
    const none = serve({ listen: "0.0.0.0:0" }, { LAYERSLAYER_SERVE_TOKEN: TOKEN });
    const refused = await fetch(`${local(none)}/v1/tags?${q({ repository: "quay.io/x/y" })}`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as any).error.message).toContain("--allow-registry");
  });
});

describe("no way into this machine or its network (SSRF)", () => {
  for (const target of ["127.0.0.1:PORT", "[::1]:PORT", "localhost:PORT", "169.254.169.254", "10.1.2.3:5000", "[fd00::1]:5000", "[::ffff:127.0.0.1]:PORT"]) {
    test(`${target} is refused before any connection`, async () => {
      const s = serve({});
      const port = reg.host.split(":")[1]!;
      const res = await fetch(`${s.url}/v1/inspect?${q({ ref: `${target.replace("PORT", port)}/sec/app:v1` })}`);
      const body = (await res.json()) as any;
      expect(res.status).toBe(403);
      expect(body.error.code).toBe("FORBIDDEN");
      expect(body.error.message).toContain("--allow-registry");
    });
  }

  test("a redirect into loopback is refused, even from an allowed registry", async () => {
    // The redirecting registry sends blob GETs to a server on another loopback port.
    const s = serve({ allowRegistry: [redirecting.host] });
    const res = await fetch(`${s.url}/v1/cat?${q({ ref: `${redirecting.host}/sec/app:v1`, path: "/etc/os-release" })}`);
    expect(res.status).toBe(403);
    expect(((await res.json()) as any).error.message).toMatch(/refusing to reach 127\.0\.0\.1:\d+: a loopback address/);
    expect(redirecting.redirect!.requests.length).toBe(0);
  });

  for (const location of ["http://169.254.169.254/latest/meta-data/", "http://[::1]:9/x", "http://10.0.0.1/x"]) {
    test(`a redirect to ${location} is refused`, async () => {
      const proxy = startFaultProxy(reg.url);
      proxies.push(proxy);
      proxy.rule = (req) =>
        new URL(req.url).pathname.includes("/blobs/sha256:") && !new URL(req.url).pathname.endsWith(img.configDigest)
          ? { kind: "status", status: 307, headers: { Location: location } }
          : undefined;
      const s = serve({ allowRegistry: [proxy.host] });
      const res = await fetch(`${s.url}/v1/cat?${q({ ref: `${proxy.host}/sec/app:v1`, path: "/etc/os-release" })}`);
      const body = (await res.json()) as any;
      expect(res.status, body.error.message).toBe(403);
      expect(body.error.message).toContain("refusing to reach");
    });
  }
});

test("the server's saved login is used for an allowed registry (and the log never shows it)", async () => {
  await withRegistry(
    async (locked) => {
      try {
        await pushImage(locked, "sec/locked", "v1", { layers: [{ bytes: layerFrom([{ path: "etc/os-release", content: "ID=locked\n" }]) }] });
        const file = join(dir, "auth.json");
        writeFileSync(file, JSON.stringify({ auths: { [locked.host]: { auth: btoa(`${READER.username}:${READER.password}`) } } }));
        process.env.REGISTRY_AUTH_FILE = file;
        const lines: string[] = [];
        const s = serve({ allowRegistry: [locked.host] }, {}, (l) => lines.push(l));
        const res = await fetch(`${s.url}/v1/cat?${q({ ref: `${locked.host}/sec/locked:v1`, path: "/etc/os-release" })}`);
        expect(await res.text()).toBe("ID=locked\n");
        expect(lines.join("\n")).not.toContain(READER.password);
      } finally {
        delete process.env.REGISTRY_AUTH_FILE;
      }
    },
    { auth: "htpasswd" },
  );
});

describe("requests", () => {
  test("local images and traversal stay inside the image", async () => {
    const s = serve({ allowRegistry: [reg.host] });
    for (const local of ["oci:/etc", "oci-archive:/etc/passwd", "docker-archive:/etc/passwd"]) {
      const res = await fetch(`${s.url}/v1/inspect?${q({ ref: local })}`);
      expect(res.status).toBe(400);
      expect(((await res.json()) as any).error.message).toContain("only registry references");
    }
    const up = await fetch(`${s.url}/v1/cat?${q({ ref, path: "/../../../../etc/os-release" })}`);
    expect(await up.text()).toBe("ID=fixture\n");
    const raw = await rawRequest(s.server.port!, "GET /v1/%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    expect(raw).toStartWith("HTTP/1.1 404");
    expect(raw).not.toContain("root:");
  });

  test("find patterns are bounded; regex only from loopback callers", async () => {
    const open = serve({ listen: "0.0.0.0:0", allowRegistry: [reg.host] }, { LAYERSLAYER_SERVE_TOKEN: TOKEN });
    const auth = { headers: { Authorization: `Bearer ${TOKEN}` } };
    const regex = await fetch(`${local(open)}/v1/find?${q({ ref, pattern: "(a+)+$", regex: "true" })}`, auth);
    expect(regex.status).toBe(400);
    expect(((await regex.json()) as any).error.message).toContain("regex is not taken");
    expect((await fetch(`${local(open)}/v1/find?${q({ ref, pattern: "*a".repeat(9) })}`, auth)).status).toBe(400);
    expect((await fetch(`${local(open)}/v1/find?${q({ ref, pattern: "x".repeat(300) })}`, auth)).status).toBe(400);
    const loop = serve({ allowRegistry: [reg.host] });
    const ok = await fetch(`${loop.url}/v1/find?${q({ ref, pattern: "os-rel.*", regex: "true" })}`);
    expect(((await ok.json()) as any).hits.map((h: { path: string }) => h.path)).toEqual(["/etc/os-release"]);
  });

  test("request bodies are limited; other methods refused", async () => {
    const s = serve({ allowRegistry: [reg.host] });
    const big = await fetch(`${s.url}/v1/inspect?${q({ ref })}`, { method: "POST", body: new Uint8Array(1024 * 1024) });
    expect(big.status).toBe(413);
    const post = await fetch(`${s.url}/v1/inspect?${q({ ref })}`, { method: "POST", body: "x" });
    expect(post.status).toBe(405);
    const raw = await rawRequest(s.server.port!, `GET /v1/inspect?${q({ ref })} HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n${"a".repeat(1000)}`);
    expect(raw).toStartWith("HTTP/1.1 413");
  });

  test("a flood from one client is limited (rate and downloads)", async () => {
    const s = serve({ allowRegistry: [reg.host], caps: { requestsPerMinute: 20 } });
    const codes = await Promise.all(Array.from({ length: 40 }, () => fetch(`${s.url}/openapi.json`).then(async (r) => (await r.arrayBuffer(), r.status))));
    expect(codes.filter((c) => c === 200).length).toBe(20);
    expect(codes.filter((c) => c === 429).length).toBe(20);
    const proxy = startFaultProxy(reg.url);
    proxies.push(proxy);
    proxy.delayMs = 300;
    const d = serve({ allowRegistry: [proxy.host], caps: { downloadsPerClient: 2 } });
    const peeks = await Promise.all(
      Array.from({ length: 5 }, () => fetch(`${d.url}/v1/peek?${q({ ref: `${proxy.host}/sec/app:v1`, budget: "65536" })}`).then(async (r) => (await r.arrayBuffer(), r.status))),
    );
    expect(peeks.filter((c) => c === 200).length).toBe(2);
    expect(peeks.filter((c) => c === 429).length).toBe(3);
  });

  test("a request past its time is stopped: 504", async () => {
    const proxy = startFaultProxy(reg.url);
    proxies.push(proxy);
    proxy.delayMs = 1500;
    const s = serve({ allowRegistry: [proxy.host], caps: { requestTimeoutMs: 300 } });
    const started = performance.now();
    const res = await fetch(`${s.url}/v1/inspect?${q({ ref: `${proxy.host}/sec/app:v1` })}`);
    expect(res.status).toBe(504);
    expect(((await res.json()) as any).error.code).toBe("TIMEOUT");
    expect(performance.now() - started).toBeLessThan(1400);
  });

  test("CORS is closed unless an origin is configured, and then only for it", async () => {
    const closed = serve({ allowRegistry: [reg.host] });
    const a = await fetch(`${closed.url}/openapi.json`, { headers: { Origin: "https://evil.example" } });
    expect(a.headers.get("access-control-allow-origin")).toBeNull();
    expect((await fetch(`${closed.url}/v1/inspect`, { method: "OPTIONS", headers: { Origin: "https://evil.example" } })).status).toBe(403);
    const open = serve({ allowRegistry: [reg.host], cors: "https://tools.example" });
    const b = await fetch(`${open.url}/openapi.json`, { headers: { Origin: "https://tools.example" } });
    expect(b.headers.get("access-control-allow-origin")).toBe("https://tools.example");
    const c = await fetch(`${open.url}/openapi.json`, { headers: { Origin: "https://evil.example" } });
    expect(c.headers.get("access-control-allow-origin")).toBeNull();
    expect((await fetch(`${open.url}/v1/inspect`, { method: "OPTIONS", headers: { Origin: "https://tools.example" } })).status).toBe(204);
  });
});

test("a client that disconnects mid-cat stops the registry reads", async () => {
  const proxy = startFaultProxy(reg.url);
  proxies.push(proxy);
  proxy.delayMs = 50;
  const s = serve({ allowRegistry: [proxy.host] });
  const layer = img.layers[0]!;
  const blobReads = () => proxy.requests.filter((r) => r.path.endsWith(layer.digest) && r.method === "GET");
  const abort = new AbortController();
  const res = await fetch(`${s.url}/v1/cat?${q({ ref: `${proxy.host}/sec/app:v1`, path: "/zz/big.bin" })}`, { signal: abort.signal });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  await reader.read();
  abort.abort();
  await Bun.sleep(1000);
  const after = blobReads().length;
  await Bun.sleep(1500);
  expect(blobReads().length).toBe(after);
  // Far less than the layer was asked for (a tail read for a TOC footer aside, ranges are bounded).
  const asked = blobReads().reduce((n, r) => {
    const m = /^bytes=(\d+)-(\d+)$/.exec(r.range ?? "");
    return n + (m ? Number(m[2]) - Number(m[1]) + 1 : layer.size);
  }, 0);
  expect(asked).toBeLessThan(layer.size / 2);
  expect(s.limits.running).toBe(0);
});

/** Sends raw bytes (a request fetch would not send as written) and returns what came back. */
function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, "127.0.0.1", () => sock.write(text));
    let got = "";
    sock.on("data", (d) => (got += d.toString("latin1")));
    sock.on("end", () => resolve(got));
    sock.on("close", () => resolve(got));
    sock.on("error", (e) => (got ? resolve(got) : reject(e)));
    setTimeout(() => {
      sock.destroy();
      resolve(got);
    }, 5000);
  });
}
