import { describe, expect, test } from "bun:test";
import { absolutePath, entryJson, isoTime, JSON_SCHEMA, jsonDocument, layerPath, ndjsonLine } from "../../src/output/json.ts";
import { formatTable, type Align } from "../../src/output/format.ts";
import { alignedLsLines, lsCells, lsLine, lsLines, streamWidths, type LsRow } from "../../src/output/ls.ts";
import { renderTree, treeFromPaths, treeSummary } from "../../src/output/tree.ts";
import { dir, file, hard, mk, sym } from "../image/helpers.ts";

describe("ls lines", () => {
  test("cells: names, ids, links, devices", () => {
    const e = file("etc/passwd", { size: 1234, uname: "root", gname: "wheel", mode: 0o644 });
    expect(lsCells(e)).toEqual(["-rw-r--r--", "root", "wheel", "1234", "2023-11-14 22:13", "etc/passwd"]);
    expect(lsCells(e, { numeric: true }).slice(1, 3)).toEqual(["0", "0"]);
    expect(lsCells(file("x", { uid: 1000, gid: 100, uname: "" }))[1]).toBe("1000");
    expect(lsCells(sym("bin", "usr/bin")).at(-1)).toBe("bin -> usr/bin");
    expect(lsCells(hard("bin/sh", "bin/busybox")).at(-1)).toBe("bin/sh link to bin/busybox");
    expect(lsCells(mk("dev/null", "char", { devmajor: 1, devminor: 3 }))[3]).toBe("1, 3");
    expect(lsCells(dir("etc"), { classify: true }).at(-1)).toBe("etc/");
    expect(lsCells(file("big", { size: 1536 }), { human: true })[3]).toBe("1.5K");
  });

  test("untrusted text is escaped everywhere", () => {
    const e = sym("\x1b]0;pwned\x07", "\n/etc", { uname: "r\x1bt" });
    const line = lsLine(e);
    expect(line).not.toMatch(/[\x00-\x1f]/);
    expect(line).toContain("\\x1b]0;pwned\\x07 -> \\n/etc");
    expect(line).toContain("r\\x1bt");
  });

  // Entries of every kind, with names and owners whose widths differ from their lengths.
  const varied = () => [
    file("etc/passwd", { size: 1234, uname: "root", gname: "wheel", mode: 0o644, mtime: 1700000000 }),
    file("usr/bin/sudo", { size: 123456789, uname: "r\u{1d518}\u{1d518}t", gname: "é", mode: 0o104755, mtime: -1 }),
    mk("dev/sda", "block", { devmajor: 8, devminor: 0, mode: 0o660, uid: 6, gid: 6 }),
    mk("tmp", "dir", { mode: 0o1777, mtime: NaN }),
    sym("bin", "usr/bin", { uname: "a-very-long-owner-name" }),
    hard("bin/sh", "bin/busybox", { size: 99 }),
    file("\x1b[31mred\u{1f600}", { uid: 123456789, gid: 42, mtime: 253402300799.5 }),
  ];

  test("lsLine makes the line a table of its cells would", () => {
    for (const opts of [{}, { human: true }, { numeric: true }, { classify: true }])
      for (const widths of [undefined, streamWidths(opts), [0, 0, 0, 0, 0], [12, 3, 1, 20, 18]])
        for (const e of varied()) {
          const cells = lsCells(e, opts);
          const want = formatTable([cells], ["left", "left", "left", "right", "left", "left"], widths ?? cells.map(() => 0))[0];
          expect(lsLine(e, { ...opts, ...(widths ? { widths } : {}) })).toBe(want!);
        }
  });

  test("alignedLsLines makes the lines a table of every row would", () => {
    const entries = varied();
    const cases: LsRow[][] = [
      entries.map((entry) => ({ entry })),
      entries.map((entry, i) => ({ entry, layer: i * 3, name: `n${i}` })),
      entries.map((entry, i) => ({ entry, ...(i % 2 ? { marker: "D\u{1f600}" } : {}) })),
      entries.map((entry, i) => ({ entry, ...(i % 3 ? { layer: i } : { marker: "O" }) })),
    ];
    for (const rows of cases) {
      const withLayer = rows.some((r) => r.layer !== undefined);
      const withMarker = rows.some((r) => r.marker !== undefined);
      const keep = [withLayer, withMarker, true, true, true, true, true, true];
      const table = rows.map((r) => [r.layer === undefined ? "" : `L${r.layer}`, r.marker ?? "", ...lsCells(r.entry, {}, r.name)].filter((_, i) => keep[i]));
      const align = (["right", "left", "left", "left", "left", "right", "left", "left"] as Align[]).filter((_, i) => keep[i]);
      expect([...alignedLsLines(() => rows)]).toEqual(formatTable(table, align));
    }
  });

  test("lsLines aligns columns and right-aligns sizes", () => {
    const lines = lsLines([file("a", { size: 5, uname: "root" }), file("bb", { size: 12345, uname: "nobody" })]);
    expect(lines).toEqual(["-rw-r--r-- root   0     5 2023-11-14 22:13 a", "-rw-r--r-- nobody 0 12345 2023-11-14 22:13 bb"]);
  });

  test("layer and marker columns appear only when used", () => {
    const lines = lsLines([
      { entry: file("a"), layer: 0, marker: "D", name: "a" },
      { entry: file("b"), layer: 12, name: "b" },
    ]);
    expect(lines[0]!.startsWith(" L0 D ")).toBe(true);
    expect(lines[1]!.startsWith("L12   ")).toBe(true);
    expect(lsLines([file("a")])[0]!.startsWith("-rw")).toBe(true);
  });

  test("streamed lines use fixed widths", () => {
    const line = lsLine(file("a", { size: 7 }), { widths: streamWidths() });
    expect(line).toBe("-rw-r--r-- 0        0               7 2023-11-14 22:13 a");
    expect(lsLine(file("a"), { name: "shown" }).endsWith(" shown")).toBe(true);
  });
});

