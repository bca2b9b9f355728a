import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { namePages } from "../../src/registry/pages.ts";
import { Transport } from "../../src/registry/transport.ts";

/** A server whose list pages link in a circle (a fault no real registry produces). */
describe("paginated lists from a server that links in a circle", () => {
  let server: ReturnType<typeof Bun.serve>;
  const asked: string[] = [];
  beforeAll(() => {
    server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(req) {
        const url = new URL(req.url);
        if (url.pathname === "/v2/") return Response.json({});
        asked.push(`${url.pathname}${url.search}`);
        const last = url.searchParams.get("last");
        const next = last === "b" ? "/v2/_catalog?n=2" : "/v2/_catalog?n=2&last=b";
        const names = last === "b" ? ["c"] : ["a", "b"];
        return Response.json({ repositories: names }, { headers: { Link: `<${next}>; rel="next"` } });
      },
    });
  });
  afterAll(() => server.stop(true));

  test("end when a page links back to one already read", async () => {
    const t = new Transport(`127.0.0.1:${server.port}`, { retries: 0 });
    const pages: string[][] = [];
    for await (const p of namePages(t, "/v2/_catalog?n=2", { scope: "registry:catalog:*", what: "catalog", field: "repositories" })) pages.push(p);
    expect(pages).toEqual([["a", "b"], ["c"]]);
    expect(asked).toEqual(["/v2/_catalog?n=2", "/v2/_catalog?n=2&last=b"]);
  });
});
