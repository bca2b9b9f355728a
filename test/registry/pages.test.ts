import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { LayerslayerError } from "../../src/errors.ts";
import { ListWalk, MAX_PAGES, namePages, nextLink } from "../../src/registry/pages.ts";
import { Transport } from "../../src/registry/transport.ts";
import { startStandIn, type StandIn } from "../support/stand-in.ts";

test("Link pagination: relative and absolute on the registry's origin; another host, port or scheme refused", () => {
  const base = "http://127.0.0.1:5000";
  expect(nextLink('</v2/a/tags/list?n=2&last=b>; rel="next"', base, "l")).toBe("/v2/a/tags/list?n=2&last=b");
  expect(nextLink('<http://127.0.0.1:5000/v2/a/tags/list?last=c>; rel="next"', base, "l")).toBe("/v2/a/tags/list?last=c");
  expect(nextLink('</v2/a/tags/list?last=b>; rel="prev"', base, "l")).toBeUndefined();
  const refused: [string, string][] = [
    ["https://evil.example/v2/x", "l: next page: refusing a Link to another host or scheme (https://evil.example); a list is read from the registry only"],
    ["//evil.example/v2/x", "l: next page: refusing a Link to another host or scheme (http://evil.example); a list is read from the registry only"],
    ["http://127.0.0.1:5001/v2/x", "l: next page: refusing a Link to another host or scheme (http://127.0.0.1:5001); a list is read from the registry only"],
    ["https://127.0.0.1:5000/v2/x", "l: next page: refusing a Link to another host or scheme (https://127.0.0.1:5000); a list is read from the registry only"],
    ["file:///etc/passwd", "l: next page: refusing a file: URL (only http and https are fetched)"],
    ["gopher://127.0.0.1:5000/x", "l: next page: refusing a gopher: URL (only http and https are fetched)"],
  ];
  for (const [link, message] of refused) {
    let err: unknown;
    try {
      nextLink(`<${link}>; rel="next"`, base, "l");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LayerslayerError);
    expect((err as LayerslayerError).code).toBe("NETWORK");
    expect((err as LayerslayerError).message).toBe(message);
  }
});

test("a walk's bounds: requests, names and time, each one line (CORRUPT), the same error after", () => {
  const requests = new ListWalk("r catalog", { requests: 3, names: 100, ms: 1000 });
  for (let i = 0; i < 3; i++) requests.request();
  expect(() => requests.request()).toThrow("r catalog: the registry's lists did not end within 3 requests; stopped there (the listing is incomplete)");
  expect(() => requests.took(1)).toThrow(requests.stopped!);
  expect(requests.stopped!.code).toBe("CORRUPT");
  const names = new ListWalk("n catalog", { requests: 100, names: 10, ms: 1000 });
  names.took(10);
  expect(() => names.took(1)).toThrow("n catalog: the registry's lists did not end within 10 names");
  let now = 0;
  const time = new ListWalk("t catalog", { requests: 100, names: 100, ms: 5000 }, () => now);
  time.request();
  now = 5001;
  expect(() => time.request()).toThrow("t catalog: the registry's lists did not end within 5 s");
});

/**
 * A hostile registry stand-in (no real registry does this): each mode is a way a list can fail to
 * end. Every page is counted, so a test can assert the whole walk stayed bounded.
 */
