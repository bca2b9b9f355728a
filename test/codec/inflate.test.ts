/**
 * Pins what src/codec/inflate.ts relies on in fflate 0.8.3's private state, and the exactness of
 * compressedConsumed that follows from it.
 */

import { describe, expect, test } from "bun:test";
import { Inflate } from "fflate";
import { gunzip } from "../../src/codec/gzip.ts";
import { RawInflater } from "../../src/codec/inflate.ts";
import { chunked, collect, concat, gzipMember, prng, sampleData, type Bytes } from "./helpers.ts";

const PREFILLED_KEYS = ["i", "b", "l", "p", "f", "m", "d", "n"];

function randomBytes(n: number, seed: number): Bytes {
  const rnd = prng(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(rnd() * 256));
}

/** A stream with dynamic, fixed-Huffman and stored blocks, over several members. */
const text = sampleData(6000, 11);
const parts = [text, new TextEncoder().encode("abcabcabc hello hello"), randomBytes(3000, 5), sampleData(4000, 12)];
const stream = concat([gzipMember(parts[0]!), gzipMember(parts[1]!, { name: "f" }), gzipMember(parts[2]!, { level: 0 }), gzipMember(parts[3]!, { level: 1, hcrc: true })]);
const full = concat(parts);

async function decodePrefix(n: number): Promise<Bytes> {
  return (await collect(gunzip(chunked(stream.subarray(0, n), 1 << 20)))).out;
}

describe("fflate 0.8.3 internals", () => {
  test("the pinned version is installed", async () => {
    const pkg = (await Bun.file(new URL("../../node_modules/fflate/package.json", import.meta.url)).json()) as { version: string };
    expect(pkg.version).toBe("0.8.3");
  });

  test("stock fflate never adds a state field the pre-fill lacks", () => {
    const raw = concat([Bun.deflateSync(concat(parts) as Bytes, { level: 6 })]);
    const stored = Bun.deflateSync(randomBytes(70_000, 3), { level: 0 });
    for (const input of [raw, stored, Bun.deflateSync(new Uint8Array(10))]) {
      const inf = new Inflate(() => {});
      const priv = inf as unknown as { s: object; d?: boolean };
      for (let i = 0; i < input.length; i += 100) inf.push(input.subarray(i, i + 100));
      for (const k of Object.keys(priv.s)) expect(PREFILLED_KEYS).toContain(k);
      expect(Object.keys(inf)).toContain("d");
    }
  });

  test("the pre-filled state keeps its shape through a whole stream", () => {
    const inf = new RawInflater();
    const priv = inf as unknown as { priv: { s: object; o: Uint8Array } };
    const raw = Bun.deflateSync(concat(parts) as Bytes);
    for (let i = 0; i < raw.length && !inf.finished; i += 777) inf.push(raw.subarray(i, i + 777));
    expect(inf.finished).toBe(true);
    expect(Object.keys(priv.priv.s)).toEqual(PREFILLED_KEYS);
  });

  test("at the end, bytes consumed = the deflate length, trailing bytes left over", () => {
    const raw = Bun.deflateSync(text as Bytes);
    for (const extra of [0, 1, 8, 100]) {
      const inf = new RawInflater();
      const out = inf.push(concat([raw, new Uint8Array(extra).fill(0xaa)]));
      expect(out).toEqual(text);
      expect(inf.finished).toBe(true);
      expect(inf.bytesConsumed).toBe(raw.length);
    }
  });

  test("bits consumed never decrease and never pass what was pushed", () => {
    const raw = Bun.deflateSync(concat(parts) as Bytes);
    const inf = new RawInflater();
    let last = 0;
    for (let i = 0; i < raw.length && !inf.finished; i++) {
      inf.push(raw.subarray(i, i + 1));
      expect(inf.bitsConsumed).toBeGreaterThanOrEqual(last);
      expect(inf.bitsConsumed).toBeLessThanOrEqual((i + 1) * 8);
      last = inf.bitsConsumed;
    }
    expect(inf.bytesConsumed).toBe(raw.length);
  });

  test("pre-fill and scratch buffer change nothing in the output (including pushes bigger than the scratch)", async () => {
    const zeros = gzipMember(new Uint8Array(5 << 20));
    const inputs = [stream, zeros];
    for (const input of inputs) {
      const a = await collect(gunzip(chunked(input, 65536), { inflater: { stockState: true, noScratch: true } }));
      const b = await collect(gunzip(chunked(input, 65536)));
      expect(b.out).toEqual(a.out);
      expect(b.chunks).toEqual(a.chunks);
    }
  });

  test("two decoders interleaved share the scratch buffer safely", async () => {
    const g1 = gunzip(chunked(stream, 500), { sliceSize: 300 });
    const g2 = gunzip(chunked(gzipMember(full), 700), { sliceSize: 200 });
    const o1: Uint8Array[] = [];
    const o2: Uint8Array[] = [];
    let d1 = false;
    let d2 = false;
    while (!d1 || !d2) {
      if (!d1) {
        const r = await g1.next();
        if (r.done) d1 = true;
        else o1.push(r.value.data);
      }
      if (!d2) {
        const r = await g2.next();
        if (r.done) d2 = true;
        else o2.push(r.value.data);
      }
    }
    expect(concat(o1)).toEqual(full);
    expect(concat(o2)).toEqual(full);
  });
});

describe("compressedConsumed is exact", () => {
  test("byte by byte: the first N bytes decode to exactly the output reported at N, N-1 bytes to less", async () => {
    const { out, chunks, summary } = await collect(gunzip(chunked(stream, 1), { sliceSize: 1 }));
    expect(out).toEqual(full);
    expect(summary.members).toBe(4);
    let prev = 0;
    for (const c of chunks) {
      expect(c.consumed).toBeGreaterThan(prev);
      prev = c.consumed;
    }
    // Every chunk near the member boundaries and in the stored member, a sample elsewhere.
    const picked = chunks.filter((c, i) => i % 13 === 0 || (c.end > parts[0]!.length - 50 && c.end < parts[0]!.length + 3100));
    expect(picked.length).toBeGreaterThan(100);
    for (const c of picked) {
      expect(await decodePrefix(c.consumed)).toEqual(full.subarray(0, c.end));
      expect((await decodePrefix(c.consumed - 1)).length).toBeLessThan(c.end);
    }
  });

  test("any slicing: the first N bytes always suffice for the output reported at N", async () => {
    for (const slice of [3, 64, 1000, 16384]) {
      const { chunks } = await collect(gunzip(chunked(stream, 997), { sliceSize: slice }));
      const step = Math.ceil(chunks.length / 150);
      for (const c of chunks.filter((_, i) => i % step === 0 || i === chunks.length - 1)) {
        const got = await decodePrefix(c.consumed);
        expect(got.length).toBeGreaterThanOrEqual(c.end);
        expect(got.subarray(0, c.end)).toEqual(full.subarray(0, c.end));
      }
    }
  });
});
