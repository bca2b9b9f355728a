import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { BlobReader, type ReadBlobOptions } from "../../src/blob/reader.ts";
import { LayerslayerError } from "../../src/errors.ts";
import { parseReference } from "../../src/ref/reference.ts";
import { RegistryClient } from "../../src/registry/client.ts";
import { RegistrySource } from "../../src/source/registry.ts";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy.ts";
import { pushBlob } from "../support/push.ts";
import { READER, useRegistry } from "../support/registry.ts";

/** A blob request with the login: a new client's first request goes without it, and its 401 names the challenge. */
const blobWithLogin = (req: Request) => req.url.includes("/blobs/") && req.headers.has("authorization");
import { noise as randomBytes } from "../support/bytes.ts";

async function readAll(reader: BlobReader): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of reader.chunks()) parts.push(c.slice());
  return Buffer.concat(parts);
}

describe("ranged, budgeted blob reads on a real registry", () => {
  const reg = useRegistry({ auth: "htpasswd" });
  let proxy: FaultProxy;
  const blob = randomBytes(1_000_003);
  let digest: string;
  beforeAll(async () => {
    digest = await pushBlob(reg, "blob/test", blob);
    proxy = startFaultProxy(reg.url);
  });
  afterAll(async () => {
    proxy.stop();
  });
  const src = (host: string, size?: number) => ({
    source: new RegistrySource(new RegistryClient({ credentials: READER, retries: 2, retryBaseMs: 5 }), parseReference(`${host}/blob/test`)),
    digest,
    ...(size !== undefined ? { size } : {}),
  });
  const open = (opts: ReadBlobOptions, host = reg.host, size?: number) => new BlobReader(src(host, size), opts);

  for (const [budget, first] of [
    [65536, 4096],
    [65536, 65536],
    [100_000, 30_000],
    [262_144, 1_000_000],
    [1, 1],
  ] as const) {
    test(`budget ${budget} with first chunk ${first}: exactly the budget, the right bytes`, async () => {
      const r = open({ budget, firstChunk: first });
      const got = await readAll(r);
      expect(r.bytesDownloaded).toBe(budget);
      expect(got).toEqual(blob.subarray(0, budget));
      expect(r.budgetReached).toBe(true);
      expect(r.reachedEnd).toBe(false);
      expect(r.totalSize).toBe(blob.byteLength);
    });
  }

  test("a budget larger than the blob reads it all and says so", async () => {
    const r = open({ budget: 5_000_000, firstChunk: 300_000 });
    expect(await readAll(r)).toEqual(blob);
    expect(r.reachedEnd).toBe(true);
    expect(r.budgetReached).toBe(false);
    expect(r.bytesDownloaded).toBe(blob.byteLength);
  });

  test("no budget reads the whole blob and verifies its digest", async () => {
    const r = open({ verify: true });
    expect(await readAll(r)).toEqual(blob);
    expect(r.bytesDownloaded).toBe(blob.byteLength);
  });

  test("a server that ignores Range: read what the budget allows, then stop", async () => {
    proxy.rule = (req) => (blobWithLogin(req) ? { kind: "ignoreRange" } : undefined);
    const r = open({ budget: 70_000, firstChunk: 16_384 }, proxy.host);
    const got = await readAll(r);
    expect(r.bytesDownloaded).toBe(70_000);
    expect(got).toEqual(blob.subarray(0, 70_000));
    const blobGets = proxy.requests.filter((q) => q.path.includes("/blobs/") && q.authorization);
    expect(blobGets.length).toBe(1);
    proxy.rule = () => undefined;
  });

  test("a transfer cut mid-stream resumes from the exact byte reached", async () => {
    let cuts = 0;
    proxy.requests.length = 0;
    proxy.rule = (req) => (blobWithLogin(req) && cuts++ < 2 ? { kind: "cut", afterBytes: 100_000 } : undefined);
    const r = open({ verify: true }, proxy.host);
    expect(await readAll(r)).toEqual(blob);
    expect(r.bytesDownloaded).toBe(blob.byteLength);
    const ranges = proxy.requests.filter((q) => q.path.includes("/blobs/") && q.authorization).map((q) => q.range);
    // Each resume starts where the bytes received so far end (the digest check proves none was lost).
    expect(ranges.length).toBe(3);
    expect(ranges[0]).toBe("bytes=0-");
    const starts = ranges.map((x) => Number(/^bytes=(\d+)-$/.exec(x ?? "")?.[1]));
    expect(starts[1]).toBeGreaterThan(0);
    expect(starts[1]).toBeLessThanOrEqual(100_000);
    expect(starts[2]).toBeGreaterThan(starts[1]!);
    proxy.rule = () => undefined;
  });

  test("a transfer cut, then resumed by a server that ignores Range: every byte counted once, the re-sent ones apart", async () => {
    let n = 0;
    proxy.requests.length = 0;
    proxy.rule = (req) => (blobWithLogin(req) ? (n++ === 0 ? { kind: "cut", afterBytes: 100_000 } : { kind: "ignoreRange" }) : undefined);
    const r = open({ verify: true }, proxy.host);
    expect(await readAll(r)).toEqual(blob);
    expect(r.verified).toBe(true);
    expect(r.bytesDownloaded).toBe(blob.byteLength);
    expect(r.bytesResent).toBeGreaterThan(0);
    expect(r.bytesResent).toBeLessThanOrEqual(100_000);
    expect(r.rangeIgnored).toBe(true);
    proxy.rule = () => undefined;
  });

  test("a budgeted read from a later byte is not spent on bytes a server that ignores Range sends first", async () => {
    proxy.rule = (req) => (req.url.includes("/blobs/") ? { kind: "ignoreRange" } : undefined);
    const r = open({ start: 500_000, budget: 1000 }, proxy.host);
    expect((await readAll(r)).byteLength).toBe(0);
    expect(r.rangeIgnored).toBe(true);
    expect(r.budgetReached).toBe(true);
    expect(r.bytesDownloaded + r.bytesResent).toBe(0);
    proxy.rule = () => undefined;
  });

  test("a transfer that keeps breaking ends in a NETWORK error", async () => {
    proxy.rule = (req) => (req.url.includes("/blobs/") ? { kind: "cut", afterBytes: 0 } : undefined);
    const r = open({ resumeAttempts: 2 }, proxy.host);
    const err = await readAll(r).catch((e) => e);
    expect(err).toBeInstanceOf(LayerslayerError);
    expect((err as LayerslayerError).code).toBe("NETWORK");
    proxy.rule = () => undefined;
  });

  test("bytes that do not hash to the digest are CORRUPT on a full read", async () => {
    proxy.rule = (req) =>
      req.url.includes("/blobs/")
        ? {
            kind: "tamper",
            change: (b) => {
              const c = b.slice();
              c[500] = c[500]! ^ 1;
              return c;
            },
          }
        : undefined;
    const err = await readAll(open({ verify: true }, proxy.host)).catch((e) => e);
    expect((err as LayerslayerError).code).toBe("CORRUPT");
    proxy.rule = () => undefined;
  });

  test("starting at the end (416 from the registry) reads nothing and ends cleanly", async () => {
    const r = open({ start: blob.byteLength });
    expect((await readAll(r)).byteLength).toBe(0);
    expect(r.reachedEnd).toBe(true);
    expect(r.bytesDownloaded).toBe(0);
  });

  test("stopping early cancels the download", async () => {
    const r = open({});
    let n = 0;
    for await (const c of r.chunks()) {
      n += c.byteLength;
      break;
    }
    expect(r.bytesDownloaded).toBe(n);
    expect(n).toBeLessThan(blob.byteLength);
  });
});

