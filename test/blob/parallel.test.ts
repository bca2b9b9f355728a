/**
 * Parallel ranged fetches (src/blob/parallel.ts) through the blob reader, against the real
 * registry: through a capped link (several answers in flight at once, every range bounded), through
 * the fault proxy (a registry that ignores Range, a range that keeps failing, one cut short), and
 * cancelled half way. Assertions are on requests and connections, never on timing.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { BlobReader, MAX_FAULTS_PER_BLOB, type ReadBlobOptions } from "../../src/blob/reader.ts";
import { LayerslayerError } from "../../src/errors.ts";
import { parseReference } from "../../src/ref/reference.ts";
import { RegistryClient } from "../../src/registry/client.ts";
import { RegistrySource } from "../../src/source/registry.ts";
import { noise } from "../support/bytes.ts";
import { startCappedProxy, type CappedProxy } from "../support/capped-proxy.ts";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy.ts";
import { pushBlob } from "../support/push.ts";
import { startRegistry, type TestRegistry } from "../support/registry.ts";

const MiB = 1024 * 1024;
/** 6.5 ranges of 1 MiB: the last range is short. */
const blob = noise(6.5 * MiB, 11);

let reg: TestRegistry;
let digest: string;
let capped: CappedProxy;
let faults: FaultProxy;
beforeAll(async () => {
  reg = await startRegistry();
  digest = await pushBlob(reg, "parallel/blob", blob);
  capped = startCappedProxy(reg.url, { bytesPerSecond: 8e6, latencyMs: 20 });
  faults = startFaultProxy(reg.url);
});
afterAll(async () => {
  capped.stop();
  faults.stop();
  await reg.stop();
});

function reader(host: string, opts: ReadBlobOptions & { connections: number }, size = blob.byteLength): BlobReader {
  const client = new RegistryClient({ connections: opts.connections, retries: 2, retryBaseMs: 5 });
  return new BlobReader({ source: new RegistrySource(client, parseReference(`${host}/parallel/blob`)), digest, size }, { verify: true, rangeBytes: MiB, ...opts });
}

async function readAll(r: BlobReader): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of r.chunks()) parts.push(c.slice());
  return Buffer.concat(parts);
}

describe("parallel ranged fetches through a capped link", () => {
  test("4 connections: 4 answers in flight at once, every range bounded, the bytes and digest as one stream gives them", async () => {
    capped.reset();
    const progress: number[] = [];
    const r = reader(capped.host, { connections: 4, onProgress: (n) => progress.push(n) });
    const got = await readAll(r);
    expect(got).toEqual(blob);
    expect(r.verified).toBe(true);
    expect(r.bytesDownloaded).toBe(blob.byteLength);
    expect(capped.peak()).toBe(4);
    // Answers may start in any order; together they are the blob's ranges, each once.
    const ranges = capped.requests.map((q) => q.range!).sort((a, b) => Number(/\d+/.exec(a)![0]) - Number(/\d+/.exec(b)![0]));
    expect(ranges).toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => `bytes=${i * MiB}-${Math.min((i + 1) * MiB, blob.byteLength) - 1}`));
    // Progress counts bytes delivered in order: it only grows, and ends at the blob's size.
    expect(progress.every((n, i) => i === 0 || n > progress[i - 1]!)).toBe(true);
    expect(progress.at(-1)).toBe(blob.byteLength);
  }, 30_000);

  test("a consumer slower than the link: never more than two ranges at once (more would only sit in memory)", async () => {
    const fast = startCappedProxy(reg.url, { bytesPerSecond: 500e6, latencyMs: 0 });
    try {
      const r = reader(fast.host, { connections: 4 });
      const parts: Uint8Array[] = [];
      let got = 0;
      let ahead = 0;
      for await (const c of r.chunks()) {
        parts.push(c.slice());
        got += c.byteLength;
        // Ranges asked for beyond the one being handed on.
        ahead = Math.max(ahead, fast.requests.length - Math.ceil(got / MiB));
        await Bun.sleep(10);
      }
      expect(Buffer.concat(parts)).toEqual(Buffer.from(blob));
      // One range fetched ahead; three (all 4 connections) only if the consumer waited on the link.
      expect(ahead).toBeGreaterThanOrEqual(1);
      expect(ahead).toBeLessThan(3);
    } finally {
      fast.stop();
    }
  }, 30_000);

  test("1 connection: one open-ended stream, one answer in flight", async () => {
    capped.reset();
    const r = reader(capped.host, { connections: 1 });
    expect(await readAll(r)).toEqual(blob);
    expect(r.verified).toBe(true);
    expect(capped.peak()).toBe(1);
    expect(capped.requests.map((q) => q.range)).toEqual(["bytes=0-"]);
  }, 30_000);

  test("a blob smaller than two ranges is read as one stream", async () => {
    capped.reset();
    const r = reader(capped.host, { connections: 4, rangeBytes: 4 * MiB });
    expect(await readAll(r)).toEqual(blob);
    expect(capped.requests.map((q) => q.range)).toEqual(["bytes=0-"]);
  }, 30_000);

  test("budgeted reads stay one exact stream", async () => {
    capped.reset();
    const r = reader(capped.host, { connections: 4, budget: 3 * MiB });
    const got = await readAll(r);
    expect(got).toEqual(blob.subarray(0, 3 * MiB));
    expect(r.bytesDownloaded).toBe(3 * MiB);
    expect(capped.peak()).toBe(1);
  }, 30_000);

  test("cancelled half way: every connection stops within 100 ms", async () => {
    // A slower link, so that half way every connection is surely still sending.
    const slow = startCappedProxy(reg.url, { bytesPerSecond: 2e6, latencyMs: 20 });
    const ctl = new AbortController();
    const r = reader(slow.host, { connections: 4, signal: ctl.signal });
    let got = 0;
    let error: unknown;
    try {
      for await (const c of r.chunks()) {
        got += c.byteLength;
        // Half way through the first range: the next ones are being fetched beside it.
        if (got >= MiB / 2 && !ctl.signal.aborted) {
          expect(slow.peak()).toBeGreaterThan(1);
          ctl.abort(new Error("cancelled"));
        }
      }
    } catch (e) {
      error = e;
    }
    expect((error as Error | undefined)?.message).toBe("cancelled");
    try {
      await Bun.sleep(100);
      expect(slow.inFlight()).toBe(0);
      const sent = slow.bytes();
      await Bun.sleep(200);
      expect(slow.bytes()).toBe(sent);
    } finally {
      slow.stop();
    }
  }, 30_000);
});