describe("paginated lists from a registry whose lists do not end", () => {
  let server: StandIn;
  let mode: "circle" | "same-names" | "fresh-names" | "repeats" | "invalid" = "circle";
  let asked: string[] = [];
  beforeAll(() => {
    server = startStandIn((url, n) => {
      const last = url.searchParams.get("last");
      if (mode === "circle") {
        const next = last === "b" ? "/v2/_catalog?n=2" : "/v2/_catalog?n=2&last=b";
        return Response.json({ repositories: last === "b" ? ["c"] : ["a", "b"] }, { headers: { Link: `<${next}>; rel="next"` } });
      }
      // A Link that changes on every page.
      const link = { Link: `</v2/_catalog?n=2&last=${crypto.randomUUID()}>; rel="next"` };
      if (mode === "same-names") return Response.json({ repositories: ["a", "b"] }, { headers: link });
      if (mode === "invalid") return Response.json({ repositories: n === 1 ? ["a", "invalid", "invalid"] : ["invalid", "b"] }, { headers: n < 2 ? link : {} });
      if (mode === "repeats") return Response.json({ repositories: n === 1 ? ["a", "a", "b"] : ["b", "c", 7, null, "c"] }, { headers: n < 2 ? link : {} });
      return Response.json({ repositories: [`r${n}`, `s${n}`] }, { headers: link });
    });
    asked = server.asked;
  });
  afterAll(() => server.stop());

  const list = async (walk?: ListWalk, onInvalid?: (n: string) => void) => {
    const t = new Transport(server.host, { retries: 0 });
    const pages: string[][] = [];
    asked.length = 0;
    let error: unknown;
    try {
      for await (const p of namePages(t, "/v2/_catalog?n=2", {
        scope: "registry:catalog:*",
        what: "catalog",
        field: "repositories",
        valid: (n) => n !== "invalid",
        onInvalid,
        walk,
      }))
        pages.push(p);
    } catch (e) {
      error = e;
    }
    return { pages, error: error as LayerslayerError | undefined };
  };

  test("a page that links back to one already read ends the list", async () => {
    mode = "circle";
    const { pages, error } = await list();
    expect(error).toBeUndefined();
    expect(pages).toEqual([["a", "b"], ["c"]]);
    expect(asked).toEqual(["/v2/_catalog?n=2", "/v2/_catalog?n=2&last=b"]);
  });

  test("a Link that keeps changing over the same names ends after the page that brings nothing new", async () => {
    mode = "same-names";
    const { pages, error } = await list();
    expect(error).toBeUndefined();
    expect(pages).toEqual([["a", "b"], []]);
    expect(asked).toHaveLength(2);
  });

  test("names repeated on a page and across pages come once; non-strings are dropped", async () => {
    mode = "repeats";
    const { pages } = await list();
    expect(pages).toEqual([["a", "b"], ["c"]]);
  });

  test("a name that is not valid is never yielded; the hook hears of it once", async () => {
    mode = "invalid";
    const told: string[] = [];
    const { pages, error } = await list(undefined, (n) => told.push(n));
    expect(error).toBeUndefined();
    expect(pages).toEqual([["a"], ["b"]]);
    expect(told).toEqual(["invalid"]);
  });

  test("a list inventing names for ever stops at MAX_PAGES pages with one line (CORRUPT), pages before kept", async () => {
    mode = "fresh-names";
    const { pages, error } = await list();
    expect(asked).toHaveLength(MAX_PAGES);
    expect(pages).toHaveLength(MAX_PAGES);
    expect(error?.code).toBe("CORRUPT");
    expect(error?.message).toBe(`catalog: the list goes on past ${MAX_PAGES} pages; stopped there (the listing is incomplete)`);
  });

  test("lists sharing a walk share its bound: the second list gets only what the first left", async () => {
    mode = "fresh-names";
    const walk = new ListWalk("w catalog", { requests: 150, names: 1_000_000, ms: 60_000 });
    const first = await list(walk);
    expect(asked).toHaveLength(150);
    expect(first.error).toBe(walk.stopped!);
    const second = await list(walk);
    expect(asked).toHaveLength(0);
    expect(second.error).toBe(walk.stopped!);
    expect(walk.stopped!.message).toBe("w catalog: the registry's lists did not end within 150 requests; stopped there (the listing is incomplete)");
    const byNames = new ListWalk("w catalog", { requests: 1000, names: 21, ms: 60_000 });
    const named = await list(byNames);
    expect(named.pages.flat()).toHaveLength(20); // the page that went past the bound is not yielded
    expect(asked).toHaveLength(11);
  });
});
