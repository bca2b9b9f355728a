/**
 * The three ways of driving the native decoders (native-sync.ts through the zlib handle, on the
 * main thread or overlapping on the thread pool with native-async.ts, and native.ts through the
 * Transform stream) against each other, on whole, cut, corrupt and broken-off input: the same
 * bytes, the same summaries, the same errors; the two handle drivers the same chunks with the same
 * offsets. And the handle drivers' reused buffers.
 */
import { describe, expect, test } from "bun:test";
import { createGunzip, createZstdDecompress } from "node:zlib";
import { nativeGunzip } from "../../src/codec/native-gzip.ts";
import { overlapHandle } from "../../src/codec/native-async.ts";
import { syncHandle } from "../../src/codec/native-sync.ts";
import { nativeZstd } from "../../src/codec/native-zstd.ts";
import type { NativeOptions } from "../../src/codec/native-sync.ts";
import { LayerslayerError } from "../../src/errors.ts";
import { chunked, collect, concat, jagged, run, sampleData } from "./helpers.ts";

const data = sampleData(700_000, 11);
const gz = run(["gzip", "-c", "-6"], data);
const multi = concat([Bun.gzipSync(data.subarray(0, 300_000)), Bun.gzipSync(data.subarray(300_000)), new Uint8Array(40)]);
const zst = concat([run(["zstd", "-q", "-c"], data.subarray(0, 400_000)), run(["zstd", "-q", "-c", "--no-check"], data.subarray(400_000))]);
const flipped = (b: Uint8Array, at: number) => {
  const c = b.slice();
  c[at]! ^= 0x40;
  return c;
};

type Native = typeof nativeGunzip;
const codecs: [string, Native, Uint8Array][] = [
  ["gzip", nativeGunzip, gz],
  ["gzip multi-member", nativeGunzip, multi],
  ["zstd multi-frame", nativeZstd, zst],
];

async function outcome(decode: Native, input: Uint8Array, opts: NativeOptions, piece = 3000) {
  try {
    const r = await collect(decode(jagged(input, 5, piece), opts));
    return { out: r.out, summary: r.summary, error: undefined };
  } catch (e) {
    return { out: undefined, summary: undefined, error: e instanceof LayerslayerError ? `${e.code}` : `other: ${String(e)}` };
  }
}

