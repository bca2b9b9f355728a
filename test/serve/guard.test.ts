import { describe, expect, test } from "bun:test";
import { DEFAULT_CAPS } from "../../src/serve/config.ts";
import { HttpRefusal, Limits, tokenCheck } from "../../src/serve/guard.ts";

const req = (authorization?: string) => new Request("http://x/", authorization ? { headers: { authorization } } : {});

describe("tokenCheck", () => {
  const check = tokenCheck("the-right-token-0123");
  test("the right token passes; a missing, wrong, longer or shorter one is 401", () => {
    check(req("Bearer the-right-token-0123"));
    for (const h of [undefined, "Bearer the-right-token-0124", "Bearer the-right-token-01234", "Bearer the", "Basic dTpw", "Bearer"]) {
      const e = (() => {
        try {
          check(req(h));
        } catch (x) {
          return x;
        }
      })() as HttpRefusal;
      expect(e).toBeInstanceOf(HttpRefusal);
      expect(e.status).toBe(401);
    }
  });
  test("no token configured: everyone passes", () => tokenCheck(undefined)(req()));
});

describe("Limits", () => {
  test("requests per minute per client, then a new window", () => {
    let now = 0;
    const l = new Limits({ ...DEFAULT_CAPS, requestsPerMinute: 3 }, () => now);
    for (let i = 0; i < 3; i++) l.request("a");
    expect(() => l.request("a")).toThrow(HttpRefusal);
    l.request("b");
    now = 60_000;
    l.request("a");
  });

  test("downloads per client and in all, released once", () => {
    const l = new Limits({ ...DEFAULT_CAPS, downloadsPerClient: 2, downloadsTotal: 3 });
    const a1 = l.download("a");
    l.download("a");
    expect(() => l.download("a")).toThrow(/2 downloads running/);
    l.download("b");
    expect(() => l.download("c")).toThrow(/server has 3 downloads/);
    a1();
    a1();
    expect(l.running).toBe(2);
    l.download("c");
  });
});
