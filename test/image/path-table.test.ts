import { describe, expect, test } from "bun:test";
import { NONE, PathTable, ROOT_SLOT } from "../../src/image/path-table.ts";

describe("PathTable", () => {
  test("a slot per (parent, name), found again, with its path", () => {
    const t = new PathTable();
    const usr = t.intern(ROOT_SLOT, "usr");
    const bin = t.intern(usr, "bin");
    expect(t.intern(ROOT_SLOT, "usr")).toBe(usr);
    expect(t.child(usr, "bin")).toBe(bin);
    expect(t.child(ROOT_SLOT, "bin")).toBe(NONE);
    expect(t.pathOf(bin)).toBe("usr/bin");
    expect(t.pathOf(ROOT_SLOT)).toBe(".");
    expect(t.lookup("usr/bin")).toBe(bin);
    expect(t.lookup("usr/lib")).toBe(NONE);
    expect(t.lookup(".")).toBe(ROOT_SLOT);
    expect(t.length).toBe(3);
  });

  test("names of every kind come back exactly: long, non-Latin-1, escaped bytes, empty-looking", () => {
    const t = new PathTable();
    const names = ["x".repeat(300), "caf\u00e9", "\u65e5\u672c", "\udc80\udcff", " ", ".wh.a", "a\u0000b", "\u00ff\u0100"];
    const slots = names.map((n) => t.intern(ROOT_SLOT, n));
    expect(slots.map((s) => t.nameOf(s))).toStrictEqual(names);
    expect(names.map((n) => t.child(ROOT_SLOT, n))).toStrictEqual(slots);
    // Same bytes, different code units: "\u00e9" is not "e\u0301".
    expect(t.child(ROOT_SLOT, "cafe\u0301")).toBe(NONE);
  });

  test("children in the order they were first seen; many slots survive growing and rehashing", () => {
    const t = new PathTable();
    const dir = t.intern(ROOT_SLOT, "d");
    const kids: number[] = [];
    for (let i = 0; i < 200_000; i++) kids.push(t.intern(dir, `n${i}`));
    const seen: number[] = [];
    for (let c = t.firstChildOf(dir); c !== NONE; c = t.nextSiblingOf(c)) seen.push(c);
    expect(seen).toStrictEqual(kids);
    for (const i of [0, 1, 99_999, 199_999]) {
      expect(t.child(dir, `n${i}`)).toBe(kids[i]!);
      expect(t.pathOf(kids[i]!)).toBe(`d/n${i}`);
    }
  });

  test("names past the first pool chunk, and a name longer than a chunk, come back exactly", () => {
    const t = new PathTable();
    const dir = t.intern(ROOT_SLOT, "d");
    const long = "y".repeat(3 << 20);
    const slots: number[] = [];
    for (let i = 0; i < 150_000; i++) slots.push(t.intern(dir, `name-${i}-${"z".repeat(i % 13)}`));
    const big = t.intern(dir, long);
    const after = t.intern(dir, "after");
    for (const i of [0, 70_000, 149_999]) {
      expect(t.nameOf(slots[i]!)).toBe(`name-${i}-${"z".repeat(i % 13)}`);
      expect(t.child(dir, `name-${i}-${"z".repeat(i % 13)}`)).toBe(slots[i]!);
    }
    expect(t.nameOf(big)).toBe(long);
    expect(t.child(dir, long)).toBe(big);
    expect(t.pathOf(after)).toBe("d/after");
    const copy = PathTable.fromState(t.state());
    expect(copy.nameOf(big)).toBe(long);
    expect(copy.child(dir, `name-70000-${"z".repeat(70_000 % 13)}`)).toBe(slots[70_000]!);
  });

  test("room reserved ahead is used without changing any answer", () => {
    const t = new PathTable();
    t.reserve(10_000);
    const slots = Array.from({ length: 10_000 }, (_, i) => t.intern(ROOT_SLOT, `f${i}`));
    expect(slots.map((_, i) => t.child(ROOT_SLOT, `f${i}`))).toStrictEqual(slots);
    expect(t.length).toBe(10_001);
  });

  test("sealed (no hash): the same answers by reading children; adding a name makes the hash again", () => {
    const t = new PathTable();
    const dir = t.intern(ROOT_SLOT, "d");
    const kids = Array.from({ length: 5_000 }, (_, i) => t.intern(dir, `k${i}`));
    t.seal();
    expect(t.child(dir, "k4999")).toBe(kids[4_999]!);
    expect(t.lookup("d/k17")).toBe(kids[17]!);
    expect(t.lookup("d/nope")).toBe(NONE);
    const more = t.intern(dir, "later");
    expect(t.intern(dir, "k3")).toBe(kids[3]!);
    const seen: number[] = [];
    for (let c = t.firstChildOf(dir); c !== NONE; c = t.nextSiblingOf(c)) seen.push(c);
    expect(seen).toStrictEqual([...kids, more]);
    expect(t.child(dir, "later")).toBe(more);
  });
});
