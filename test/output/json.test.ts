import { describe, expect, test } from "bun:test";
import { jsonDocument, jsonDocumentParts } from "../../src/output/json.ts";

describe("jsonDocumentParts", () => {
  const cases: Array<[string, object[]]> = [
    ["no items", []],
    ["one item", [{ path: "/a", size: 1 }]],
    ["nested values and names that are not UTF-8", [{ path: "/x\udc80y", list: [1, { deep: "a\nb" }] }, { path: "/ok", n: null }]],
    ["many items", Array.from({ length: 1000 }, (_, i) => ({ path: `/f${i}`, size: i }))],
  ];
  for (const [what, items] of cases) {
    test(`${what}: the same text as jsonDocument, in pieces`, () => {
      const value = { path: "/", layer: 2, entries: [] as object[], history: [{ action: "added" }] };
      const parts = [...jsonDocumentParts(value, "entries", items)];
      expect(parts.join("")).toBe(jsonDocument({ ...value, entries: items }));
      if (items.length > 1) expect(parts.length).toBeGreaterThan(items.length);
    });
  }
});
