import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { RegistryClient } from "../../src/registry/client.ts";
import { registrySearch, sortResults } from "../../src/registry/search.ts";
import { startHubStandIn, type HubStandIn } from "../support/hub-stand-in.ts";
import { useRegistry } from "../support/registry.ts";

describe("the registry search protocol (/v1/search)", () => {
  let stand: HubStandIn;
  const reg = useRegistry();
  beforeAll(async () => {
    stand = startHubStandIn();
  });
  afterAll(async () => {
    stand.stop();
  });
  const search = (host: string, term: string, n = 25) => registrySearch(new RegistryClient({ retryBaseMs: 10 }).transport(host), host, term, n);

  test("a registry that answers it: q and n go in the query, results come back as they were sent", async () => {
    const found = await search(stand.host, "bitnami", 2);
    expect(stand.requests.at(-1)).toBe("/v1/search?q=bitnami&n=2");
    expect(found).toEqual({
      results: [
        { name: "bitnami/nginx", description: "Bitnami container image for NGINX", stars: 190, official: false, automated: false },
        { name: "bitnami/redis", description: "Bitnami container image for Redis", stars: 300, official: false, automated: false },
      ],
      skipped: 0,
    });
    // n is capped at 100, as docker caps it.
    await search(stand.host, "a b&c", 5000);
    expect(stand.requests.at(-1)).toBe("/v1/search?q=a%20b%26c&n=100");
  });

  test("an answer that is not the protocol's is CORRUPT", async () => {
    stand.rewrite = () => ({ query: "x", num_results: 1 });
    await expect(search(stand.host, "x")).rejects.toThrow(`${stand.host} search: the answer has no "results" list`);
    stand.rewrite = undefined;
    stand.fault = () => new Response("<html>login</html>", { headers: { "Content-Type": "text/html" } });
    await expect(search(stand.host, "x")).rejects.toThrow(`${stand.host} search: the server answered with an HTML page, not the JSON of the API`);
    stand.fault = undefined;
  });

  test("Debian's docker-registry does not implement it: UNSUPPORTED, one clear line", async () => {
    const e = await search(reg.host, "app").catch((x) => x);
    expect(e.code).toBe("UNSUPPORTED");
    expect(e.exitCode).toBe(8);
    expect(e.message).toBe(`${reg.host} offers no search (GET /v1/search answered 404); its catalog lists every repository: layerslayer catalog ${reg.host}`);
  });

  test("results sort by pulls, stars or last update, highest first, the ones without last", () => {
    const rs = [
      { name: "a", stars: 1 },
      { name: "b", stars: 5, updated: "2020-01-01T00:00:00.000Z" },
      { name: "c" },
      { name: "d", stars: 5, pulls: 9, updated: "2024-01-01T00:00:00.000Z" },
    ];
    expect(sortResults(rs, "stars").map((r) => r.name)).toEqual(["b", "d", "a", "c"]);
    expect(sortResults(rs, "pulls").map((r) => r.name)).toEqual(["d", "a", "b", "c"]);
    expect(sortResults(rs, "updated").map((r) => r.name)).toEqual(["d", "b", "a", "c"]);
  });
});
