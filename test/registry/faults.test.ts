import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { LayerslayerError } from "../../src/errors.ts";
import { parseReference } from "../../src/ref/reference.ts";
import { RegistryClient } from "../../src/registry/client.ts";
import { RegistrySource } from "../../src/source/registry.ts";
import { resolveImage } from "../../src/oci/resolve.ts";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy.ts";
import { layerFrom, pushImage, type PushedImage } from "../support/fixtures.ts";
import { READER, useRegistry } from "../support/registry.ts";

/** The bytes with the second-to-last one made a space: the JSON still parses, its digest no longer matches. */
function oneByteChanged(b: Uint8Array): Uint8Array {
  const c = b.slice();
  c[c.length - 2] = 0x20;
  return c;
}

const quick = { retries: 3, retryBaseMs: 5 };

describe("faults a real registry cannot produce", () => {
  const reg = useRegistry({ auth: "htpasswd" });
  let proxy: FaultProxy;
  let img: PushedImage;
  beforeAll(async () => {
    img = await pushImage(reg, "f/app", "v1", { layers: [{ bytes: layerFrom([{ path: "etc/os-release", content: "ID=fixture\n" }]) }] });
    proxy = startFaultProxy(reg.url);
  });
  afterAll(async () => {
    proxy.stop();
  });
  const client = () => new RegistryClient({ ...quick, credentials: READER });
  const manifestRef = () => parseReference(`${proxy.host}/f/app:v1`);

  test("429 with Retry-After is waited out and retried", async () => {
    let hits = 0;
    proxy.rule = (req) => (req.url.includes("/manifests/") && hits++ < 2 ? { kind: "status", status: 429, headers: { "Retry-After": "0" } } : undefined);
    const m = await client().fetchManifest(manifestRef());
    expect(m.digest).toBe(img.digest);
    // Two 429s waited out, then the 401 that names the challenge (no /v2/ ping: the first request
    // learns it), then the answer with credentials.
    expect(hits).toBe(4);
  });

  test("503 forever ends in a NETWORK error after a bounded number of tries", async () => {
    let hits = 0;
    proxy.rule = (req) => (req.url.includes("/manifests/") ? (hits++, { kind: "status", status: 503 }) : undefined);
    const err = await client()
      .fetchManifest(manifestRef())
      .catch((e) => e);
    expect(err).toBeInstanceOf(LayerslayerError);
    expect((err as LayerslayerError).code).toBe("NETWORK");
    expect((err as LayerslayerError).message).toContain("HTTP 503");
    expect(hits).toBe(quick.retries + 1);
  });

  test("a Retry-After beyond the limit fails at once with RATE_LIMIT", async () => {
    let hits = 0;
    proxy.rule = (req) => (req.url.includes("/manifests/") ? (hits++, { kind: "status", status: 429, headers: { "Retry-After": "3600" } }) : undefined);
    const err = (await client()
      .fetchManifest(manifestRef())
      .catch((e) => e)) as LayerslayerError;
    expect(err.code).toBe("RATE_LIMIT");
    expect(err.message).toContain("3600");
    expect(hits).toBe(1);
  });

  test("the waits of one request are bounded in all: a Retry-After that would take them past maxRetryWaitMs fails at once", async () => {
    let hits = 0;
    proxy.rule = (req) => (req.url.includes("/manifests/") ? (hits++, { kind: "status", status: 429, headers: { "Retry-After": "1" } }) : undefined);
    const started = performance.now();
    const err = (await new RegistryClient({ ...quick, retries: 4, maxRetryWaitMs: 2500, credentials: READER }).fetchManifest(manifestRef()).catch((e) => e)) as LayerslayerError;
    // Each wait alone is allowed (1 s); the third would make 3 s of waiting.
    expect(err.code).toBe("RATE_LIMIT");
    expect(hits).toBe(3);
    expect(performance.now() - started).toBeLessThan(2500 + 2000);
  });

  test("a 401 without WWW-Authenticate falls back to the challenge from the /v2/ ping", async () => {
    let dropped = 0;
    proxy.rule = (req) => (req.url.includes("/manifests/") && dropped++ === 0 ? { kind: "status", status: 401 } : undefined);
    const m = await client().fetchManifest(manifestRef());
    expect(m.digest).toBe(img.digest);
  });

  test("manifest bytes that do not match the digest asked for are CORRUPT", async () => {
    proxy.rule = (req) =>
      req.url.includes("/manifests/")
        ? {
            kind: "tamper",
            change: oneByteChanged,
          }
        : undefined;
    const err = (await client()
      .fetchManifest(manifestRef(), img.digest)
      .catch((e) => e)) as LayerslayerError;
    expect(err.code).toBe("CORRUPT");
    expect(err.message).toContain("not the digest asked for");
  });

  test("manifest bytes that disagree with Docker-Content-Digest are CORRUPT", async () => {
    proxy.rule = (req) =>
      req.url.includes("/manifests/")
        ? {
            kind: "tamper",
            keepHeaders: true,
            change: oneByteChanged,
          }
        : undefined;
    const err = (await client()
      .fetchManifest(manifestRef())
      .catch((e) => e)) as LayerslayerError;
    expect(err.code).toBe("CORRUPT");
    expect(err.message).toContain("the registry says");
  });

  test("a refused connection is a one-line NETWORK error after retries", async () => {
    proxy.rule = () => undefined;
    const c = new RegistryClient({ retries: 1, retryBaseMs: 5 });
    const err = (await c.fetchManifest(parseReference("127.0.0.1:1/a/b:c")).catch((e) => e)) as LayerslayerError;
    expect(err.code).toBe("NETWORK");
    expect(err.message).toBe("cannot reach 127.0.0.1:1: connection refused");
  });
});

