/**
 * /v1/diff and /v1/efficiency on images built by umoci and pushed by skopeo to the real registry:
 * each answer valid against the server's OpenAPI document and equal to what `diff --json` and
 * `efficiency --json` print for the same images.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../support/cli.ts";
import { validate } from "../support/json-schema.ts";
import { useRegistry } from "../support/registry.ts";
import { umociLab } from "../support/umoci.ts";

process.env.LAYERSLAYER_CACHE_DIR = mkdtempSync(join(tmpdir(), "ls-serve-analysis-cache-"));
const { serveConfig } = await import("../../src/serve/config.ts");
const { startServer } = await import("../../src/serve/server.ts");

const { work, layout, build, put, sh } = umociLab("ls-serve-analysis-");
const reg = useRegistry();
let srv: ReturnType<typeof startServer>;
let openapi: Record<string, any>;

beforeAll(async () => {
  build("v1", undefined, (r) => {
    put(r, "etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
    put(r, "etc/motd", "hello\n");
    put(r, "etc/same-size", "aaaa\n");
    put(r, "var/lib/data", 100);
  });
  build(
    "v2",
    "v1",
    (r) => {
      put(r, "etc/passwd", "root:x:0:0:root:/root:/bin/bash\n");
      rmSync(join(r, "etc/motd"));
      put(r, "etc/same-size", "bbbb\n");
      chmodSync(join(r, "var/lib/data"), 0o600);
      put(r, "opt/app/bin/app", 500, 0o755);
    },
    ["--config.env", "APP=1"],
  );
  build("eff0", undefined, (r) => {
    put(r, "data/big", 100_000);
    put(r, "etc/conf", 10);
    put(r, "etc/keep", 7);
  });
  build("eff", "eff0", (r) => {
    rmSync(join(r, "data/big"));
    put(r, "etc/conf", 20);
    put(r, "srv/payload", 200_000);
  });
  for (const tag of ["v1", "v2", "eff"]) sh(["skopeo", "copy", "--quiet", "--dest-tls-verify=false", `oci:${layout}:${tag}`, `docker://${reg.host}/analysis/app:${tag}`]);
  srv = startServer(serveConfig({ listen: "127.0.0.1:0", allowRegistry: [reg.host], accessLog: false }));
  openapi = (await (await fetch(`${srv.url}/openapi.json`)).json()) as Record<string, any>;
}, 120_000);

afterAll(async () => {
  await srv?.stop();
  rmSync(work, { recursive: true, force: true });
});

const img = (tag: string) => `${reg.host}/analysis/app:${tag}`;

async function getJson(path: string, params: Record<string, string>): Promise<any> {
  const res = await fetch(`${srv.url}${path}?${new URLSearchParams(params)}`);
  const doc = (await res.json()) as any;
  expect(res.status, JSON.stringify(doc)).toBe(200);
  expect(validate(doc, openapi.paths[path].get.responses["200"].content["application/json"].schema, openapi)).toEqual([]);
  return doc;
}

async function cliJson(args: string[], code = 0): Promise<any> {
  const r = await runCli([...args, "--json"]);
  expect(r.code, r.stderr).toBe(code);
  return JSON.parse(r.stdout);
}

/** The same document apart from what depends on a cache (the server's is warm, each CLI run's fresh). */
const uncached = (listings: any[] | undefined) => listings?.map((l) => ({ ...l, cached: undefined }));
const plain = (d: any) => ({
  ...d,
  bytesDownloaded: 0,
  sharedRead: undefined,
  ...(d.a ? { a: { ...d.a, listings: uncached(d.a.listings) }, b: { ...d.b, listings: uncached(d.b.listings) } } : { listings: uncached(d.listings) }),
});

