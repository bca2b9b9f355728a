import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { errorLine, runCli } from "../support/cli.ts";
import { startFaultProxy, type Fault, type FaultProxy } from "../support/fault-proxy.ts";
import { layerFrom, pushImage } from "../support/fixtures.ts";
import { READER, READER_IDENTITY_TOKEN, useRegistry } from "../support/registry.ts";

describe("a token service that answers nonsense (proxy in front of the real registry)", () => {
  const reg = useRegistry();
  let proxy: FaultProxy;
  beforeAll(async () => {
    await pushImage(reg, "t/app", "v1", { layers: [{ bytes: layerFrom([{ path: "etc/motd", content: "hi\n" }]) }] });
    proxy = startFaultProxy(reg.url);
  });
  afterAll(async () => {
    proxy.stop();
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

/**
 * Credentials follow the rule of the Authorization header wherever they travel, a request body
 * included: a token realm that redirects to another origin (another port, another address,
 * another name for the same machine) never receives the identity token or the password there.
 * The real token registry sits behind the fault proxy, which names a stand-in realm; the stand-in
 * redirects, or forwards to the real token service on its own origin.
 */
describe("a token realm that redirects: credentials never follow to another host", () => {
  interface Seen {
    method: string;
    url: string;
    authorization: string | null;
    body: string;
  }
  const reg = useRegistry({ auth: "token" });
  let proxy: FaultProxy;
  let realm: ReturnType<typeof Bun.serve>;
  const recorders: ReturnType<typeof Bun.serve>[] = [];
  const seen: Seen[] = [];
  /** Where the stand-in realm sends /token, and with which status. */
  let redirect = { status: 307, to: "" };
  let dir: string;
  let authFile: string;

  const record = async (req: Request): Promise<Seen> => {
    const s = { method: req.method, url: req.url, authorization: req.headers.get("authorization"), body: await req.text() };
    seen.push(s);
    return s;
  };
  const recorder = (hostname: string) => {
    const server = Bun.serve({
      hostname,
      port: 0,
      async fetch(req) {
        await record(req);
        return Response.json({ token: "from-elsewhere" });
      },
    });
    recorders.push(server);
    return `http://${hostname}:${server.port}`;
  };

  beforeAll(async () => {
    await pushImage(reg, "t/app", "v1", { layers: [{ bytes: layerFrom([{ path: "f" }]) }] });
    realm = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(req) {
        const url = new URL(req.url);
        const s = await record(req);
        if (url.pathname === "/token") return new Response(null, { status: redirect.status, headers: { Location: `${redirect.to}${url.search}` } });
        // /real: the real token service, asked as we were asked.
        const headers = new Headers(req.headers);
        headers.delete("host");
        const res = await fetch(`${reg.token!.realm}${url.search}`, { method: req.method, headers, ...(req.method === "POST" ? { body: s.body } : {}) });
        return new Response(await res.arrayBuffer(), { status: res.status, headers: { "Content-Type": "application/json" } });
      },
    });
    proxy = startFaultProxy(reg.url);
    proxy.rule = () => ({ kind: "headers", set: { "WWW-Authenticate": `Bearer realm="http://127.0.0.1:${realm.port}/token",service="layerslayer-test"` } });
    dir = mkdtempSync(join(tmpdir(), "ls-realm-"));
    authFile = join(dir, "auth.json");
    writeFileSync(authFile, JSON.stringify({ auths: { [proxy.host]: { identitytoken: READER_IDENTITY_TOKEN } } }));
  });
  afterAll(async () => {
    proxy.stop();
    realm.stop(true);
    for (const r of recorders) r.stop(true);
    rmSync(dir, { recursive: true, force: true });
  });

  const withIdentityToken = () => runCli(["tags", `${proxy.host}/t/app`, "--authfile", authFile]);
  const withPassword = () => runCli(["tags", `${proxy.host}/t/app`, "-u", READER.username, "--password-stdin"], { stdin: READER.password });
  const leaked = (s: Seen) => s.body.includes(READER_IDENTITY_TOKEN) || s.url.includes(encodeURIComponent(READER.password)) || s.authorization !== null;

  test("the same origin: a redirect inside the realm's origin still carries the login (both kinds)", async () => {
    redirect = { status: 307, to: `http://127.0.0.1:${realm.port}/real` };
    const before = reg.token!.requests.length;
    const a = await withIdentityToken();
    expect(a.stderr).toBe("");
    expect(a.stdout).toBe("v1\n");
    const b = await withPassword();
    expect(b.stdout).toBe("v1\n");
    const asked = reg.token!.requests.slice(before);
    expect(asked.some((q) => q.grant === "refresh_token" && q.user === READER.username)).toBe(true);
    expect(asked.some((q) => q.grant === undefined && q.user === READER.username)).toBe(true);
  });

  const elsewhere: [string, () => string][] = [
    ["another port", () => recorder("127.0.0.1")],
    ["another address", () => recorder("127.0.0.2")],
    ["another name for the same server", () => `http://localhost:${realm.port}/real`],
  ];
  for (const [where, target] of elsewhere) {
    for (const status of [301, 302, 303, 307, 308]) {
      test(`${status} to ${where}: the identity token is not sent there (exit 3, one line), nor the password`, async () => {
        const to = target();
        redirect = { status, to: to.includes("/real") ? to : `${to}/token` };
        const origin = new URL(redirect.to).origin;
        seen.length = 0;
        const r = await withIdentityToken();
        expect(r.code).toBe(3);
        expect(errorLine(r)).toBe(
          `layerslayer: ${proxy.host}: token service: refusing to follow a redirect to another host (${origin}): the credentials in the request are only sent where the registry's challenge named`,
        );
        expect(r.stdout).toBe("");
        // The realm was asked (with the token: it is where the challenge pointed); nothing else was.
        expect(seen.filter((s) => s.method === "POST")).toHaveLength(1);
        expect(seen.filter((s) => !s.url.startsWith(`http://127.0.0.1:${realm.port}/`))).toEqual([]);
        // A password (a GET with Basic) follows without its Authorization header; the login fails.
        seen.length = 0;
        const p = await withPassword();
        expect(p.code).toBe(3);
        const away = seen.filter((s) => new URL(s.url).origin === origin && !s.url.startsWith(`http://127.0.0.1:${realm.port}/`));
        if (where !== "another name for the same server") expect(away.length).toBeGreaterThan(0);
        expect(seen.filter((s) => !s.url.startsWith(`http://127.0.0.1:${realm.port}/`)).filter(leaked)).toEqual([]);
      });
    }
  }
});
