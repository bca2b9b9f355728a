/** Answers to range requests that are not what was asked: retried a bounded number of times, then one clear error. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { BlobReader, MAX_FAULTS_PER_BLOB, requestLimit, type ReadBlobOptions } from "../../src/blob/reader.ts";
import { LayerslayerError } from "../../src/errors.ts";
import { parseReference } from "../../src/ref/reference.ts";
import { RegistryClient } from "../../src/registry/client.ts";
import { RegistrySource } from "../../src/source/registry.ts";
import { noise } from "../support/bytes.ts";
import { startFaultProxy, type Fault, type FaultProxy } from "../support/fault-proxy.ts";
import { pushBlob } from "../support/push.ts";
import { startRegistry, type TestRegistry } from "../support/registry.ts";

async function readAll(reader: BlobReader): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of reader.chunks()) parts.push(c.slice());
  return Buffer.concat(parts);
}

describe("range faults from a proxy in front of the real registry", () => {
  let reg: TestRegistry;
  let proxy: FaultProxy;
  const blob = noise(3_000_000, 11);
  let digest: string;
  beforeAll(async () => {
    reg = await startRegistry();
    digest = await pushBlob(reg, "rf/test", blob);
    proxy = startFaultProxy(reg.url);
  });
  afterAll(async () => {
    proxy.stop();
    await reg.stop();
  });
  const open = (opts: ReadBlobOptions, size: number | undefined = blob.byteLength) =>
    new BlobReader({ source: new RegistrySource(new RegistryClient({ retries: 1, retryBaseMs: 1 }), parseReference(`${proxy.host}/rf/test`)), digest, ...(size !== undefined ? { size } : {}) }, opts);
  const blobGets = () => proxy.requests.filter((q) => q.path.includes("/blobs/"));
  /** Faults on the first `times` blob requests (all of them for Infinity). */
  const faulty = (times: number, fault: Fault | Fault[]) => {
    let n = 0;
    proxy.requests.length = 0;
    proxy.rule = (req) => (req.url.includes("/blobs/") && n++ < times ? fault : undefined);
  };

  const cases: [string, Fault | Fault[], RegExp][] = [
    ["a 206 that starts past the byte asked for", { kind: "contentRange", start: 7 }, /answered a request for bytes 0- with bytes 7-/],
    ["a 206 whose range ends before it starts", { kind: "contentRange", start: 100, end: 50 }, /answered a request for bytes 0- with bytes 100-/],
    ["a 206 with an empty range (end before the start asked for)", { kind: "contentRange", start: 0, end: -1 }, /invalid Content-Range "bytes 0--1\//],
    ["a 206 whose total differs from the descriptor's size", { kind: "contentRange", total: 3_000_001 }, /gives the blob's size as 3000001 bytes, the descriptor 3000000/],
    ["a 206 without Content-Range", { kind: "headers", set: { "content-range": null } }, /answered a range request with no Content-Range/],
    ["a 200 whose length differs from the descriptor's size", [{ kind: "ignoreRange" }, { kind: "tamper", change: (b) => b.subarray(0, b.length - 1) }], /gives the blob's size as 2999999 bytes, the descriptor 3000000/],
  ];
  for (const [name, fault, message] of cases) {
    test(`${name}: retried, then read when the registry behaves`, async () => {
      faulty(2, fault);
      const r = open({ verify: true, budget: 100_000, firstChunk: 65_536 });
      expect(await readAll(r)).toEqual(blob.subarray(0, 100_000));
      expect(blobGets().length).toBe(3); // two bad answers (ranges grow meanwhile), then the whole budget
    });
    test(`${name}: every time → CORRUPT after ${MAX_FAULTS_PER_BLOB + 1} requests, one line`, async () => {
      faulty(Infinity, fault);
      const err = (await readAll(open({ budget: 100_000 })).catch((e) => e)) as LayerslayerError;
      expect(err).toBeInstanceOf(LayerslayerError);
      expect(err.code).toBe("CORRUPT");
      expect(err.message).toMatch(message);
      expect(err.message).toEndWith(`(${MAX_FAULTS_PER_BLOB + 1} bad answers, giving up)`);
      expect(err.message).not.toContain("\n");
      expect(blobGets().length).toBe(MAX_FAULTS_PER_BLOB + 1);
    });
  }

  test("a body shorter than its Content-Length every time → NETWORK after a bounded number of requests", async () => {
    faulty(Infinity, { kind: "cut", afterBytes: 1000 });
    const err = (await readAll(open({ verify: true })).catch((e) => e)) as LayerslayerError;
    expect(err.code).toBe("NETWORK");
    expect(blobGets().length).toBeLessThanOrEqual(MAX_FAULTS_PER_BLOB + 1);
  });

  test("a 206 with no bytes at all every time → NETWORK after a bounded number of requests", async () => {
    faulty(Infinity, { kind: "cut", afterBytes: 0 });
    const err = (await readAll(open({ budget: 100_000 })).catch((e) => e)) as LayerslayerError;
    expect(err.code).toBe("NETWORK");
    expect(err.message).toMatch(/(broke off|closing the transfer early) at byte 0\b/);
    expect(blobGets().length).toBe(MAX_FAULTS_PER_BLOB + 1);
  });

  test("a server that answers every range with one byte meets the stated request bound", async () => {
    proxy.requests.length = 0;
    proxy.rule = (req) => {
      if (!req.url.includes("/blobs/")) return undefined;
      const start = Number(/bytes=(\d+)-/.exec(req.headers.get("range") ?? "")?.[1] ?? 0);
      return [{ kind: "contentRange", start, end: start }, { kind: "tamper", change: (b) => b.subarray(0, 1) }];
    };
    const r = open({ verify: true, ranged: true });
    const err = (await readAll(r).catch((e) => e)) as LayerslayerError;
    expect(err.code).toBe("NETWORK");
    expect(err.message).toContain(`gave up after ${requestLimit(blob.byteLength)} requests for one blob`);
    expect(blobGets().length).toBe(requestLimit(blob.byteLength));
    expect(r.bytesDownloaded).toBe(requestLimit(blob.byteLength));
  });

  test("the whole blob through faults of every kind is read and verified", async () => {
    let n = 0;
    const kinds: (Fault | Fault[])[] = [{ kind: "reset", afterBytes: 5000 }, { kind: "contentRange", start: 9 }, { kind: "cut", afterBytes: 70_000 }, { kind: "headers", set: { "content-range": null } }];
    proxy.rule = (req) => (req.url.includes("/blobs/") ? kinds[n++] : undefined);
    const r = open({ verify: true });
    expect(await readAll(r)).toEqual(blob);
    expect(r.verified).toBe(true);
  });

  afterAll(() => void (proxy.rule = () => undefined));
});