describe("tree", () => {
  test("renders like tree(1)", () => {
    const root = treeFromPaths(["usr/bin/env", "etc/passwd", { path: "bin", suffix: "-> usr/bin" }, "usr/lib/x", { path: "empty", dir: true }]);
    expect(renderTree(root)).toEqual([
      ".",
      "├── bin -> usr/bin",
      "├── empty",
      "├── etc",
      "│   └── passwd",
      "└── usr",
      "    ├── bin",
      "    │   └── env",
      "    └── lib",
      "        └── x",
    ]);
    expect(treeSummary(root)).toBe("5 directories, 4 files");
    expect(renderTree(["b", "a/c"])).toEqual([".", "├── a", "│   └── c", "└── b"]);
  });

  test("escapes names and handles duplicates and root items", () => {
    const root = treeFromPaths([".", "a\nb", "a\nb", "./c/"], "/");
    expect(renderTree(root)).toEqual(["/", "├── a\\nb", "└── c"]);
  });

  test("deep paths do not blow the stack", () => {
    const deep = Array.from({ length: 5000 }, (_, i) => `d${i}`).join("/");
    const lines = renderTree(treeFromPaths([deep]));
    expect(lines.length).toBe(5001);
  });
});

describe("json", () => {
  test("entryJson shape and key order, undefined omitted", () => {
    const e = sym("bin", "usr/bin", { layer: 2, uname: "root", mode: 0o777 });
    const j = entryJson(e);
    expect(Object.keys(j)).toEqual(["layer", "path", "type", "mode", "size", "uid", "gid", "uname", "mtime", "linkname"]);
    expect(j).toEqual({ layer: 2, path: "/bin", type: "symlink", mode: 0o777, size: 0, uid: 0, gid: 0, uname: "root", mtime: "2023-11-14T22:13:20Z", linkname: "usr/bin" });
    expect("headerOffset" in j).toBe(false);
    expect(Object.keys(entryJson(file("f")))).not.toContain("layer");
    expect(entryJson(mk("dev/null", "char", { devmajor: 1, devminor: 3 }))).toMatchObject({ devmajor: 1, devminor: 3 });
  });

  test("paths are absolute and normalized like the merged view's; a hard link's target too, a symlink's text not", () => {
    expect(layerPath("./usr//bin/")).toBe("/usr/bin");
    expect(layerPath("etc/passwd")).toBe("/etc/passwd");
    expect(layerPath("./")).toBe("/");
    expect(layerPath("a/../../x")).toBe("a/../../x");
    expect(absolutePath(".")).toBe("/");
    expect(entryJson(file("f"), "/merged/place").path).toBe("/merged/place");
    expect(entryJson(mk("bin/b", "hardlink", { linkname: "./bin//a" })).linkname).toBe("/bin/a");
    expect(entryJson(sym("lib", "./usr//lib")).linkname).toBe("./usr//lib");
  });

  test("every record and document carries the schema version first", () => {
    expect(Object.keys(JSON.parse(ndjsonLine({ stats: {} })))).toEqual(["schema", "stats"]);
    expect(JSON.parse(jsonDocument({ a: 1 }))).toEqual({ schema: JSON_SCHEMA, a: 1 });
    expect(jsonDocument({ a: 1 }).endsWith("}\n")).toBe(true);
  });

  test("mtime with fractions", () => {
    expect(isoTime(1_700_000_000)).toBe("2023-11-14T22:13:20Z");
    expect(isoTime(1_700_000_000.5)).toBe("2023-11-14T22:13:20.5Z");
    expect(isoTime(1_700_000_000.123)).toBe("2023-11-14T22:13:20.123Z");
    expect(isoTime(1_700_000_000.123456)).toBe("2023-11-14T22:13:20.123456Z");
    expect(isoTime(-0.5)).toBe("1969-12-31T23:59:59.5Z");
    expect(isoTime(Number.NaN)).toBeNull();
    expect(isoTime(1e20)).toBeNull();
  });

  test("ndjson lines keep control characters escaped by JSON", () => {
    const line = ndjsonLine(entryJson(file("a\x1bb")));
    expect(line.endsWith("\n")).toBe(true);
    expect(line).not.toContain("\x1b");
    expect(JSON.parse(line).path).toBe("/a\x1bb");
  });

  test("names that are not UTF-8: the escaped form ls prints, and the exact bytes in base64 beside it", () => {
    const e = sym("caf\udce9/x", "t\udcff\n");
    const rec = JSON.parse(ndjsonLine({ entry: entryJson(e) }));
    expect(rec.entry.path).toBe("/caf\\xe9/x");
    expect(Buffer.from(rec.entry.pathRaw, "base64")).toEqual(Buffer.from([0x2f, 0x63, 0x61, 0x66, 0xe9, 0x2f, 0x78]));
    expect(rec.entry.linkname).toBe("t\\xff\\n");
    expect(Buffer.from(rec.entry.linknameRaw, "base64")).toEqual(Buffer.from([0x74, 0xff, 0x0a]));
    expect(Object.keys(rec.entry).slice(0, 3)).toEqual(["path", "pathRaw", "type"]);
    const plain = JSON.parse(jsonDocument({ path: "/café" }));
    expect(plain).toEqual({ schema: JSON_SCHEMA, path: "/café" });
  });
});