describe("blob redirects to another host", () => {
  const reg = useRegistry({ auth: "htpasswd", redirect: true });
  let img: PushedImage;
  beforeAll(async () => {
    img = await pushImage(reg, "r/app", "v1", { layers: [{ bytes: layerFrom([{ path: "etc/motd", content: "hello\n" }]) }] });
  });

  test("the config is fetched through the redirect and credentials do not follow it", async () => {
    const c = new RegistryClient({ ...quick, credentials: READER });
    const resolved = await resolveImage(new RegistrySource(c, parseReference(`${reg.host}/r/app:v1`)));
    expect(resolved.manifest.image.config.digest).toBe(img.configDigest);
    expect(reg.redirect!.requests.length).toBeGreaterThan(0);
    for (const r of reg.redirect!.requests) expect(r.authorization).toBeNull();
  });

  test("a ranged blob request keeps its Range across the redirect", async () => {
    const c = new RegistryClient({ ...quick, credentials: READER });
    const res = await c.blob(parseReference(`${reg.host}/r/app:v1`), img.layers[0]!.digest, { range: [0, 9] });
    expect(res.status).toBe(206);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(new Uint8Array(img.layers[0]!.bytes.subarray(0, 10)));
    expect(reg.redirect!.requests.at(-1)!.range).toBe("bytes=0-9");
    expect(reg.redirect!.requests.at(-1)!.authorization).toBeNull();
  });
});

describe("tag list pagination on a real registry", () => {
  const reg = useRegistry();
  let proxy: FaultProxy;
  beforeAll(async () => {
    const layer = layerFrom([{ path: "f", content: "f" }]);
    for (const tag of ["a", "b", "c", "d", "e"]) await pushImage(reg, "p/app", tag, { layers: [{ bytes: layer }] });
    proxy = startFaultProxy(reg.url);
  });
  afterAll(async () => {
    proxy.stop();
  });

  test("Link headers are followed page by page until every tag is listed", async () => {
    // distribution 2.8 sends every tag at once (it ignores n for tags), so the first page and its
    // Link come from the proxy; the next page is the real registry's answer.
    let served = false;
    proxy.rule = (req) =>
      !served && req.url.includes("/tags/list") && (served = true)
        ? {
            kind: "status",
            status: 200,
            headers: { "Content-Type": "application/json", Link: '</v2/p/app/tags/list?n=2&last=old2>; rel="next"' },
            body: JSON.stringify({ name: "p/app", tags: ["old1", "old2"] }),
          }
        : undefined;
    const c = new RegistryClient({ ...quick, tagPageSize: 2 });
    const tags = await c.listTags(parseReference(`${proxy.host}/p/app`, { allowBare: true }));
    expect(tags.slice(0, 2)).toEqual(["old1", "old2"]);
    expect(tags.slice(2).sort()).toEqual(["a", "b", "c", "d", "e"]);
    const pages = proxy.requests.filter((r) => r.path.endsWith("/tags/list"));
    expect(pages.length).toBe(2);
  });
});
