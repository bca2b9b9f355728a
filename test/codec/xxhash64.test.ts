import { expect, test } from "bun:test";
import { XxHash64 } from "../../src/codec/xxhash64.ts";
import { prng } from "./helpers.ts";

const asBig = ([hi, lo]: [number, number]): bigint => (BigInt(hi) << 32n) | BigInt(lo);
const native = (d: Uint8Array): bigint => BigInt.asUintN(64, BigInt(Bun.hash.xxHash64(d)));

test("streaming XXH64 matches Bun.hash.xxHash64 for every length and every way of splitting", () => {
  const rnd = prng(99);
  const data = Uint8Array.from({ length: 5000 }, () => Math.floor(rnd() * 256));
  for (let n = 0; n <= 140; n++) {
    const d = data.subarray(0, n);
    expect(asBig(new XxHash64().update(d).digest())).toBe(native(d));
  }
  for (const n of [255, 256, 257, 1000, 4999, 5000]) {
    const d = data.subarray(3, 3 + Math.min(n, 4997)); // unaligned views too
    for (const step of [1, 5, 31, 32, 33, 100, 4096]) {
      const h = new XxHash64();
      for (let i = 0; i < d.length; i += step) h.update(d.subarray(i, i + step));
      expect(asBig(h.digest())).toBe(native(d));
    }
  }
  // Large values in every lane: all-0xff input.
  const ff = new Uint8Array(777).fill(0xff);
  expect(asBig(new XxHash64().update(ff).digest())).toBe(native(ff));
  expect(new XxHash64().update(ff).digestLow32()).toBe(Number(native(ff) & 0xffffffffn));
});
