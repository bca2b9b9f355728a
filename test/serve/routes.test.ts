/**
 * Every route of `serve` against the real registry, each answer checked against the OpenAPI
 * document the server itself publishes (/openapi.json), and against what the CLI prints.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../support/cli.ts";
import { layerFrom, pushImage, sha256, type PushedImage } from "../support/fixtures.ts";
import { validate } from "../support/json-schema.ts";
import { useRegistry } from "../support/registry.ts";

process.env.LAYERSLAYER_CACHE_DIR = mkdtempSync(join(tmpdir(), "ls-serve-cache-"));
const { serveConfig } = await import("../../src/serve/config.ts");
const { startServer } = await import("../../src/serve/server.ts");
type Running = ReturnType<typeof startServer>;

const BIG = new Uint8Array(3 * 1024 * 1024);
for (let i = 0; i < BIG.length; i += 65536) crypto.getRandomValues(BIG.subarray(i, i + 65536));

const reg = useRegistry();
let img: PushedImage;
let srv: Running;
let openapi: Record<string, any>;
const logLines: string[] = [];
let ref: string;

beforeAll(async () => {
  img = await pushImage(reg, "serve/app", "v1", {
    layers: [
      {
        bytes: layerFrom([
          { path: "aaa/first.txt", content: "first\n" },
          { path: "etc/os-release", content: "ID=fixture\nVERSION_ID=1\n" },
          { path: "etc/motd", content: "hello" },
          { path: "data/big.bin", content: BIG },
          { path: "usr/lib/os-release", symlink: "../../etc/os-release" },
        ]),
      },
      {
        bytes: layerFrom([
          { path: "etc/.wh.motd", content: "" },
          { path: "etc/hostname", content: "box\n" },
        ]),
      },
    ],
  });
  ref = `${reg.host}/serve/app:v1`;
  srv = startServer(serveConfig({ listen: "127.0.0.1:0", allowRegistry: [reg.host] }), { log: (l) => logLines.push(l) });
  openapi = (await (await fetch(`${srv.url}/openapi.json`)).json()) as Record<string, any>;
});

afterAll(async () => {
  await srv?.stop();
});

function url(path: string, params: Record<string, string>): string {
  return `${srv.url}${path}?${new URLSearchParams(params)}`;
}

/** The document's schema for a route's 200 answer. */
function schemaOf(path: string): { type: string; schema: Record<string, unknown> } {
  const content = openapi.paths[path].get.responses["200"].content;
  const [type] = Object.keys(content);
  return { type: type!, schema: content[type!].schema };
}

async function getJson(path: string, params: Record<string, string>): Promise<any> {
  const res = await fetch(url(path, params));
  const text = await res.text();
  expect(res.status, text).toBe(200);
  expect(res.headers.get("content-type")).toStartWith("application/json");
  const doc = JSON.parse(text);
  expect(validate(doc, schemaOf(path).schema, openapi)).toEqual([]);
  return doc;
}

