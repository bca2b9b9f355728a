import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { errorLine, runCli } from "../support/cli.ts";
import { startHubStandIn, type HubStandIn } from "../support/hub-stand-in.ts";
import { useRegistry } from "../support/registry.ts";

describe("discover: Docker Hub search (stand-in) and /v1/search on other registries", () => {
  let hub: HubStandIn;
  const reg = useRegistry();
  const cli = (args: string[], env: Record<string, string> = {}) => runCli(["discover", ...args], { env: { LAYERSLAYER_HUB_URL: hub.url, ...env } });
  beforeAll(async () => {
    hub = startHubStandIn();
  });
  afterAll(async () => {
    hub.stop();
  });

  test("columns like podman search, every server string escaped and cut to its column", async () => {
    const r = await cli(["nginx"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(
      [
        "NAME                DESCRIPTION                                  STARS PULLS OFFICIAL UPDATED",
        "nginx               Official build of Nginx.                       20K  9.0B [OK]     -",
        "bitnami/nginx       Bitnami container image for NGINX              190  800M          -",
        "mallory/nginx-proxy \\x1b[2J\\x1b]0;owned\\x07 nginx proxy \\u202e …     1    12          -",
        "",
      ].join("\n"),
    );
    expect(r.stdout).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f\u202e]/);
  });

  test("--sort, --official, --limit", async () => {
    const names = (out: string) =>
      out
        .trim()
        .split("\n")
        .slice(1)
        .map((l) => l.split(" ")[0]);
    expect(names((await cli(["nginx", "--sort", "stars"])).stdout)).toEqual(["nginx", "bitnami/nginx", "mallory/nginx-proxy"]);
    expect(names((await cli(["bitnami", "--sort", "pulls"])).stdout)).toEqual(["bitnami/redis", "bitnami/nginx", "bitnami/postgresql"]);
    expect(names((await cli(["nginx", "--official"])).stdout)).toEqual(["nginx"]);
    expect(names((await cli(["app", "--limit", "3"])).stdout)).toEqual(["many/app-00", "many/app-01", "many/app-02"]);
    const bad = await cli(["nginx", "--sort", "name"]);
    expect(bad.code).toBe(2);
    expect(errorLine(bad)).toBe("layerslayer: --sort name: expected one of updated, pulls, stars");
    expect((await cli(["nginx", "--limit", "0"])).code).toBe(2);
    // -q: results only, no heading.
    expect((await cli(["nginx", "--official", "-q"])).stdout).toBe("nginx Official build of Nginx.   20K  9.0B [OK]     -\n");
  });

  test("--json: the raw strings, left out when absent (docs/json.md)", async () => {
    const r = await cli(["nginx-proxy", "--json"]);
    const doc = JSON.parse(r.stdout);
    expect(doc).toEqual({
      schema: 1,
      registry: "docker.io",
      query: "nginx-proxy",
      results: [
        { name: "mallory/nginx-proxy", description: hub.repositories.find((x) => x.namespace === "mallory")!.description, stars: 1, pulls: 12, official: false, automated: false },
      ],
    });
  });

  test("a bad answer is one clear line and its exit code; results before a refused next page are printed", async () => {
    hub.fault = () => new Response("<html>maintenance</html>", { headers: { "Content-Type": "text/html" } });
    const html = await cli(["nginx"]);
    expect(html.code).toBe(7);
    expect(errorLine(html)).toBe("layerslayer: Docker Hub search: the server answered with an HTML page, not the JSON of the API");
    hub.fault = () => new Response("{}", { status: 429, headers: { "Retry-After": "7200" } });
    const limited = await cli(["nginx"]);
    expect(limited.code).toBe(5);
    expect(errorLine(limited)).toBe("layerslayer: Docker Hub search: rate limited by the registry; retry after 7200 s");
    hub.fault = undefined;
    hub.rewrite = (doc) => ({ ...doc, results: (doc.results as unknown[]).slice(0, 2), next: "https://elsewhere.example/v2/search/repositories/?page=2" });
    const partial = await cli(["app", "--json"]);
    hub.rewrite = undefined;
    expect(partial.code).toBe(6);
    expect(JSON.parse(partial.stdout).results.map((x: { name: string }) => x.name)).toEqual(["many/app-00", "many/app-01"]);
    expect(JSON.parse(partial.stdout).complete).toBe(false);
    expect(errorLine(partial)).toBe(`layerslayer: Docker Hub search: the next page link leads to https://elsewhere.example, not ${hub.url}; refused`);
    const wrong = await cli(["nginx"], { LAYERSLAYER_HUB_URL: "gopher://hub.example" });
    expect(wrong.code).toBe(2);
    expect(errorLine(wrong)).toBe("layerslayer: LAYERSLAYER_HUB_URL: refusing a gopher: URL (only http and https are fetched)");
  });

  test("REGISTRY/TERM: /v1/search where the registry answers it, exit 8 where it does not", async () => {
    const r = await cli([`${hub.host}/bitnami`]);
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n")[1]).toBe("bitnami/nginx      Bitnami container image for NGINX        190     -          -");
    expect(hub.requests.at(-1)).toBe("/v1/search?q=bitnami&n=25");
    const none = await runCli(["discover", `${reg.host}/app`]);
    expect(none.code).toBe(8);
    expect(errorLine(none)).toBe(`layerslayer: ${reg.host} offers no search (GET /v1/search answered 404); its catalog lists every repository: layerslayer catalog ${reg.host}`);
  });
});

