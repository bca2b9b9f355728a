import { describe, expect, test } from "bun:test";
import { EntryTable } from "../../src/image/entry-table.ts";
import type { Entry } from "../../src/types.ts";
import { mk } from "./helpers.ts";

describe("EntryTable", () => {
  test("rows give back equal entries, absent fields absent", () => {
    const t = new EntryTable();
    const plain = mk("etc/passwd", "file", { size: 1234, uid: 0, gid: 0, mtime: 1_700_000_123 });
    const rich: Entry = mk("usr/lib/x", "symlink", { linkname: "../y", uname: "root", gname: "wheel", layer: 3 });
    const dev: Entry = mk("dev/null", "char", { devmajor: 1, devminor: 3, mode: 0o666 });
    const rows = [plain, rich, dev].map((e) => t.add(e, 5, e.path));
    expect(rows.map((r) => t.get(r, [plain, rich, dev][r]!.path))).toStrictEqual([plain, rich, dev]);
    expect(t.typeOf(rows[1]!)).toBe("symlink");
    expect(t.linknameOf(rows[1]!)).toBe("../y");
    expect(t.layerOf(rows[2]!)).toBe(5);
    expect(t.length).toBe(3);
  });

  test("values outside their columns are kept exactly", () => {
    const t = new EntryTable();
    const odd: Entry = mk("a//b", "file", {
      uid: 2 ** 40,
      gid: -1,
      mode: 0o1000000,
      size: 2 ** 52 + 1,
      mtime: 1_700_000_000.123456,
      headerOffset: 2 ** 45,
      compressedOffset: 2 ** 44 + 7,
      layer: 1.5,
      uname: "",
    });
    const r = t.add(odd, 0, "a/b");
    // The clean path given to `get` is replaced by the archive's own spelling.
    expect(t.get(r, "a/b")).toStrictEqual(odd);
  });

  test("non-Latin-1 names and more owner names than a 16-bit id holds", () => {
    const t = new EntryTable();
    const rows: number[] = [];
    const entries: Entry[] = [];
    for (let i = 0; i < 70_000; i++) {
      const e = mk(`f${i}`, "file", { uname: `user-${i}-\u{1F600}`, gname: "g" });
      entries.push(e);
      rows.push(t.add(e, 0, e.path));
    }
    for (const i of [0, 65_534, 65_535, 65_536, 69_999]) expect(t.get(rows[i]!, entries[i]!.path)).toStrictEqual(entries[i]!);
  });

  test("an unknown type is refused before anything is stored", () => {
    const t = new EntryTable();
    expect(() => t.add({ ...mk("x"), type: "socket" as Entry["type"] }, 0, "x")).toThrow(/unknown entry type/);
    expect(t.length).toBe(0);
  });
});