async function cliJson(args: string[]): Promise<any> {
  // runCli gives every run a fresh cache.
  const r = await runCli([...args, "--json"]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

describe("metadata routes answer what --json prints", () => {
  for (const [route, args] of [
    ["/v1/inspect", ["inspect"]],
    ["/v1/history", ["history"]],
    ["/v1/manifest", ["manifest"]],
    ["/v1/config", ["config"]],
    ["/v1/platforms", ["platforms"]],
  ] as const) {
    test(route, async () => {
      const doc = await getJson(route, { ref });
      expect(doc).toEqual(await cliJson([...args, ref]));
    });
  }

  test("/v1/inspect names the layers", async () => {
    const doc = await getJson("/v1/inspect", { ref });
    expect(doc.digest).toBe(img.digest);
    expect(doc.layers.map((l: { digest: string }) => l.digest)).toEqual(img.layers.map((l) => l.digest));
  });

  test("/v1/tags and /v1/catalog", async () => {
    expect(await getJson("/v1/tags", { repository: `${reg.host}/serve/app` })).toEqual(await cliJson(["tags", `${reg.host}/serve/app`]));
    const cat = await getJson("/v1/catalog", { registry: reg.host });
    expect(cat.repositories).toContain("serve/app");
    const one = await getJson("/v1/catalog", { registry: reg.host, limit: "1" });
    expect(one.repositories.length).toBe(1);
  });
});

describe("listings", () => {
  test("/v1/peek streams NDJSON records, each valid, ending with each layer's stats", async () => {
    const res = await fetch(url("/v1/peek", { ref, budget: "65536" }));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/x-ndjson");
    const records = (await res.text())
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    for (const r of records) expect(validate(r, schemaOf("/v1/peek").schema, openapi)).toEqual([]);
    const stats = records.filter((r) => r.stats).map((r) => r.stats);
    expect(stats.map((s) => s.layer)).toEqual([0, 1]);
    expect(stats[0].bytesDownloaded).toBeLessThanOrEqual(65536);
    expect(records.some((r) => r.path === "/data/big.bin")).toBe(true);
  });

  test("/v1/peek full=true lists whole layers, as peek --full --json", async () => {
    const res = await fetch(url("/v1/peek", { ref, full: "true", layer: "1" }));
    const lines = (await res.text())
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const cli = (await runCli(["peek", ref, "--full", "--layer", "1", "--json", "--no-cache"])).stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    // The server's cache may hold the listing already (then nothing is downloaded, and it says so).
    const plain = (r: any) => (r.stats ? { ...r, stats: { ...r.stats, bytesDownloaded: 0, cached: undefined, offsets: undefined } } : r);
    expect(lines.map(plain)).toEqual(cli.map(plain));
    expect(lines.at(-1).stats.complete).toBe(true);
  });

  test("/v1/ls is ls --json (whiteouts applied)", async () => {
    const doc = await getJson("/v1/ls", { ref, path: "/etc" });
    expect(doc.entries.map((e: { path: string }) => e.path)).toEqual(["/etc/hostname", "/etc/os-release"]);
    expect(doc).toEqual(await cliJson(["ls", ref, "/etc"]));
    const rec = await getJson("/v1/ls", { ref, recursive: "true", history: "true" });
    expect(rec.entries.some((e: { path: string }) => e.path === "/data/big.bin")).toBe(true);
  });

  test("/v1/find is find --json", async () => {
    const doc = await getJson("/v1/find", { ref, pattern: "motd" });
    expect(doc.hits.map((h: { action: string }) => h.action)).toEqual(["added", "deleted"]);
    expect(doc).toEqual(await cliJson(["find", ref, "motd"]));
    expect((await getJson("/v1/find", { ref, pattern: "MOTD", ignoreCase: "true" })).hits).toEqual(doc.hits);
  });
});

describe("bytes", () => {
  test("/v1/cat of a small file: whole, with its length, ETag and verification stated", async () => {
    // Read before the 3 MiB file that follows it in its layer: the layer was not read to its end.
    const first = await fetch(url("/v1/cat", { ref, path: "/aaa/first.txt" }));
    expect(await first.text()).toBe("first\n");
    expect(first.headers.get("content-length")).toBe("6");
    expect(first.headers.get("x-layerslayer-verified")).toBe("false");
    const res = await fetch(url("/v1/cat", { ref, path: "/usr/lib/os-release" }));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("ID=fixture\nVERSION_ID=1\n");
    expect(res.headers.get("content-length")).toBe("24");
    expect(res.headers.get("etag")).toMatch(/^"[0-9a-f]{40}"$/);
    const verified = await fetch(url("/v1/cat", { ref, path: "/etc/os-release", verify: "true" }));
    expect(await verified.text()).toBe("ID=fixture\nVERSION_ID=1\n");
    expect(verified.headers.get("x-layerslayer-verified")).toBe("true");
    // The same file (after the symlink) in the same layer: the same ETag.
    expect(verified.headers.get("etag")).toBe(res.headers.get("etag"));
  });

  test("/v1/cat of a large file is streamed, byte for byte", async () => {
    const res = await fetch(url("/v1/cat", { ref, path: "/data/big.bin" }));
    expect(res.status).toBe(200);
    expect(res.headers.get("x-layerslayer-verified")).toBe("false");
    const got = new Uint8Array(await res.arrayBuffer());
    expect(got.byteLength).toBe(BIG.byteLength);
    expect(sha256(got)).toBe(sha256(BIG));
  });

  test("/v1/layer sends the blob with its length and digest", async () => {
    const res = await fetch(url("/v1/layer", { ref, layer: "1" }));
    expect(res.status).toBe(200);
    expect(res.headers.get("docker-content-digest")).toBe(img.layers[1]!.digest);
    expect(res.headers.get("x-layerslayer-size")).toBe(String(img.layers[1]!.size));
    const got = new Uint8Array(await res.arrayBuffer());
    expect(sha256(got)).toBe(img.layers[1]!.digest);
  });
});

test("/v1/search is search --json over the scan database", async () => {
  const db = join(mkdtempSync(join(tmpdir(), "ls-serve-db-")), "scan.sqlite");
  const scanned = await runCli(["scan", ref, "--full", "--db", db]);
  expect(scanned.code, scanned.stderr).toBe(0);
  const withDb = startServer(serveConfig({ listen: "127.0.0.1:0", allowRegistry: [reg.host], db, accessLog: false }));
  try {
    const res = await fetch(`${withDb.url}/v1/search?${new URLSearchParams({ pattern: "os-release" })}`);
    const doc = (await res.json()) as any;
    expect(res.status).toBe(200);
    expect(validate(doc, schemaOf("/v1/search").schema, openapi)).toEqual([]);
    expect(doc.hits.map((h: { path: string }) => h.path)).toEqual(["/etc/os-release", "/usr/lib/os-release"]);
    expect(doc).toEqual(await cliJson(["search", "os-release", "--db", db]));
  } finally {
    await withDb.stop();
  }
});

describe("errors", () => {
  test("a missing file is 404 with a JSON error; a directory is 400", async () => {
    const res = await fetch(url("/v1/cat", { ref, path: "/etc/motd" }));
    expect(res.status).toBe(404);
    const body = (await res.json()) as any;
    expect(validate(body, { $ref: "#/components/schemas/Error" }, openapi)).toEqual([]);
    expect(body.error.code).toBe("NOT_FOUND");
    expect((await fetch(url("/v1/cat", { ref, path: "/etc" }))).status).toBe(400);
  });

  test("an unknown tag is 404, an unknown parameter or a missing one 400, an unknown route 404", async () => {
    expect((await fetch(url("/v1/inspect", { ref: `${reg.host}/serve/app:nope` }))).status).toBe(404);
    const unknown = await fetch(url("/v1/inspect", { ref, bogus: "1" }));
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as any).error.message).toContain("bogus");
    expect((await fetch(url("/v1/inspect", {}))).status).toBe(400);
    expect((await fetch(url("/v1/peek", { ref, budget: "-5" }))).status).toBe(400);
    const none = await fetch(`${srv.url}/v2/<script>`);
    expect(none.status).toBe(404);
    expect(none.headers.get("content-type")).toStartWith("application/json");
  });

  test("the access log has one line per request", () => {
    expect(logLines.some((l) => / GET \/v1\/inspect\?ref=.* 200 \d+ms$/.test(l))).toBe(true);
  });
});

test("the OpenAPI document lists every route with its parameters", () => {
  expect(openapi.openapi).toBe("3.1.0");
  expect(Object.keys(openapi.paths).sort()).toEqual([
    "/v1/cat",
    "/v1/catalog",
    "/v1/config",
    "/v1/diff",
    "/v1/efficiency",
    "/v1/find",
    "/v1/history",
    "/v1/hub/repositories",
    "/v1/hub/search",
    "/v1/hub/tags",
    "/v1/inspect",
    "/v1/layer",
    "/v1/ls",
    "/v1/manifest",
    "/v1/peek",
    "/v1/platforms",
    "/v1/scans",
    "/v1/scans/{id}",
    "/v1/scans/{id}/events",
    "/v1/search",
    "/v1/tags",
  ]);
  expect(Object.keys(openapi.paths["/v1/scans/{id}"]).sort()).toEqual(["delete", "get"]);
  expect(openapi.paths["/v1/scans"].post.requestBody.content["application/json"].schema.properties.references.type).toBe("array");
  expect(openapi.paths["/v1/cat"].get.parameters.map((p: { name: string }) => p.name)).toEqual(["ref", "platform", "path", "verify"]);
});
