import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { LayerslayerError } from "../../src/errors.ts";
import { HubClient, hubEndpoint, hubName } from "../../src/hub/client.ts";
import { startHubStandIn, type HubStandIn } from "../support/hub-stand-in.ts";

describe("Docker Hub's API (against the stand-in)", () => {
  let hub: HubStandIn;
  const client = (opts: { maxPages?: number; timeoutMs?: number; retries?: number } = {}) => new HubClient({ endpoint: new URL(hub.url), retryBaseMs: 10, ...opts });
  beforeAll(() => {
    hub = startHubStandIn();
  });
  afterAll(() => hub.stop());
  beforeEach(() => {
    hub.fault = undefined;
    hub.rewrite = undefined;
    hub.olderPathsOnly = false;
    hub.pageSizeCap = 100;
    hub.requests.length = 0;
  });

  test("search follows next links until the limit, asking for pages of at most 100", async () => {
    const list = await client().search("app", { limit: 45 });
    expect(list.items.map((r) => r.name)).toEqual(Array.from({ length: 45 }, (_, i) => `many/app-${String(i).padStart(2, "0")}`));
    expect(list.items[3]).toEqual({ name: "many/app-03", description: "widget app number 3", stars: 3, pulls: 3000, official: false, automated: false });
    expect(list.error).toBeUndefined();
    expect(hub.requests).toEqual(["/v2/search/repositories/?query=app&page=1&page_size=45"]);
    const small = await client().search("app", { limit: 12 });
    expect(small.items).toHaveLength(12);
  });

  test("a list longer than a page is read page by page through `next`", async () => {
    hub.pageSizeCap = 10;
    const list = await client().repositories("many", 10_000);
    expect(list.items).toHaveLength(45);
    expect(list.items[44]).toEqual({ name: "many/app-44", description: "widget app number 44", stars: 44, pulls: 44_000, updated: "2023-02-14T00:00:00.000Z", private: false });
    expect(hub.requests).toEqual(["/v2/namespaces/many/repositories?page_size=100", ...[2, 3, 4, 5].map((p) => `/v2/namespaces/many/repositories?page_size=100&page=${p}`)]);
    hub.requests.length = 0;
    const tags = await client().tags("many", "app-00", 25);
    expect(tags.items.map((t) => t.name).slice(0, 3)).toEqual(["v29", "v28", "v27"]);
    expect(tags.items).toHaveLength(25);
    expect(hub.requests).toHaveLength(3);
  });

  test("--official keeps only official images, reading on past pages without one, at most 10 pages", async () => {
    const list = await client().search("nginx", { limit: 10, official: true });
    expect(list.items.map((r) => r.name)).toEqual(["nginx"]);
    hub.pageSizeCap = 2;
    hub.requests.length = 0;
    const few = await client().search("a", { limit: 25, official: true });
    expect(few.error).toBeUndefined();
    expect(few.items.map((r) => r.name)).toEqual(["alpine", "nginx", "busybox"]);
    expect(hub.requests).toHaveLength(10);
  });

  test("tags come newest first with each platform's digest, size and push time", async () => {
    const list = await client().tags("library", "alpine", 50);
    expect(list.items.map((t) => t.name)).toEqual(["latest", "3.20", "edge", "3.19"]);
    expect(list.items[1]!.images.map((i) => i.platform)).toEqual(["linux/amd64", "linux/arm64/v8", "linux/arm/v7"]);
    expect(list.items[1]!.images[0]).toEqual({ platform: "linux/amd64", digest: `sha256:${"c".repeat(64)}`, size: 3_600_000, pushed: "2024-06-20T17:32:00.000Z" });
    expect(list.items[1]!.size).toBe(10_200_000);
    expect(hub.requests[0]).toBe("/v2/namespaces/library/repositories/alpine/tags?page_size=50&ordering=last_updated");
  });

  test("the server's order is not trusted: tags are sorted by their push time", async () => {
    hub.rewrite = (doc) => ({ ...doc, results: [...(doc.results as unknown[])].reverse() });
    const list = await client().tags("library", "alpine", 50);
    expect(list.items.map((t) => t.name)).toEqual(["latest", "3.20", "edge", "3.19"]);
  });

  test("the older paths are used where the newer ones answer 404", async () => {
    hub.olderPathsOnly = true;
    expect((await client().repositories("bitnami", 100)).items.map((r) => r.name)).toEqual(["bitnami/nginx", "bitnami/redis", "bitnami/postgresql"]);
    expect((await client().tags("library", "alpine", 10)).items).toHaveLength(4);
    expect(hub.requests.filter((r) => r.startsWith("/v2/repositories/"))).toHaveLength(2);
  });

  test("a namespace that does not exist is NOT_FOUND", async () => {
    await expect(client().repositories("nobody-here", 10)).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  test("missing and mistyped fields are absent; results without a name are skipped and counted", async () => {
    hub.rewrite = (doc) => ({
      ...doc,
      results: [
        { repo_name: "a/one" },
        { short_description: "no name" },
        "not an object",
        { repo_name: "b/two", star_count: "many", pull_count: -5, is_official: "yes", short_description: 42 },
      ],
    });
    const list = await client().search("x", { limit: 10 });
    expect(list.items).toEqual([{ name: "a/one" }, { name: "b/two" }]);
    expect(list.skipped).toBe(2);
  });

  test("a 429 with Retry-After is waited out and retried", async () => {
    hub.fault = (_url, n) => (n < 2 ? new Response("slow down", { status: 429, headers: { "Retry-After": "1" } }) : undefined);
    const started = Date.now();
    const list = await client().search("nginx", { limit: 5 });
    expect(list.items.length).toBeGreaterThan(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    expect(hub.requests).toHaveLength(3);
  });

  test("a 429 asking for too long a wait fails at once with RATE_LIMIT", async () => {
    hub.fault = () => new Response("{}", { status: 429, headers: { "Retry-After": "3600" } });
    const e = await client()
      .search("nginx", { limit: 5 })
      .catch((x) => x);
    expect(e).toBeInstanceOf(LayerslayerError);
    expect(e.code).toBe("RATE_LIMIT");
    expect(e.message).toBe("Docker Hub search: rate limited by the registry; retry after 3600 s");
    expect(hub.requests).toHaveLength(1);
  });

  test("HTML instead of JSON is CORRUPT, whatever the status", async () => {
    hub.fault = () => new Response("<!DOCTYPE html><html><body>Welcome</body></html>", { headers: { "Content-Type": "text/html" } });
    await expect(client().search("nginx", { limit: 5 })).rejects.toThrow("Docker Hub search: the server answered with an HTML page, not the JSON of the API");
    hub.fault = () => new Response("[1,2]", { headers: { "Content-Type": "application/json" } });
    await expect(client().search("nginx", { limit: 5 })).rejects.toThrow("Docker Hub search: the answer is not a JSON object");
    hub.fault = () => Response.json({ count: 3 });
    await expect(client().search("nginx", { limit: 5 })).rejects.toThrow('Docker Hub search: the answer has no "results" list');
  });

  test("a next link to another host or scheme is refused; what came before it is kept", async () => {
    hub.rewrite = (doc) => ({ ...doc, results: (doc.results as unknown[]).slice(0, 5), next: "http://evil.example/v2/?page=2" });
    const refused = await client().repositories("many", 10_000);
    expect(refused.items).toHaveLength(5);
    expect(refused.error?.code).toBe("NETWORK");
    expect(refused.error?.message).toBe(`Docker Hub repositories of many: the next page link leads to http://evil.example, not ${hub.url}; refused`);
    hub.rewrite = (doc) => ({ ...doc, results: (doc.results as unknown[]).slice(0, 5), next: "file:///etc/passwd" });
    const scheme = await client().repositories("many", 10_000);
    expect(scheme.error?.message).toBe("Docker Hub repositories of many: next page: refusing a file: URL (only http and https are fetched)");
    for (const next of ["https://127.0.0.1/v2/namespaces/many/repositories?page=2", `${hub.url.replace("127.0.0.1", "localhost")}/v2/namespaces/many/repositories?page=2`]) {
      hub.rewrite = (doc) => ({ ...doc, results: (doc.results as unknown[]).slice(0, 5), next });
      expect((await client().repositories("many", 10_000)).error?.message).toContain("; refused");
    }
    // Nothing was ever asked of another origin: every request reached the stand-in, one per list.
    expect(hub.requests).toHaveLength(4);
  });

  test("pages are bounded: an endless chain of next links stops after maxPages", async () => {
    hub.rewrite = (doc, url) => {
      const n = Number(url.searchParams.get("page") ?? "1");
      const next = new URL(url.href);
      next.searchParams.set("page", String(n + 1));
      return { ...doc, results: [], next: next.href };
    };
    const list = await client({ maxPages: 7 }).repositories("many", 100);
    expect(list.items).toHaveLength(0);
    expect(list.error?.message).toBe("Docker Hub repositories of many: more than 7 pages; stopped");
    expect(hub.requests).toHaveLength(7);
    // A page that links back to itself ends the list.
    hub.requests.length = 0;
    hub.rewrite = (doc, url) => ({ ...doc, next: url.href });
    expect((await client().repositories("bitnami", 100)).items).toHaveLength(3);
    expect(hub.requests).toHaveLength(1);
  });

  test("the whole list is bounded in time", async () => {
    hub.fault = (_url, n) => (n > 0 ? new Response("busy", { status: 503 }) : undefined);
    hub.rewrite = (doc) => ({ ...doc, results: (doc.results as unknown[]).slice(0, 2), next: `${hub.url}/v2/namespaces/many/repositories?page=2` });
    const started = Date.now();
    const list = await client({ timeoutMs: 600, retries: 50 }).repositories("many", 100);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(list.items).toHaveLength(2);
    expect(list.error?.message).toBe("Docker Hub repositories of many: no complete answer within 1 s");
  });

  test("LAYERSLAYER_HUB_URL: http(s) only, no query or login; names are checked before they go into a URL", () => {
    expect(hubEndpoint({}).href).toBe("https://hub.docker.com/");
    expect(hubEndpoint({ LAYERSLAYER_HUB_URL: "http://mirror.example:8080/hub/" }).href).toBe("http://mirror.example:8080/hub");
    // The path of the endpoint is kept, and never doubled into "//v2/".
    const mirror = new HubClient({ endpoint: new URL(`${hub.url}/`) });
    return mirror.repositories("bitnami", 5).then(() => expect(hub.requests.at(-1)).toBe("/v2/namespaces/bitnami/repositories?page_size=5"));
    expect(() => hubEndpoint({ LAYERSLAYER_HUB_URL: "file:///etc/passwd" })).toThrow("LAYERSLAYER_HUB_URL: refusing a file: URL (only http and https are fetched)");
    expect(() => hubEndpoint({ LAYERSLAYER_HUB_URL: "https://u:p@hub.example" })).toThrow("without a query, fragment or login");
    expect(() => hubName("../etc", "namespace")).toThrow('"../etc" is not a Docker Hub namespace name');
    expect(hubName("Bitnami", "namespace")).toBe("bitnami");
  });
});
