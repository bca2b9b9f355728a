import { describe, expect, test } from "bun:test";
import { ensure, NumberColumn } from "../../src/image/columns.ts";

describe("ensure", () => {
  test("the same column when it has room; else a larger one keeping every value and filling the rest", () => {
    const a = new Int32Array(4).fill(-1);
    expect(ensure(a, 4, -1)).toBe(a);
    a[2] = 42;
    const b = ensure(a, 5000, -1);
    expect(b).toBeInstanceOf(Int32Array);
    expect(b.length).toBeGreaterThanOrEqual(5000);
    expect(Array.from(b.subarray(0, 4))).toEqual([-1, -1, 42, -1]);
    expect(b.subarray(4).every((v) => v === -1)).toBe(true);
    const c = ensure(new Float64Array([1.5]), 2);
    expect(Array.from(c.subarray(0, 2))).toEqual([1.5, 0]);
  });
});

describe("NumberColumn", () => {
  test("stays one byte a value while values fit, widens only as far as a value needs, keeps every value", () => {
    const c = new NumberColumn();
    for (let i = 0; i < 3000; i++) c.set(i, i % 200);
    expect(c.values(3000)).toBeInstanceOf(Uint8Array);
    c.set(3000, 420);
    expect(c.values(3001)).toBeInstanceOf(Uint16Array);
    c.set(3001, 2 ** 31);
    expect(c.values(3002)).toBeInstanceOf(Uint32Array);
    const odd = [-1, 1.5, 2 ** 53, Number.NaN, -0, Number.POSITIVE_INFINITY];
    odd.forEach((v, k) => c.set(3002 + k, v));
    expect(c.values(3010)).toBeInstanceOf(Float64Array);
    const back = Array.from({ length: 3008 }, (_, i) => c.get(i));
    expect(back.slice(0, 3000)).toEqual(Array.from({ length: 3000 }, (_, i) => i % 200));
    expect(back.slice(3000, 3002)).toEqual([420, 2 ** 31]);
    back.slice(3002).forEach((v, k) => expect(Object.is(v, odd[k])).toBe(true));
    // Unwritten values read 0; a column made from stored values answers the same.
    expect(c.get(100_000)).toBe(0);
    const again = new NumberColumn(c.values(3008));
    expect(Array.from({ length: 3008 }, (_, i) => again.get(i))).toEqual(back);
  });
});
