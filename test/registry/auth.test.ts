import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { errorLine, runCli } from "../support/cli.ts";
import { startFaultProxy, type Fault, type FaultProxy } from "../support/fault-proxy.ts";
import { layerFrom, pushImage } from "../support/fixtures.ts";
import { startRegistry, type TestRegistry } from "../support/registry.ts";

describe("a token service that answers nonsense (proxy in front of the real registry)", () => {
  let reg: TestRegistry;
  let proxy: FaultProxy;
  beforeAll(async () => {
    reg = await startRegistry();
    await pushImage(reg, "t/app", "v1", { layers: [{ bytes: layerFrom([{ path: "etc/motd", content: "hi\n" }]) }] });
    proxy = startFaultProxy(reg.url);
  });
  afterAll(async () => {
    proxy.stop();
    await reg.stop();
  });

  /** Registry requests without a token get a bearer challenge naming the proxy's /token; /token answers `reply`. */
  const tokenReply = (reply: string) => {
    proxy.rule = (req): Fault | undefined => {
      if (new URL(req.url).pathname === "/token") return { kind: "status", status: 200, headers: { "Content-Type": "application/json" }, body: reply };
      if (req.headers.get("authorization") === "Bearer good") return undefined;
      return { kind: "status", status: 401, headers: { "WWW-Authenticate": `Bearer realm="${proxy.url}/token",service="reg"` } };
    };
  };

  const cases: [string, string][] = [
    ["null", "null instead of a JSON object"],
    ["42", "a number instead of a JSON object"],
    ['"tok"', "a string instead of a JSON object"],
    ["[1,2]", "an array instead of a JSON object"],
    ["{}", "no token"],
    ['{"token": 7}', "no token"],
    ['{"token": ""}', "no token"],
    ["<html>", "a reply that is not JSON"],
    ['{"token": "abc\\u001b[31mdef"}', "a token with characters a header cannot carry"],
    ['{"token": "abc\\r\\nX-Injected: 1"}', "a token with characters a header cannot carry"],
    ['{"access_token": "a\\u0000b"}', "a token with characters a header cannot carry"],
  ];
  for (const [reply, why] of cases) {
    test(`token reply ${reply}: exit 3, one line`, async () => {
      tokenReply(reply);
      const r = await runCli(["manifest", `${proxy.host}/t/app:v1`]);
      expect(r.code).toBe(3);
      expect(errorLine(r)).toStartWith(`layerslayer: ${proxy.host}: the token service sent ${why}`);
      expect(r.stdout).toBe("");
    });
  }

  test("a good token reply is used (the same path works)", async () => {
    tokenReply('{"token": "good", "expires_in": 300}');
    const r = await runCli(["manifest", `${proxy.host}/t/app:v1`]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).schemaVersion).toBe(2);
  });

  test("a token reply cut short is fetched again; cut every time, exit 6", async () => {
    let cuts = 0;
    proxy.rule = (req) => {
      if (new URL(req.url).pathname === "/token") {
        const reply: Fault = { kind: "status", status: 200, body: '{"token": "good", "expires_in": 300}' };
        return cuts++ < 1 ? [reply, { kind: "cut", afterBytes: 10 }] : reply;
      }
      if (req.headers.get("authorization") === "Bearer good") return undefined;
      return { kind: "status", status: 401, headers: { "WWW-Authenticate": `Bearer realm="${proxy.url}/token",service="reg"` } };
    };
    const ok = await runCli(["manifest", `${proxy.host}/t/app:v1`, "--verbose"]);
    expect(ok.stderr).toContain("token service: the transfer broke off after 10 of 36 bytes; retrying in");
    expect(ok.code).toBe(0);
    expect(cuts).toBe(2);
    cuts = -1000;
    const r = await runCli(["manifest", `${proxy.host}/t/app:v1`]);
    expect(r.code).toBe(6);
    expect(errorLine(r)).toMatch(/: token service: the transfer broke off after 10 of 36 bytes$/);
  });
});
