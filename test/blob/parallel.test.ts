/**
 * Parallel ranged fetches (src/blob/parallel.ts) through the blob reader, against the real
 * registry: a read begins as one stream and stays one on a fast link; through a capped link it goes
 * on in parallel ranges (several answers in flight at once, every range bounded); through the fault
 * proxy behind a capped link (a registry that ignores Range, a range that keeps failing, one cut
 * short), and cancelled half way. Assertions are on requests and connections, never on timing.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { MAX_FAULTS_PER_BLOB } from "../../src/blob/allowance.ts";
import { BlobReader, type ReadBlobOptions } from "../../src/blob/reader.ts";
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
/** The fault proxy behind a capped link: the reader waits on the link, so it goes parallel. */
let slowFaults: CappedProxy;
beforeAll(async () => {
  reg = await startRegistry();
  digest = await pushBlob(reg, "parallel/blob", blob);
  capped = startCappedProxy(reg.url, { bytesPerSecond: 8e6, latencyMs: 20 });
  faults = startFaultProxy(reg.url);
  slowFaults = startCappedProxy(faults.url, { bytesPerSecond: 8e6, latencyMs: 20 });
});
afterAll(async () => {
  slowFaults.stop();
  capped.stop();
  faults.stop();
  await reg.stop();
});

function reader(host: string, opts: ReadBlobOptions & { connections: number }, size = blob.byteLength): BlobReader {
  const client = new RegistryClient({ connections: opts.connections, retries: 2, retryBaseMs: 5 });
  return new BlobReader({ source: new RegistrySource(client, parseReference(`${host}/parallel/blob`)), digest, size }, { verify: true, rangeBytes: MiB, ...opts });
}

/** The start of a Range header's first byte. */
const startOf = (range: string | null | undefined) => Number(/bytes=(\d+)-/.exec(range ?? "")?.[1] ?? NaN);

async function readAll(r: BlobReader): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of r.chunks()) parts.push(c.slice());
  return Buffer.concat(parts);
}

describe("parallel ranged fetches through a capped link", () => {
  test("4 connections: one stream first, then 4 answers in flight at once, every range bounded, the bytes and digest as one stream gives them", async () => {
    capped.reset();
    const progress: number[] = [];
    const r = reader(capped.host, { connections: 4, onProgress: (n) => progress.push(n) });
    const got = await readAll(r);
    expect(got).toEqual(blob);
    expect(r.verified).toBe(true);
    expect(r.bytesDownloaded).toBe(blob.byteLength);
    expect(capped.peak()).toBe(4);
    // One stream watched the link, and was closed at the byte it reached (P); answers may start in
    // any order, and together they are the blob's ranges from P, each once and bounded.
    expect(capped.requests[0]!.range).toBe("bytes=0-");
    const ranges = capped.requests
      .slice(1)
      .map((q) => q.range!)
      .sort((a, b) => startOf(a) - startOf(b));
    const p = startOf(ranges[0]);
    expect(p).toBeGreaterThan(0);
    // The first ranges grow from 128 KiB, doubling up to the range size.
    const want: string[] = [];
    for (let at = p, size = 128 * 1024; at < blob.byteLength; at += size, size = Math.min(2 * size, MiB)) want.push(`bytes=${at}-${Math.min(at + size, blob.byteLength) - 1}`);
    expect(ranges).toEqual(want);
    // Progress counts bytes delivered in order: it only grows, and ends at the blob's size.
    expect(progress.every((n, i) => i === 0 || n > progress[i - 1]!)).toBe(true);
    expect(progress.at(-1)).toBe(blob.byteLength);
  }, 30_000);

  test("a consumer that stops once the read is parallel: connections whose ranges are in go on, up to half as many ranges again held, no more", async () => {
    const big = noise(16 * MiB, 12);
    const bigDigest = await pushBlob(reg, "parallel/blob", big);
    capped.reset();
    const client = new RegistryClient({ connections: 4, retries: 2, retryBaseMs: 5 });
    const r = new BlobReader(
      { source: new RegistrySource(client, parseReference(`${capped.host}/parallel/blob`)), digest: bigDigest, size: big.byteLength },
      { verify: true, rangeBytes: MiB },
    );
    const parts: Uint8Array[] = [];
    const ranges = () => capped.requests.filter((q) => q.path.endsWith(bigDigest)).length - 1;
    let paused = false;
    for await (const c of r.chunks()) {
      parts.push(c.slice());
      if (ranges() > 0 && !paused) {
        // The consumer is away: every range asked for meanwhile is fetched or held.
        paused = true;
        await Bun.sleep(2500);
        expect(ranges()).toBe(4 + 2);
      }
    }
    expect(Buffer.concat(parts)).toEqual(Buffer.from(big));
    expect(r.verified).toBe(true);
    expect(ranges()).toBeGreaterThan(6);
  }, 30_000);

  test("a consumer slower than the link: one stream, no ranges (they would only sit in memory)", async () => {
    const fast = startCappedProxy(reg.url, { bytesPerSecond: 500e6, latencyMs: 0 });
    try {
      const r = reader(fast.host, { connections: 4 });
      const parts: Uint8Array[] = [];
      for await (const c of r.chunks()) {
        parts.push(c.slice());
        await Bun.sleep(10);
      }
      expect(Buffer.concat(parts)).toEqual(Buffer.from(blob));
      expect(r.verified).toBe(true);
      expect(fast.requests.map((q) => q.range)).toEqual(["bytes=0-"]);
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
      const r = reader(slowFaults.host, { connections: 4 });
      expect(await readAll(r)).toEqual(blob);
      expect(r.verified).toBe(true);
      const blobs = faults.requests.filter((q) => q.path.includes("/blobs/")).map((q) => q.range);
      // The watched stream, closed at P; the first range from P alone, answered with the whole
      // blob (200); no other range was asked for; then the rest as one stream from P.
      const p = startOf(blobs[1]);
      expect(p).toBeGreaterThan(0);
      expect(blobs).toEqual(["bytes=0-", `bytes=${p}-${p + 128 * 1024 - 1}`, `bytes=${p}-`]);
    } finally {
      faults.rule = () => undefined;
    }
  }, 30_000);

  test("a range cut short is asked for again from the byte reached, on its own", async () => {
    faults.requests.length = 0;
    // The second bounded range is cut short once.
    let bounded = 0;
    let cut: [number, number] | undefined;
    faults.rule = (req) => {
      const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.get("range") ?? "");
      if (!m || ++bounded !== 2) return undefined;
      cut = [Number(m[1]), Number(m[2])];
      return { kind: "cut", afterBytes: 100_000 };
    };
    try {
      const r = reader(slowFaults.host, { connections: 4 });
      expect(await readAll(r)).toEqual(blob);
      expect(r.verified).toBe(true);
      expect(cut).toBeDefined();
      expect(faults.requests.map((q) => q.range)).toContain(`bytes=${cut![0] + 100_000}-${cut![1]}`);
    } finally {
      faults.rule = () => undefined;
    }
  }, 30_000);

  test("a range that keeps failing fails the read in a bounded number of tries, after the bytes before it", async () => {
    faults.requests.length = 0;
    // Nothing at or past 3 MiB arrives: every answer is cut there.
    faults.rule = (req) => {
      const at = startOf(req.headers.get("range"));
      return { kind: "cut", afterBytes: Math.max(0, 3 * MiB - at) };
    };
    try {
      const r = reader(slowFaults.host, { connections: 4 });
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
