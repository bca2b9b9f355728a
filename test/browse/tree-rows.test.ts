import { describe, expect, test } from "bun:test";
import { MergedTree } from "../../src/image/merge.ts";
import { directorySizes, treeRows, type TreeQuery } from "../../src/browse/tree-rows.ts";
import type { Entry } from "../../src/types.ts";

function e(path: string, type: Entry["type"] = "file", size = 0, linkname?: string): Entry {
  return { path, type, mode: 0o644, size, uid: 0, gid: 0, mtime: 0, headerOffset: 0, compressedOffset: 0, ...(linkname ? { linkname } : {}) };
}

function image(): MergedTree {
  const t = new MergedTree();
  t.addLayer(
    [e("etc/", "dir"), e("etc/passwd", "file", 100), e("etc/os-release", "symlink", 0, "../usr/lib/os-release"), e("usr/lib/os-release", "file", 40), e("tmp/junk", "file", 5)],
    0,
  );
  t.addLayer([e("etc/passwd", "file", 120), e("var/log/big.log", "file", 1000)], 1);
  t.addLayer([e("tmp/.wh.junk"), e("app/run", "file", 7)], 2);
  return t;
}

const q = (over: Partial<TreeQuery>): TreeQuery => ({ mode: "merged", layer: 2, open: new Set(), closed: new Set(), ...over });

describe("tree rows", () => {
  test("merged view: only open directories are walked; directory sizes add up the files below", () => {
    const t = image();
    const sizes = directorySizes(t);
    const rows = treeRows(t, q({ open: new Set(["etc"]) }), sizes);
    expect(rows.map((r) => `${"  ".repeat(r.depth)}${r.name} ${r.size} ${r.change}`)).toEqual([
      "app 7 added",
      "etc 120 none",
      "  os-release 0 none",
      "  passwd 120 none",
      "tmp 0 none",
      "usr 40 none",
      "var 1000 none",
    ]);
    expect(rows.find((r) => r.name === "os-release")!.link).toBe("../usr/lib/os-release");
  });

  test("merged view coloured by the selected layer: added and modified", () => {
    const t = image();
    const rows = treeRows(t, q({ layer: 1, open: new Set(["etc", "var", "var/log"]) }), directorySizes(t));
    expect(rows.find((r) => r.path === "etc/passwd")!.change).toBe("modified");
    expect(rows.find((r) => r.path === "var/log/big.log")!.change).toBe("added");
    expect(rows.find((r) => r.path === "etc/os-release")!.change).toBe("none");
  });

  test("changes of one layer: added, removed, and the directories above them; closing one hides its children", () => {
    const t = image();
    const rows = treeRows(t, q({ mode: "layer", layer: 2 }), new Map());
    expect(rows.map((r) => `${r.path} ${r.change}`)).toEqual(["app added", "app/run added", "tmp none", "tmp/junk removed"]);
    const closed = treeRows(t, q({ mode: "layer", layer: 2, closed: new Set(["tmp"]) }), new Map());
    expect(closed.map((r) => r.path)).toEqual(["app", "app/run", "tmp"]);
  });

  test("sort by size: largest first, directories by the files below them", () => {
    const t = image();
    const rows = treeRows(t, q({ sort: "size", open: new Set(["etc"]) }), directorySizes(t));
    expect(rows.map((r) => r.path)).toEqual(["var", "etc", "etc/passwd", "etc/os-release", "usr", "app", "tmp"]);
    const changes = treeRows(t, q({ mode: "layer", layer: 1, sort: "size" }), new Map());
    expect(changes.map((r) => r.path)).toEqual(["var", "var/log", "var/log/big.log", "etc", "etc/passwd"]);
  });

  test("a filter keeps the matches and their parents, open", () => {
    const t = image();
    const re = /(^|\/)passwd$/;
    const rows = treeRows(t, q({ filter: (p) => re.test(p) }), directorySizes(t));
    expect(rows.map((r) => [r.path, r.depth, r.open])).toEqual([
      ["etc", 0, true],
      ["etc/passwd", 1, false],
    ]);
    const layer = treeRows(t, q({ mode: "layer", layer: 1, filter: (p) => p.endsWith(".log") }), new Map());
    expect(layer.map((r) => r.path)).toEqual(["var", "var/log", "var/log/big.log"]);
  });
});
