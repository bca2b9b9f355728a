import { describe, expect, test } from "bun:test";
import { jsonDocument, jsonDocumentParts, ndjsonLine, rawJsonFor, terminalSafeJson } from "../../src/output/json.ts";

describe("jsonDocumentParts", () => {
  const cases: Array<[string, object[]]> = [
    ["no items", []],
    ["one item", [{ path: "/a", size: 1 }]],
    [
      "nested values and names that are not UTF-8",
      [
        { path: "/x\udc80y", list: [1, { deep: "a\nb" }] },
        { path: "/ok", n: null },
      ],
    ],
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

describe("JSON safe on a terminal", () => {
  const hostile = "a\x1b[31m\x07\x7f\u0085\u009b\u061c\u200e\u2028\u2029\u202e\u2066\ufeffz";
  test("every character that could act on a terminal is a \\u escape; the values parse back the same", () => {
    for (const text of [jsonDocument({ name: hostile, [hostile]: [hostile] }), ndjsonLine({ name: hostile })]) {
      expect(text).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff]/);
      const doc = JSON.parse(text);
      expect(doc.name).toBe(hostile);
    }
    expect(terminalSafeJson('{"k":"\u202e"}')).toBe('{"k":"\\u202e"}');
    const plain = '{"k":"é✓"}';
    expect(terminalSafeJson(plain)).toBe(plain);
  });

  test("a server's document: byte for byte into a pipe, the same JSON made safe on a terminal (bytes that are not UTF-8 shown as U+FFFD)", () => {
    const bytes = new Uint8Array([...new TextEncoder().encode('{"k":"\u009b\u202e"}'), 0x9b]);
    expect(rawJsonFor(bytes, false)).toBe(bytes);
    expect(rawJsonFor(bytes, true)).toBe('{"k":"\\u009b\\u202e"}\ufffd');
  });
});
