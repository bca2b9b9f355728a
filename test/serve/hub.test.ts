/**
 * Docker Hub's lists through the server, against the Docker Hub stand-in (there is no internet
 * here): each answer valid against the OpenAPI document and equal to what `discover`, `repos` and
 * `tags --details` print with --json; Docker Hub refused like any registry outside the allow-list.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../support/cli.ts";
import { startHubStandIn, type HubStandIn } from "../support/hub-stand-in.ts";
import { validate } from "../support/json-schema.ts";

process.env.LAYERSLAYER_CACHE_DIR = mkdtempSync(join(tmpdir(), "ls-serve-hub-"));
const { serveConfig } = await import("../../src/serve/config.ts");
const { startServer } = await import("../../src/serve/server.ts");
type Running = ReturnType<typeof startServer>;

const TOKEN = "hub-token-0123456789abcdef";
let hub: HubStandIn;
let srv: Running;
let openapi: Record<string, any>;
const servers: Running[] = [];

function serve(flags: Parameters<typeof serveConfig>[0], env: Record<string, string> = {}): Running {
  const s = startServer(serveConfig({ listen: "127.0.0.1:0", accessLog: false, ...flags }, env));
  servers.push(s);
  return s;
}

beforeAll(async () => {
  hub = startHubStandIn();
  process.env.LAYERSLAYER_HUB_URL = hub.url;
  srv = serve({});
  openapi = (await (await fetch(`${srv.url}/openapi.json`)).json()) as Record<string, any>;
});

afterAll(async () => {
  for (const s of servers) await s.stop();
  hub?.stop();
  delete process.env.LAYERSLAYER_HUB_URL;
});

async function getJson(path: string, params: Record<string, string>, s = srv): Promise<any> {
  const res = await fetch(`${s.url}${path}?${new URLSearchParams(params)}`);
  const doc = (await res.json()) as any;
  expect(res.status, JSON.stringify(doc)).toBe(200);
  expect(validate(doc, openapi.paths[path].get.responses["200"].content["application/json"].schema, openapi)).toEqual([]);
  return doc;
}

async function cliJson(args: string[]): Promise<any> {
  const r = await runCli([...args, "--json"], { env: { LAYERSLAYER_HUB_URL: hub.url } });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

describe("the same documents as the CLI", () => {
  test("/v1/hub/search is discover --json (with sort, official, limit)", async () => {
    const doc = await getJson("/v1/hub/search", { query: "nginx" });
    expect(doc.results.map((r: any) => r.name)).toContain("bitnami/nginx");
    expect(doc).toEqual(await cliJson(["discover", "nginx"]));
    const sorted = await getJson("/v1/hub/search", { query: "nginx", sort: "stars", limit: "2" });
    expect(sorted).toEqual(await cliJson(["discover", "nginx", "--sort", "stars", "--limit", "2"]));
    expect(sorted.results.length).toBe(2);
    const official = await getJson("/v1/hub/search", { query: "nginx", official: "true" });
    expect(official.results.map((r: any) => r.name)).toEqual(["nginx"]);
  });

  test("/v1/hub/repositories is repos --json", async () => {
    const doc = await getJson("/v1/hub/repositories", { namespace: "library" });
    expect(doc.repositories.map((r: any) => r.name)).toContain("library/alpine");
    expect(doc).toEqual(await cliJson(["repos", "library"]));
  });

  test("/v1/hub/tags is tags --details --json", async () => {
    const doc = await getJson("/v1/hub/tags", { repository: "alpine" });
    expect(doc.repository).toBe("docker.io/library/alpine");
    expect(doc.tags.length).toBeGreaterThan(0);
    expect(doc.tags[0].images.length).toBeGreaterThan(0);
    expect(doc).toEqual(await cliJson(["tags", "alpine", "--details"]));
  });
});

describe("bad requests and faults", () => {
  test("a bad name, a bad sort, another registry, a digest", async () => {
    expect((await fetch(`${srv.url}/v1/hub/repositories?namespace=${encodeURIComponent("../etc")}`)).status).toBe(400);
    expect((await fetch(`${srv.url}/v1/hub/search?query=nginx&sort=size`)).status).toBe(400);
    expect((await fetch(`${srv.url}/v1/hub/tags?repository=quay.io/x/y`)).status).toBe(422);
    expect((await fetch(`${srv.url}/v1/hub/tags?repository=${encodeURIComponent(`alpine@sha256:${"a".repeat(64)}`)}`)).status).toBe(400);
  });

  test("Docker Hub's rate limit is the caller's 429", async () => {
    hub.fault = () => new Response("slow down", { status: 429, headers: { "Retry-After": "0" } });
    try {
      const res = await fetch(`${srv.url}/v1/hub/search?query=nginx`);
      expect(res.status).toBe(429);
      expect(((await res.json()) as any).error.code).toBe("RATE_LIMIT");
    } finally {
      hub.fault = undefined;
    }
  });
});

describe("Docker Hub is a registry to the allow-list", () => {
  test("beyond loopback it is refused unless docker.io is allow-listed, and nothing is asked of it", async () => {
    const auth = { headers: { Authorization: `Bearer ${TOKEN}` } };
    const closed = serve({ listen: "0.0.0.0:0", allowRegistry: ["registry.example.com"] }, { LAYERSLAYER_SERVE_TOKEN: TOKEN });
    const before = hub.requests.length;
    for (const path of ["/v1/hub/search?query=nginx", "/v1/hub/repositories?namespace=library", "/v1/hub/tags?repository=alpine"]) {
      const res = await fetch(`http://127.0.0.1:${closed.server.port}${path}`, auth);
      expect(res.status).toBe(403);
      expect(((await res.json()) as any).error.message).toContain("--allow-registry");
    }
    // Beyond loopback with no allow-list at all: refused too.
    const none = serve({ listen: "0.0.0.0:0" }, { LAYERSLAYER_SERVE_TOKEN: TOKEN });
    expect((await fetch(`http://127.0.0.1:${none.server.port}/v1/hub/search?query=nginx`, auth)).status).toBe(403);
    expect(hub.requests.length).toBe(before);
    const open = serve({ listen: "0.0.0.0:0", allowRegistry: ["docker.io"] }, { LAYERSLAYER_SERVE_TOKEN: TOKEN });
    const res = await fetch(`http://127.0.0.1:${open.server.port}/v1/hub/search?query=nginx`, auth);
    expect(res.status).toBe(200);
    expect(hub.requests.length).toBeGreaterThan(before);
  });

  test("on loopback, an allow-list without docker.io refuses it as well", async () => {
    const s = serve({ allowRegistry: ["registry.example.com"] });
    expect((await fetch(`${s.url}/v1/hub/search?query=nginx`)).status).toBe(403);
  });
});
