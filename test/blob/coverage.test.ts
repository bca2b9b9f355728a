import { expect, test } from "bun:test";
import { ByteCoverage } from "../../src/blob/coverage.ts";
import { prng } from "../support/bytes.ts";

test("ranges added in any order, overlapping or touching, count each byte once", () => {
  const c = new ByteCoverage();
  c.add(100, 228); // a tail probe
  c.add(0, 40); // a transfer cut short
  c.add(40, 100); // its resume
  c.add(0, 228); // the same bytes again
  c.add(5, 5); // nothing
  c.add(9, 3); // backwards: nothing
  expect(c.size).toBe(228);
});

test("against a bitmap, for random ranges", () => {
  const rand = prng(17);
  for (let round = 0; round < 50; round++) {
    const c = new ByteCoverage();
    const bits = new Uint8Array(2000);
    for (let i = 0; i < 20; i++) {
      const a = Math.floor(rand() * 2000);
      const b = Math.min(2000, a + Math.floor(rand() * 300));
      c.add(a, b);
      bits.fill(1, a, b);
    }
    const other = new ByteCoverage();
    other.add(1900, 2000);
    bits.fill(1, 1900, 2000);
    c.addAll(other);
    expect(c.size).toBe(bits.reduce((n, x) => n + x, 0));
  }
});