describe("repos and tags --details (Docker Hub stand-in)", () => {
  let hub: HubStandIn;
  const cli = (args: string[]) => runCli(args, { env: { LAYERSLAYER_HUB_URL: hub.url } });
  beforeAll(() => {
    hub = startHubStandIn();
  });
  afterAll(() => hub.stop());

  test("repos NAMESPACE: pulls, stars, last update, every page", async () => {
    const r = await cli(["repos", "bitnami"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        "NAME               PULLS STARS UPDATED    DESCRIPTION",
        "bitnami/nginx       800M   190 2024-06-25 Bitnami container image for NGINX",
        "bitnami/redis       900M   300 2024-06-24 Bitnami container image for Redis",
        "bitnami/postgresql  600M   250 2023-12-01 Bitnami container image for PostgreSQL",
        "",
      ].join("\n"),
    );
    hub.pageSizeCap = 10;
    const many = JSON.parse((await cli(["repos", "many", "--json"])).stdout);
    hub.pageSizeCap = 100;
    expect(many.repositories).toHaveLength(45);
    expect(many.repositories[0]).toEqual({ name: "many/app-00", description: "widget app number 0", stars: 0, pulls: 0, updated: "2023-01-01T00:00:00.000Z", private: false });
    const missing = await cli(["repos", "nobody"]);
    expect(missing.code).toBe(4);
    expect(errorLine(missing)).toBe("layerslayer: Docker Hub repositories of nobody: not found");
    expect((await cli(["repos", "../x"])).code).toBe(2);
  });

  test("tags --details: newest first, push time, size, every platform's digest", async () => {
    const r = await cli(["tags", "alpine", "--details"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toBe("TAG    PUSHED           SIZE PLATFORM       DIGEST");
    expect(lines[1]).toBe(`latest 2024-06-20 17:33 9.8M linux/amd64    sha256:${"c".repeat(64)}`);
    expect(lines[2]).toBe(`                             linux/arm64/v8 sha256:${"d".repeat(64)}`);
    expect(lines.filter((l) => /^\S/.test(l)).map((l) => l.split(" ")[0])).toEqual(["TAG", "latest", "3.20", "edge", "3.19"]);
    expect(hub.requests.at(-1)).toBe("/v2/namespaces/library/repositories/alpine/tags?page_size=50&ordering=last_updated");
    const json = JSON.parse((await cli(["tags", "docker.io/library/alpine", "--details", "--limit", "1", "--json"])).stdout);
    expect(json).toEqual({
      schema: 1,
      repository: "docker.io/library/alpine",
      tags: [
        {
          name: "latest",
          images: [
            { platform: "linux/amd64", digest: `sha256:${"c".repeat(64)}`, size: 3_600_000, pushed: "2024-06-20T17:32:00.000Z" },
            { platform: "linux/arm64/v8", digest: `sha256:${"d".repeat(64)}`, size: 3_500_000, pushed: "2024-06-20T17:32:00.000Z" },
            { platform: "linux/arm/v7", digest: `sha256:${"e".repeat(64)}`, size: 3_100_000, pushed: "2024-06-20T17:32:00.000Z" },
          ],
          pushed: "2024-06-20T17:33:00.000Z",
          size: 10_200_000,
          digest: `sha256:${"2".repeat(64)}`,
        },
      ],
    });
    const other = await cli(["tags", "localhost:5000/app", "--details"]);
    expect(other.code).toBe(8);
    expect(errorLine(other)).toBe("layerslayer: --details reads Docker Hub's API; localhost:5000 is not Docker Hub (tags without --details lists its tags)");
    expect((await cli(["tags", "alpine", "--limit", "3"])).code).toBe(2);
  });
});
