import { describe, expect, test } from "bun:test";
import { probeListing } from "../../src/image/locate.ts";
import { mergeLayers } from "../../src/image/merge.ts";
import { classifyMember, type Member } from "../../src/image/paths.ts";
import type { Entry } from "../../src/types.ts";
import { dir, file, hard, mk, sym } from "./helpers.ts";

describe("classifyMember: one set of rules for what a member is", () => {
  test("entries, whiteouts, opaque markers, aufs metadata, anomalies", () => {
    const cases: Array<[Entry, Member]> = [
      [file("usr//bin/./x"), { kind: "entry", path: "usr/bin/x" }],
      [file("a/../b"), { kind: "entry", path: "b" }],
      [file("../escape"), { kind: "anomaly", reason: "path climbs above the image root" }],
      [file("etc/.wh.passwd"), { kind: "whiteout", path: "etc/.wh.passwd", target: "etc/passwd" }],
      [file("etc//.wh.passwd"), { kind: "whiteout", path: "etc/.wh.passwd", target: "etc/passwd" }],
      [file(".wh.top"), { kind: "whiteout", path: ".wh.top", target: "top" }],
      [file("a/.wh..wh..opq"), { kind: "opaque", path: "a/.wh..wh..opq", target: "a" }],
      [file(".wh..wh.plnk"), { kind: "meta", path: ".wh..wh.plnk" }],
      [dir(".wh..wh.plnk"), { kind: "meta", path: ".wh..wh.plnk" }],
      [file(".wh..wh.plnk/123.456"), { kind: "ignored" }],
      [file("a/.wh.b/c"), { kind: "anomaly", reason: "member inside a whiteout name" }],
      [file("a/.wh."), { kind: "anomaly", reason: "whiteout names no file" }],
      [mk("pax_global_header", "pax-global"), { kind: "ignored" }],
    ];
    for (const [e, want] of cases) expect([e.path, classifyMember(e)]).toEqual([e.path, want]);
  });
});

/** Locate a path the way `cat` does: from the top layer down, first layer with an outcome wins. */
function locate(layers: Entry[][], path: string): string {
  for (let i = layers.length - 1; i >= 0; i--) {
    const o = probeListing(path, layers[i]!);
    if (o.kind === "none") continue;
    if (o.kind === "file" || o.kind === "dir" || o.kind === "hardlink") return `${o.kind === "hardlink" ? "hardlink" : o.entry.type}@${i}`;
    if (o.kind === "redirect") return `symlink@${i}`;
    return "absent";
  }
  return "absent";
}

describe("the merged view (ls) and the file locator (cat) agree on every path", () => {
  test("odd spellings, whiteouts, opaque dirs, aufs metadata, global headers", () => {
    const layers: Entry[][] = [
      [dir("usr"), dir("usr/bin"), file("usr/bin/x"), file("usr/bin/gone"), dir("opaque"), file("opaque/old"), file("etc/keep"), file("plain")],
      [
        file("usr//bin/y"),
        file("./usr/./bin/z"),
        file("usr/bin/.wh.gone"),
        file("opaque//.wh..wh..opq"),
        file("opaque/new"),
        file(".wh..wh.plnk"),
        file(".wh..wh.plnk/999.1"),
        mk("pax_global_header", "pax-global"),
        hard("usr/bin/hl", "usr//bin/y"),
        sym("link", "usr/bin"),
        file("a/.wh.b/c"),
        file("../../etc/evil"),
      ],
    ];
    const tree = mergeLayers(layers);
    const paths = [
      "usr/bin/x",
      "usr/bin/y",
      "usr/bin/z",
      "usr/bin/gone",
      "opaque/old",
      "opaque/new",
      "etc/keep",
      "plain",
      ".wh..wh.plnk",
      ".wh..wh.plnk/999.1",
      "pax_global_header",
      "usr/bin/hl",
      "link",
      "a/.wh.b/c",
      "etc/evil",
      "usr/bin/.wh.gone",
      "opaque/.wh..wh..opq",
    ];
    for (const p of paths) {
      const node = tree.get(p);
      const merged = node ? `${node.target ? "hardlink" : node.entry.type}@${node.layer}` : "absent";
      expect([p, locate(layers, p)]).toEqual([p, merged]);
    }
    expect(tree.get("usr/bin/y")?.layer).toBe(1);
    expect(tree.get("usr/bin/hl")?.target?.entry.path).toBe("usr//bin/y");
  });
});
