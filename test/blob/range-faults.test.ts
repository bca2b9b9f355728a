/** Answers to range requests that are not what was asked: retried a bounded number of times, then one clear error. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { MAX_FAULTS_PER_BLOB, requestLimit } from "../../src/blob/allowance.ts";
import { BlobReader, type ReadBlobOptions } from "../../src/blob/reader.ts";
import { LayerslayerError } from "../../src/errors.ts";
import { parseReference } from "../../src/ref/reference.ts";
import { RegistryClient } from "../../src/registry/client.ts";
import { RegistrySource } from "../../src/source/registry.ts";
import { noise } from "../support/bytes.ts";
import { startFaultProxy, type Fault, type FaultProxy } from "../support/fault-proxy.ts";
import { pushBlob } from "../support/push.ts";
import { useRegistry } from "../support/registry.ts";

async function readAll(reader: BlobReader): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of reader.chunks()) parts.push(c.slice());
  return Buffer.concat(parts);
}

describe("range faults from a proxy in front of the real registry", () => {
  const reg = useRegistry();
  let proxy: FaultProxy;
  const blob = noise(3_000_000, 11);
  let digest: string;
  beforeAll(async () => {
    digest = await pushBlob(reg, "rf/test", blob);
    proxy = startFaultProxy(reg.url);
  });
  afterAll(async () => {
    proxy.stop();
  });
  const open = (opts: ReadBlobOptions, size: number | undefined = blob.byteLength) =>
    new BlobReader(
      { source: new RegistrySource(new RegistryClient({ retries: 1, retryBaseMs: 1 }), parseReference(`${proxy.host}/rf/test`)), digest, ...(size !== undefined ? { size } : {}) },
      opts,
    );
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
    [
      "a 200 whose length differs from the descriptor's size",
      [{ kind: "ignoreRange" }, { kind: "tamper", change: (b) => b.subarray(0, b.length - 1) }],
      /gives the blob's size as 2999999 bytes, the descriptor 3000000/,
    ],
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
      return [
        { kind: "contentRange", start, end: start },
        { kind: "tamper", change: (b) => b.subarray(0, 1) },
      ];
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
    const kinds: (Fault | Fault[])[] = [
      { kind: "reset", afterBytes: 5000 },
      { kind: "contentRange", start: 9 },
      { kind: "cut", afterBytes: 70_000 },
      { kind: "headers", set: { "content-range": null } },
    ];
    proxy.rule = (req) => (req.url.includes("/blobs/") ? kinds[n++] : undefined);
    const r = open({ verify: true });
    expect(await readAll(r)).toEqual(blob);
    expect(r.verified).toBe(true);
  });

  // A server that fails every answer, in every way it can: a read that gets nothing fails after the
  // same few requests wherever it starts (the allowance grows with bytes received, not the position).
  const noProgress: [string, Fault | Fault[], string | RegExp][] = [
    ["resets the connection before answering", { kind: "drop" }, /cannot reach .*connection closed unexpectedly/],
    ["resets right after the headers", { kind: "reset", afterBytes: 0 }, /broke off at byte \d+ and could not be resumed \(6 bad answers, giving up\)$/],
    ["resets after a few bytes", { kind: "reset", afterBytes: 10 }, /broke off at byte \d+ and could not be resumed \(6 bad answers, giving up\)$/],
    ["closes the body before its end", { kind: "cut", afterBytes: 0 }, /(broke off|closing the transfer early) at byte \d+/],
    ["answers 503", { kind: "status", status: 503 }, /registry error HTTP 503/],
  ];
  for (const [how, fault, message] of noProgress) {
    for (const [where, start, budget] of [
      ["from byte 0", 0, undefined],
      ["in the middle", 1_500_000, 200_000],
      ["the last 128 bytes (a TOC footer probe)", 3_000_000 - 128, 128],
    ] as const) {
      test(`a server that ${how} every time, reading ${where}: NETWORK after ${MAX_FAULTS_PER_BLOB + 1} requests`, async () => {
        faulty(Infinity, fault);
        const err = (await readAll(open({ start, verify: start === 0, ...(budget !== undefined ? { budget } : {}) })).catch((e) => e)) as LayerslayerError;
        expect(err).toBeInstanceOf(LayerslayerError);
        expect(err.code).toBe("NETWORK");
        expect(err.message).toMatch(message);
        expect(err.message).not.toContain("\n");
        expect(blobGets().length).toBe(MAX_FAULTS_PER_BLOB + 1);
      });
    }
  }

  test("failed tries of the transport and broken bodies draw on one allowance", async () => {
    let n = 0;
    proxy.requests.length = 0;
    proxy.rule = (req) => (req.url.includes("/blobs/") ? (n++ % 2 ? { kind: "drop" } : { kind: "reset", afterBytes: 0 }) : undefined);
    const err = (await readAll(open({ start: 3_000_000 - 128, budget: 128 })).catch((e) => e)) as LayerslayerError;
    expect(err.code).toBe("NETWORK");
    expect(blobGets().length).toBe(MAX_FAULTS_PER_BLOB + 1);
  });

  test("bytes received earn more tries: a transfer that breaks every 1.2 MiB finishes with an allowance of one", async () => {
    faulty(Infinity, { kind: "reset", afterBytes: 1_200_000 });
    const r = open({ verify: true, resumeAttempts: 1 });
    expect(await readAll(r)).toEqual(blob);
    expect(r.verified).toBe(true);
    expect(blobGets().length).toBe(3);
  });

  test("a transfer that breaks after less than a MiB each time does not earn tries", async () => {
    faulty(Infinity, { kind: "reset", afterBytes: 300_000 });
    const err = (await readAll(open({ verify: true, resumeAttempts: 1 })).catch((e) => e)) as LayerslayerError;
    expect(err.code).toBe("NETWORK");
    expect(blobGets().length).toBe(2);
  });

  test("a server that sends nothing: the read fails once nothing arrived for two idle timeouts, however many tries are left", async () => {
    faulty(Infinity, { kind: "stall", afterBytes: 0 });
    const started = Date.now();
    const err = (await readAll(open({ start: 3_000_000 - 128, budget: 128, idleTimeoutMs: 150, resumeAttempts: 50 })).catch((e) => e)) as LayerslayerError;
    expect(err.code).toBe("NETWORK");
    expect(err.message).toContain("nothing received for 300 ms, giving up");
    expect(blobGets().length).toBe(2);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  afterAll(() => void (proxy.rule = () => undefined));
});
