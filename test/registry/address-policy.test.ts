import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { addressKind, addressPolicy, PolicyRefusal } from "../../src/registry/address-policy.ts";
import { Transport } from "../../src/registry/transport.ts";
import { withRegistry } from "../support/registry.ts";

describe("addressKind", () => {
  const cases: [string, string][] = [
    ["127.0.0.1", "loopback"],
    ["127.255.0.9", "loopback"],
    ["::1", "loopback"],
    ["[::1]", "loopback"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:7f00:1", "loopback"],
    ["0.0.0.0", "unspecified"],
    ["::", "unspecified"],
    ["169.254.169.254", "link-local"],
    ["fe80::1", "link-local"],
    ["febf::1", "link-local"],
    ["10.0.0.1", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.1", "private"],
    ["100.64.0.1", "private"],
    ["fc00::1", "private"],
    ["fdff::1", "private"],
    ["::ffff:10.0.0.1", "private"],
    ["172.32.0.1", "public"],
    ["8.8.8.8", "public"],
    ["2606:4700::1111", "public"],
    ["fec0::1", "public"],
  ];
  for (const [ip, kind] of cases) test(`${ip} is ${kind}`, () => expect(addressKind(ip)).toBe(kind as never));
  test("a name is not an address", () => expect(() => addressKind("example.com")).toThrow(/not an IP address/));
});

describe("addressPolicy", () => {
  const answers: Record<string, string[]> = { "public.example": ["93.184.216.34"], "sneaky.example": ["93.184.216.34", "10.0.0.7"], "meta.example": ["169.254.169.254"] };
  const check = addressPolicy({ allowedHosts: new Set(["meta.example", "127.0.0.1:5000"]), resolve: async (h) => answers[h] ?? [] });

  test("public names and addresses pass; a name is given back with the address it was checked at", async () => {
    expect(await check(new URL("https://public.example/v2/"))).toEqual({ address: "93.184.216.34" });
    expect(await check(new URL("https://8.8.8.8/v2/"))).toBeUndefined();
    // An allowed host is not pinned: it may be reached whatever it resolves to.
    expect(await check(new URL("https://meta.example/x"))).toBeUndefined();
  });

  test("a name with no answer is refused", async () => {
    await expect(check(new URL("https://nowhere.example/v2/"))).rejects.toThrow("nowhere.example: the name does not resolve");
  });

  test("every DNS answer is checked: one private address refuses the name", async () => {
    const e = await check(new URL("https://sneaky.example/v2/")).catch((x) => x);
    expect(e).toBeInstanceOf(PolicyRefusal);
    expect(e.message).toBe("refusing to reach sneaky.example (it resolves to 10.0.0.7): a private address; allow the registry with --allow-registry to reach it");
  });

  test("an allowed host passes whatever it resolves to, on its own port only", async () => {
    await check(new URL("https://meta.example/x"));
    await check(new URL("http://127.0.0.1:5000/v2/"));
    await expect(check(new URL("http://127.0.0.1:5001/v2/"))).rejects.toBeInstanceOf(PolicyRefusal);
  });

  test("the transport asks before every request, and a refusal is not retried", async () => {
    const seen: string[] = [];
    const t = new Transport("203.0.113.9:5000", {
      plainHttp: true,
      retries: 3,
      checkUrl: async (u) => {
        seen.push(u.href);
        throw new PolicyRefusal("no");
      },
    });
    await expect(t.request("/v2/x/manifests/latest")).rejects.toBeInstanceOf(PolicyRefusal);
    expect(seen).toEqual(["http://203.0.113.9:5000/v2/x/manifests/latest"]);
  });
});

/**
 * DNS rebinding: a name that answers a public address to the check and another one when fetch looks
 * it up again. The request must go to the address the check approved, not to a second answer. Here
 * the name is registry.test, which no resolver answers (.test is reserved): a request that looked it
 * up again would fail, one pinned to the approved address (the real registry, on loopback) succeeds.
 */
describe("a request goes to the address its check approved", () => {
  test("plain http: the address in the URL, the name in the Host header", async () => {
    await withRegistry(async (reg) => {
      const port = new URL(reg.url).port;
      const seen: string[] = [];
      const t = new Transport(`registry.test:${port}`, {
        plainHttp: true,
        retries: 0,
        checkUrl: async (u) => {
          seen.push(u.host);
          return { address: "127.0.0.1" };
        },
      });
      const res = await t.request("/v2/");
      expect(res.status).toBe(200);
      // One request (no ping before it), with the name in its Host header.
      expect(seen).toEqual([`registry.test:${port}`]);
      // Unpinned, the same name does not resolve at all.
      const unpinned = new Transport(`registry.test:${port}`, { plainHttp: true, retries: 0 });
      await expect(unpinned.request("/v2/")).rejects.toThrow("host name not found");
    });
  });

  test("https: the certificate is checked against the name (SNI), not the address", async () => {
    await withRegistry(
      async (reg) => {
        const port = new URL(reg.url).port;
        // In a process of its own, to trust the test registry's certificate (read at start-up).
        const script = (name: string) => `
          import { Transport } from ${JSON.stringify(join(import.meta.dir, "../../src/registry/transport.ts"))};
          const t = new Transport(${JSON.stringify(`${name}:${port}`)}, { retries: 0, checkUrl: async () => ({ address: "127.0.0.1" }) });
          try { console.log("status", (await t.request("/v2/")).status); } catch (e) { console.log("error", e.message); }`;
        const run = (name: string) =>
          Bun.spawnSync([process.execPath, "-e", script(name)], { env: { ...process.env, NODE_EXTRA_CA_CERTS: reg.certPath! }, stdout: "pipe" })
            .stdout.toString()
            .trim();
        expect(run("registry.test")).toBe("status 200");
        // A name the certificate does not carry is refused, though the address is the same.
        expect(run("other.test")).toMatch(/^error .*TLS error/);
      },
      { tls: true },
    );
  });
});
