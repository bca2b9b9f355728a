import { describe, expect, test } from "bun:test";
import { ensure } from "../../src/image/columns.ts";

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