describe("blob reads through a CDN redirect", () => {
  const reg = useRegistry({ auth: "htpasswd", redirect: true });
  let digest: string;
  const blob = randomBytes(300_000, 3);
  beforeAll(async () => {
    digest = await pushBlob(reg, "cdn/test", blob);
  });
  test("budgeted ranges follow the redirect without credentials", async () => {
    const r = new BlobReader(
      { source: new RegistrySource(new RegistryClient({ credentials: READER }), parseReference(`${reg.host}/cdn/test`)), digest },
      { budget: 100_000, firstChunk: 40_000 },
    );
    expect(await readAll(r)).toEqual(blob.subarray(0, 100_000));
    expect(r.bytesDownloaded).toBe(100_000);
    const reqs = reg.redirect!.requests;
    expect(reqs.map((q) => q.range)).toEqual(["bytes=0-39999", "bytes=40000-99999"]);
    expect(reqs.every((q) => q.authorization === null)).toBe(true);
  });
});

describe("a transfer that hangs", () => {
  const reg = useRegistry();
  let proxy: FaultProxy;
  const blob = randomBytes(300_000, 5);
  let digest: string;
  beforeAll(async () => {
    digest = await pushBlob(reg, "hang/test", blob);
    proxy = startFaultProxy(reg.url);
  });
  afterAll(async () => {
    proxy.stop();
  });

  test("is resumed from the byte reached once it has sent nothing for the idle timeout", async () => {
    let stalls = 0;
    proxy.rule = (req) => (req.url.includes("/blobs/") && stalls++ === 0 ? { kind: "stall", afterBytes: 50_000 } : undefined);
    const r = new BlobReader(
      { source: new RegistrySource(new RegistryClient({ retries: 1, retryBaseMs: 5 }), parseReference(`${proxy.host}/hang/test`)), digest },
      { verify: true, idleTimeoutMs: 300 },
    );
    const started = Date.now();
    expect(await readAll(r)).toEqual(blob);
    expect(Date.now() - started).toBeLessThan(5000);
    const ranges = proxy.requests.filter((q) => q.path.includes("/blobs/")).map((q) => q.range);
    expect(ranges[0]).toBe("bytes=0-");
    expect(ranges.length).toBe(2);
    expect(Number(/^bytes=(\d+)-$/.exec(ranges[1] ?? "")?.[1])).toBeGreaterThan(0);
  });

  test("a consumer that takes longer than the stall bound between chunks is not taken for a stalled server", async () => {
    proxy.rule = () => undefined;
    const r = new BlobReader(
      { source: new RegistrySource(new RegistryClient({ retries: 1, retryBaseMs: 5 }), parseReference(`${proxy.host}/hang/test`)), digest },
      { verify: true, idleTimeoutMs: 100, ranged: true, firstChunk: 100_000, maxChunk: 100_000 },
    );
    const parts: Uint8Array[] = [];
    for await (const c of r.chunks()) {
      parts.push(c.slice());
      await Bun.sleep(250); // more than two idle timeouts
    }
    expect(Buffer.concat(parts)).toEqual(Buffer.from(blob));
    expect(r.verified).toBe(true);
  });

  test("that keeps hanging ends in a NETWORK error", async () => {
    proxy.rule = (req) => (req.url.includes("/blobs/") ? { kind: "stall", afterBytes: 1 } : undefined); // a byte, then nothing
    const r = new BlobReader(
      { source: new RegistrySource(new RegistryClient({ retries: 1, retryBaseMs: 5 }), parseReference(`${proxy.host}/hang/test`)), digest },
      { idleTimeoutMs: 100, resumeAttempts: 2 },
    );
    const err = (await readAll(r).catch((e) => e)) as LayerslayerError;
    expect(err.code).toBe("NETWORK");
    expect(err.message).toContain("could not be resumed");
  });
});
