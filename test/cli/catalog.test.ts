import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { errorLine, runCli } from "../support/cli.ts";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy.ts";
import { layerFrom, pushImage } from "../support/fixtures.ts";
import { pushManifest } from "../support/push.ts";
import { startStandIn, type StandIn } from "../support/stand-in.ts";
import { READER, useRegistry } from "../support/registry.ts";

/** More repositories than distribution sends in one page (1000). */
const MANY = 1003;

/** Every file under `dir` (relative path → bytes). */
function readTree(dir: string): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const full = join(e.parentPath, e.name);
    files.set(full.slice(dir.length + 1), readFileSync(full));
  }
  return files;
}

describe("catalog on a real registry with more than one page of repositories", () => {
  const reg = useRegistry({ inMemory: true });
  let expected: string[];
  beforeAll(async () => {
    const img = await pushImage(reg, "base/app", "v1", { layers: [{ bytes: layerFrom([{ path: "f", content: "x" }]) }] });
    await pushManifest(reg, "base/app", img.manifest, img.mediaType, "v2");
    // A repository on disk is its directory of links to the shared blobs: copying one that was
    // pushed makes more real repositories as fast as the disk allows.
    const repos = join(reg.storage, "docker/registry/v2/repositories");
    const tree = readTree(join(repos, "base/app"));
    const names: string[] = [];
    for (let i = 0; i < MANY; i++) {
      const name = `many/r${String(i).padStart(4, "0")}`;
      for (const [rel, bytes] of tree) {
        const file = join(repos, name, rel);
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, bytes);
      }
      names.push(name);
    }
    expected = ["base/app", ...names].sort();
  });

  test("lists every repository, following the Link to the second page", async () => {
    const r = await runCli(["catalog", reg.host, "--verbose"]);
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n").slice(0, -1)).toEqual(expected);
    const pages = r.stderr.split("\n").filter((l) => l.includes("/v2/_catalog"));
    expect(pages).toHaveLength(2);
  });

  test("--page-size asks for smaller pages and gets the same list; --json", async () => {
    const r = await runCli(["catalog", reg.host, "--page-size", "250", "--json", "--verbose"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ schema: 1, registry: reg.host, repositories: expected });
    expect(r.stderr.split("\n").filter((l) => l.includes("/v2/_catalog"))).toHaveLength(5);
  });

  test("--tags lists each repository's tags, in catalog order", async () => {
    const r = await runCli(["catalog", `http://${reg.host}/`, "--tags", "--page-size", "400"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n").slice(0, -1);
    // Repositories in catalog order; tags in the order the registry lists them (its directory order).
    expect([...new Set(lines.map((l) => l.split(":")[0]))]).toEqual(expected);
    expect(lines.toSorted()).toEqual(expected.flatMap((n) => [`${n}:v1`, `${n}:v2`]));
    const json = await runCli(["catalog", reg.host, "--tags", "--json"]);
    const doc = JSON.parse(json.stdout) as { repositories: { name: string; tags: string[] }[] };
    expect(doc.repositories).toHaveLength(expected.length);
    expect({ ...doc.repositories[0], tags: doc.repositories[0]!.tags.toSorted() }).toEqual({ name: "base/app", tags: ["v1", "v2"] });
  });

  test("a page size the registry refuses is its error, on one line, as a usage error", async () => {
    const r = await runCli(["catalog", reg.host, "--page-size", "1001"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^layerslayer: 127\.0\.0\.1:\d+ catalog: .*PAGINATION_NUMBER_INVALID.*: ask for smaller pages \(--page-size; distribution allows at most 1000\)\n$/);
    expect((await runCli(["catalog", reg.host, "--page-size", "0"])).code).toBe(2);
    expect((await runCli(["catalog", "not a host"])).code).toBe(2);
  });
});

describe("catalog refused or cut short", () => {
  const reg = useRegistry({ auth: "token" });
  const open = useRegistry();
  let proxy: FaultProxy;
  beforeAll(async () => {
    for (const name of ["a/one", "b/two", "c/three"]) {
      await pushImage(reg, name, "v1", { layers: [{ bytes: layerFrom([{ path: "f" }]) }] });
      await pushImage(open, name, "v1", { layers: [{ bytes: layerFrom([{ path: "f" }]) }] });
    }
    proxy = startFaultProxy(open.url);
  });
  afterAll(async () => {
    proxy.stop();
  });

  test("a token registry refuses anonymous users the catalog (exit 3) and gives it to a user", async () => {
    const anon = await runCli(["catalog", reg.host]);
    expect(anon.code).toBe(3);
    expect(anon.stderr).toMatch(/^layerslayer: 127\.0\.0\.1:\d+: not authorized to list the catalog; /);
    const user = await runCli(["catalog", reg.host, "-u", READER.username, "--password-stdin"], { stdin: READER.password });
    expect(user.stdout).toBe("a/one\nb/two\nc/three\n");
    expect(reg.token!.requests.some((q) => q.scope === "registry:catalog:*" && q.user === READER.username)).toBe(true);
  });

  test("a registry without the catalog API is UNSUPPORTED (exit 8)", async () => {
    proxy.rule = (req) => (new URL(req.url).pathname === "/v2/_catalog" ? { kind: "status", status: 404, body: '{"errors":[{"code":"NOT_FOUND"}]}' } : undefined);
    const r = await runCli(["catalog", proxy.host]);
    expect(r.code).toBe(8);
    expect(r.stderr).toBe(`layerslayer: ${proxy.host} does not offer a catalog (GET /v2/_catalog answered 404)\n`);
  });

  test("a page that fails keeps the pages before it, in text and in JSON", async () => {
    proxy.rule = (req) => (new URL(req.url).searchParams.has("last") ? { kind: "status", status: 403 } : undefined);
    const r = await runCli(["catalog", proxy.host, "--page-size", "2"]);
    expect(r.stdout).toBe("a/one\nb/two\n");
    expect(r.code).toBe(3);
    expect(r.stderr).toBe(`layerslayer: ${proxy.host} catalog: access denied (HTTP 403)\n`);
    const j = await runCli(["catalog", proxy.host, "--page-size", "2", "--json"]);
    expect(JSON.parse(j.stdout)).toEqual({ schema: 1, registry: proxy.host, repositories: ["a/one", "b/two"], complete: false });
    expect(j.code).toBe(3);
  });

  test("--tags: a repository whose tags fail is reported, the others are listed", async () => {
    proxy.rule = (req) => (new URL(req.url).pathname === "/v2/b/two/tags/list" ? { kind: "status", status: 403 } : undefined);
    const r = await runCli(["catalog", proxy.host, "--tags"]);
    expect(r.stdout).toBe("a/one:v1\nc/three:v1\n");
    expect(r.stderr).toBe(`layerslayer: b/two: ${proxy.host}/b/two tags: access denied (HTTP 403)\n`);
    expect(r.code).toBe(3);
  });
});

/**
 * A hostile registry stand-in (the real docker-registry cannot send a Link that changes on every
 * page, or invent names): each mode is one way a walk can fail to end. Every request is counted.
 */
describe("catalog --tags against a registry whose lists do not end", () => {
  type Mode = { catalog: "same" | "fresh" | "finite" | "elsewhere"; tags: "same" | "fresh" };
  let mode: Mode = { catalog: "same", tags: "same" };
  let server: StandIn;
  let elsewhere: ReturnType<typeof Bun.serve>;
  let elsewhereAsked = 0;
  let host = "";
  beforeAll(() => {
    elsewhere = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => (elsewhereAsked++, Response.json({ repositories: ["stolen/name"] })) });
    server = startStandIn((url, n) => {
      const changing = { Link: `<${url.pathname}?n=1000&last=${crypto.randomUUID()}>; rel="next"` };
      if (url.pathname === "/v2/_catalog") {
        if (mode.catalog === "same") return Response.json({ repositories: ["a/one", "b/two", "a/one"] }, { headers: changing });
        if (mode.catalog === "fresh") return Response.json({ repositories: [`r/n${n}`] }, { headers: changing });
        if (mode.catalog === "elsewhere")
          return Response.json({ repositories: ["a/one"] }, { headers: { Link: `<http://127.0.0.1:${elsewhere.port}/v2/_catalog?last=a>; rel="next"` } });
        return Response.json({ repositories: ["a/one", "b/two", "c/three"] });
      }
      if (mode.tags === "same") return Response.json({ tags: ["v1", "v2", "v1"] }, { headers: changing });
      return Response.json({ tags: [`t${n}`] }, { headers: changing });
    });
    host = server.host;
  });
  afterAll(() => {
    server.stop();
    elsewhere.stop(true);
  });
  /** Requests the stand-in answered since the last run (the ping aside). */
  const requests = () => server.asked.length;

  const run = async (m: Mode, extra: string[] = []) => {
    mode = m;
    server.asked.length = 0;
    return runCli(["catalog", host, "--tags", ...extra]);
  };

  test("a Link that keeps changing over the same names: each list ends at the page that brings nothing new; names once", async () => {
    const r = await run({ catalog: "same", tags: "same" });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("a/one:v1\na/one:v2\nb/two:v1\nb/two:v2\n");
    expect(requests()).toBe(2 + 2 * 2);
    mode = { catalog: "same", tags: "same" };
    server.asked.length = 0;
    const plain = await runCli(["catalog", host, "--json"]);
    expect(JSON.parse(plain.stdout).repositories).toEqual(["a/one", "b/two"]);
    expect(requests()).toBe(2);
  });

  test("a catalog inventing repositories for ever: the whole walk stops at --max-requests, one line, exit 7, what was listed kept", async () => {
    const r = await run({ catalog: "fresh", tags: "same" }, ["--max-requests", "300"]);
    expect(requests()).toBeLessThanOrEqual(300);
    expect(r.code).toBe(7);
    expect(errorLine(r)).toBe(`layerslayer: ${host} catalog: the registry's lists did not end within 300 requests; stopped there (the listing is incomplete)`);
    const lines = r.stdout.split("\n").slice(0, -1);
    expect(lines.length).toBeGreaterThan(100);
    expect(new Set(lines).size).toBe(lines.length);
    expect(lines.every((l) => /^r\/n\d+:v[12]$/.test(l))).toBe(true);
  });

  test("tag lists inventing tags for ever: the bound is the walk's, not each list's; one line, not one per repository", async () => {
    const r = await run({ catalog: "finite", tags: "fresh" }, ["--max-requests", "300"]);
    expect(requests()).toBeLessThanOrEqual(300);
    expect(r.code).toBe(7);
    expect(errorLine(r)).toBe(`layerslayer: ${host} catalog: the registry's lists did not end within 300 requests; stopped there (the listing is incomplete)`);
    expect(r.stdout).toBe("");
    // In JSON, the repositories listed before the bound, and complete: false.
    const json = await run({ catalog: "fresh", tags: "same" }, ["--max-requests", "50", "--json"]);
    expect(requests()).toBeLessThanOrEqual(50);
    expect(json.code).toBe(7);
    const doc = JSON.parse(json.stdout);
    expect(doc.complete).toBe(false);
    expect(doc.repositories.length).toBeGreaterThan(10);
    expect(doc.repositories[0]).toEqual({ name: doc.repositories[0].name, tags: ["v1", "v2"] });
  });

  test("at the default bound the walk stops too (a list inventing names: 1000 pages at most, per list, reported per repository)", async () => {
    const r = await run({ catalog: "finite", tags: "fresh" });
    expect(r.code).toBe(7);
    expect(requests()).toBeLessThanOrEqual(1 + 3 * 1000);
    expect(r.stderr.split("\n").slice(0, -1)).toEqual(
      ["a/one", "b/two", "c/three"].map((n) => `layerslayer: ${n}: ${host}/${n} tags: the list goes on past 1000 pages; stopped there (the listing is incomplete)`),
    );
  });

  test("a Link to another host is refused (exit 6), the page before kept, the other host never asked", async () => {
    mode = { catalog: "elsewhere", tags: "same" };
    const r = await runCli(["catalog", host]);
    expect(r.stdout).toBe("a/one\n");
    expect(r.code).toBe(6);
    expect(errorLine(r)).toBe(
      `layerslayer: ${host} catalog: next page: refusing a Link to another host or scheme (http://127.0.0.1:${elsewhere.port}); a list is read from the registry only`,
    );
    expect(elsewhereAsked).toBe(0);
  });

  test("--max-requests takes a positive whole number (exit 2)", async () => {
    for (const bad of ["0", "-1", "1.5", "lots"]) expect((await runCli(["catalog", host, "--max-requests", bad])).code).toBe(2);
  });
});
