import { describe, expect, test } from "bun:test";
import { cell, compactCount, day, tagTable } from "../../src/output/hub.ts";

describe("tables of Docker Hub and search results", () => {
  test("cells: escaped, whitespace runs as one space, cut with … but never inside an escape", () => {
    expect(cell(undefined, 10)).toBe("-");
    expect(cell("", 10)).toBe("-");
    expect(cell("a\n\tb", 10)).toBe("a b");
    expect(cell("abcdefghijk", 5)).toBe("abcd…");
    expect(cell("ab\x1bcdef", 5)).toBe("ab…"); // "ab\x1" would be half an escape
    expect(cell("ab\u202ecdef", 6)).toBe("ab…");
    expect(cell("ab\x1bcdef", 7)).toBe("ab\\x1b…");
    expect(cell("é😀ü", 3)).toBe("é😀ü");
  });
  test("counts in a few characters", () => {
    expect([0, 999, 1000, 1234, 12_345, 999_999, 1_000_000, 7_000_000_000, undefined].map(compactCount)).toEqual(["0", "999", "1.0K", "1.2K", "12K", "999K", "1.0M", "7.0B", "-"]);
    expect(day("2024-06-20T17:33:00.000Z")).toBe("2024-06-20");
    expect(day(undefined)).toBe("-");
  });
  test("a tag without images still has its line", () => {
    expect(tagTable([{ name: "x\x1b", images: [] }])).toEqual(["TAG   PUSHED SIZE PLATFORM DIGEST", "x\\x1b -         - -        -"]);
  });
});