describe("native decoders: sync and stream drivers", () => {
  test("the zlib handle can be driven synchronously on this runtime", () => {
    expect(syncHandle(createGunzip())).toBeDefined();
  });

  test("handles that write on the thread pool can be made on this runtime, for gzip and zstd", () => {
    for (const [z, codec] of [
      [createGunzip(), "gzip"],
      [createZstdDecompress(), "zstd"],
    ] as const) {
      const h = overlapHandle(z, codec);
      expect(h?.start).toBeFunction();
      h?.handle.close();
      z.destroy();
    }
  });

  /** Every chunk as [length, offset], and the bytes, the summary or the error. */
  async function chunksOf(decode: Native, input: Uint8Array, opts: NativeOptions, piece: number) {
    const shape: [number, number][] = [];
    const parts: Uint8Array[] = [];
    try {
      const g = decode(jagged(input, 9, piece), opts);
      for (;;) {
        const r = await g.next();
        if (r.done) return { shape, out: concat(parts), summary: r.value, error: undefined };
        shape.push([r.value.data.length, r.value.compressedConsumed]);
        parts.push(r.value.data.slice());
      }
    } catch (e) {
      return { shape, out: concat(parts), summary: undefined, error: e instanceof LayerslayerError ? `${e.code} ${e.message}` : `other: ${String(e)}` };
    }
  }

  for (const [name, decode, input] of codecs) {
    test(`${name}: overlapping writes give the sync driver's bytes, summaries and errors, with offsets that only grow`, async () => {
      const cases: Uint8Array[] = [input, input.subarray(0, Math.floor(input.length * 0.6)), flipped(input, input.length >> 1), flipped(input, input.length - 6)];
      for (const c of cases) {
        for (const piece of [700, 70_000]) {
          for (const transient of [false, true]) {
            const sync = await chunksOf(decode, c, { overlap: false, transient }, piece);
            const overlapping = await chunksOf(decode, c, { transient, overlap: true }, piece);
            // Each write has a whole buffer of its own, so the chunks are cut elsewhere: the bytes,
            // the end and the errors are the same, and the offsets the same kind of upper bound.
            expect(overlapping.out).toEqual(sync.out);
            expect(overlapping.summary).toEqual(sync.summary);
            expect(overlapping.error).toEqual(sync.error);
            expect(overlapping.shape.at(-1)?.[1]).toBe(sync.shape.at(-1)?.[1]);
            let last = 0;
            for (const [length, offset] of overlapping.shape) {
              expect(length).toBeGreaterThan(0);
              expect(offset).toBeGreaterThanOrEqual(last);
              expect(offset).toBeLessThanOrEqual(c.length);
              last = offset;
            }
            if (c === input) expect(overlapping.out).toEqual(data);
          }
        }
      }
    });
  }

  for (const [name, decode, input] of codecs) {
    test(`${name}: whole, cut and corrupt input give the same results both ways`, async () => {
      const cases: Uint8Array[] = [input];
      for (const f of [0.1, 0.5, 0.97]) cases.push(input.subarray(0, Math.floor(input.length * f)));
      for (const at of [20, input.length >> 1, input.length - 6]) cases.push(flipped(input, at));
      for (const c of cases) {
        const sync = await outcome(decode, c, {});
        const stream = await outcome(decode, c, { stream: true });
        expect(sync.error).toEqual(stream.error);
        if (sync.error) continue;
        expect({ ...sync.summary!, decompressed: 0 }).toEqual({ ...stream.summary!, decompressed: 0 });
        expect(sync.summary!.decompressed).toBe(sync.out!.length);
        // Where the input stops inside a block, the stream driver may hand out a little less.
        expect(sync.out!.length).toBeGreaterThanOrEqual(stream.out!.length);
        expect(sync.out!.subarray(0, stream.out!.length)).toEqual(stream.out!);
        if (c === input) expect(sync.out).toEqual(data);
      }
    });
  }

  test("transient chunks reuse a few buffers and decode the same bytes, both handle drivers", async () => {
    for (const [decode, input, overlap] of codecs.flatMap(([, d, i]) => [[d, i, true] as const, [d, i, false] as const])) {
      const buffers = new Set<ArrayBufferLike>();
      const parts: Uint8Array[] = [];
      for await (const c of decode(chunked(input, 8192), { transient: true, overlap })) {
        buffers.add(c.data.buffer);
        parts.push(c.data.slice());
      }
      expect(concat(parts)).toEqual(data);
      expect(parts.length).toBeGreaterThan(5);
      expect(buffers.size).toBeLessThanOrEqual(8);
    }
  });

  test("a source that breaks off: what arrived is handed out, then the error, both ways", async () => {
    for (const [, decode, input] of codecs) {
      const lengths: number[] = [];
      for (const opts of [{ overlap: true }, { stream: true }, { overlap: false }]) {
        async function* failing() {
          yield* chunked(input.subarray(0, input.length >> 1), 5000);
          throw new Error("connection reset");
        }
        let n = 0;
        await expect(
          (async () => {
            for await (const c of decode(failing(), opts)) n += c.data.length;
          })(),
        ).rejects.toThrow("connection reset");
        lengths.push(n);
      }
      expect(lengths[0]!).toBeGreaterThan(data.length / 3);
      expect(lengths[0]!).toBeGreaterThanOrEqual(lengths[1]!);
      expect(lengths[0]).toBe(lengths[2]!);
    }
  });

  test("a consumer that stops while a write runs on the pool: the handle closes after it, nothing is lost or hangs", async () => {
    for (const [, decode, input] of codecs) {
      for (const after of [1, 2, 3]) {
        let n = 0;
        for await (const c of decode(chunked(input, 3000), { transient: true, overlap: true })) {
          if (++n >= after) break;
          expect(c.data.length).toBeGreaterThan(0);
        }
        expect(n).toBe(after);
      }
    }
  });
});