describe("parallel ranged fetches and hostile answers", () => {
  test("a registry that ignores Range: one answer to the first range, then the blob as one stream", async () => {
    faults.requests.length = 0;
    faults.rule = () => ({ kind: "ignoreRange" });
    try {
      const r = reader(faults.host, { connections: 4 });
      expect(await readAll(r)).toEqual(blob);
      expect(r.verified).toBe(true);
      const blobs = faults.requests.filter((q) => q.path.includes("/blobs/"));
      // The first range alone, answered with the whole blob (200); no other range was asked for.
      expect(blobs.map((q) => q.range)).toEqual([`bytes=0-${MiB - 1}`, "bytes=0-"]);
    } finally {
      faults.rule = () => undefined;
    }
  }, 30_000);

  test("a range cut short is asked for again from the byte reached, on its own", async () => {
    faults.requests.length = 0;
    let cut = 0;
    faults.rule = (req) => (req.headers.get("range") === `bytes=${2 * MiB}-${3 * MiB - 1}` && cut++ === 0 ? { kind: "cut", afterBytes: 100_000 } : undefined);
    try {
      const r = reader(faults.host, { connections: 4 });
      expect(await readAll(r)).toEqual(blob);
      expect(r.verified).toBe(true);
      expect(faults.requests.map((q) => q.range)).toContain(`bytes=${2 * MiB + 100_000}-${3 * MiB - 1}`);
    } finally {
      faults.rule = () => undefined;
    }
  }, 30_000);

  test("a range that keeps failing fails the read in a bounded number of tries, after the bytes before it", async () => {
    faults.requests.length = 0;
    faults.rule = (req) => (/^bytes=3145728-/.test(req.headers.get("range") ?? "") ? { kind: "drop" } : undefined);
    try {
      const r = reader(faults.host, { connections: 4 });
      let delivered = 0;
      let error: unknown;
      try {
        for await (const c of r.chunks()) delivered += c.byteLength;
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(LayerslayerError);
      expect((error as LayerslayerError).code).toBe("NETWORK");
      expect(delivered).toBe(3 * MiB);
      // The allowance: MAX_FAULTS_PER_BLOB tries, one more per MiB received (at most the blob's 7).
      const tries = faults.requests.filter((q) => q.range?.startsWith("bytes=3145728-")).length;
      expect(tries).toBeGreaterThan(1);
      expect(tries).toBeLessThanOrEqual(MAX_FAULTS_PER_BLOB + 7 + 1);
    } finally {
      faults.rule = () => undefined;
    }
  }, 30_000);
});