describe("/v1/diff", () => {
  test("two images over a shared layer: as diff --json", async () => {
    const doc = await getJson("/v1/diff", { a: img("v1"), b: img("v2") });
    expect(doc.same).toBe(false);
    expect(doc.shared.length).toBe(1);
    const paths = doc.paths.map((p: any) => `${p.kind} ${p.path}`);
    expect(paths).toContain("removed /etc/motd");
    // The shared layer was not read (nothing in the server's cache yet): what it holds at a path B writes is not known.
    expect(doc.sharedRead).toBe(false);
    expect(doc.paths.find((p: any) => p.path === "/opt/app/bin/app").overSharedBase).toBe(true);
    expect(doc.config.some((c: any) => c.key === "Env APP" && c.b === "1")).toBe(true);
    expect(plain(doc)).toEqual(plain(await cliJson(["diff", img("v1"), img("v2")], 1)));
  });

  test("content, ignoreMtime, and one layer of each", async () => {
    const cold = await getJson("/v1/diff", { a: img("v1"), b: img("v2"), content: "true", ignoreMtime: "true" });
    expect(plain(cold)).toEqual(plain(await cliJson(["diff", img("v1"), img("v2"), "--content", "--ignore-mtime"], 1)));
    // Once the server's cache holds the shared layer's listing (ls read it), every path is compared.
    await getJson("/v1/ls", { ref: img("v1") });
    const doc = await getJson("/v1/diff", { a: img("v1"), b: img("v2"), content: "true", ignoreMtime: "true" });
    expect(doc.sharedRead).toBe(true);
    expect(doc.paths.find((p: any) => p.path === "/etc/same-size")?.fields).toEqual(["content"]);
    expect(doc.paths.find((p: any) => p.path === "/opt")).toMatchObject({ kind: "added", below: 3 });
    const layers = await getJson("/v1/diff", { a: img("v2"), b: img("v2"), layer: "0", layerB: "1" });
    expect(layers.a.layer).toBe(0);
    expect(layers.b.layer).toBe(1);
    expect(plain(layers)).toEqual(plain(await cliJson(["diff", img("v2"), img("v2"), "--layer", "0", "--layer-b", "1"], 1)));
  });

  test("an image against itself is the same", async () => {
    expect((await getJson("/v1/diff", { a: img("v1"), b: img("v1") })).same).toBe(true);
  });

  test("bad requests: a missing side, layerB alone, a layer that is not one", async () => {
    expect((await fetch(`${srv.url}/v1/diff?${new URLSearchParams({ a: img("v1") })}`)).status).toBe(400);
    expect((await fetch(`${srv.url}/v1/diff?${new URLSearchParams({ a: img("v1"), b: img("v2"), layerB: "0" })}`)).status).toBe(400);
    expect((await fetch(`${srv.url}/v1/diff?${new URLSearchParams({ a: img("v1"), b: img("v2"), layer: "7" })}`)).status).toBe(400);
  });
});

describe("/v1/efficiency", () => {
  test("the waste known by construction, as efficiency --json", async () => {
    const doc = await getJson("/v1/efficiency", { ref: img("eff") });
    // data/big (100,000 bytes) deleted, etc/conf (10 bytes) replaced; dive counts directories too.
    expect(doc.wastedBytes).toBe(100_030);
    expect(doc.inefficiencies[0].path).toBe("/data/big");
    expect(plain(doc)).toEqual(plain(await cliJson(["efficiency", img("eff")])));
    const top1 = await getJson("/v1/efficiency", { ref: img("eff"), top: "1" });
    expect(top1.inefficiencies.length).toBe(1);
  });

  test("ci: rules on either side of a threshold, as efficiency --ci --json", async () => {
    const pass = await getJson("/v1/efficiency", { ref: img("eff"), ci: "true", lowestEfficiency: "0.5", highestUserWastedPercent: "0.6" });
    expect(pass.pass).toBe(true);
    const fail = await getJson("/v1/efficiency", { ref: img("eff"), ci: "true", highestWastedBytes: "100000" });
    expect(fail.pass).toBe(false);
    expect(fail.rules.find((r: any) => r.rule === "highestWastedBytes").status).toBe("fail");
    expect(plain(fail)).toEqual(plain(await cliJson(["efficiency", img("eff"), "--ci", "--highestWastedBytes", "100000"], 1)));
    const bad = await fetch(`${srv.url}/v1/efficiency?${new URLSearchParams({ ref: img("eff"), ci: "true", lowestEfficiency: "2" })}`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).error.message).toContain("lowestEfficiency");
  });
});
