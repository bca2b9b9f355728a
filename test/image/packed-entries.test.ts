import { describe, expect, test } from "bun:test";
import { PART_ENTRIES } from "../../src/cache/listing-parts.ts";
import { PackedEntries } from "../../src/image/packed-entries.ts";
import type { Entry } from "../../src/types.ts";
import { mk } from "./helpers.ts";

describe("PackedEntries", () => {
  test("entries come back equal and in order, across packed parts and the unpacked tail, every time", () => {
    const n = PART_ENTRIES * 2 + 17;
    const entries: Entry[] = [];
    const packed = new PackedEntries();
    for (let i = 0; i < n; i++) {
      const e = mk(`d${i % 7}/f-${i}`, i % 5 === 0 ? "symlink" : "file", i % 5 === 0 ? { linkname: `t${i}`, layer: 2 } : { size: i, layer: 2 });
      entries.push(e);
      packed.add(e);
    }
    expect(packed.length).toBe(n);
    expect([...packed]).toStrictEqual(entries);
    expect([...packed]).toStrictEqual(entries);
  });
});
