import { describe, expect, test } from "bun:test";
import { MergedTree, mergeLayers, type HistoryEvent } from "../../src/image/merge.ts";
import { dir, file, hard, mk, opq, sym, wh } from "./helpers.ts";

const paths = (t: MergedTree, d = "."): string[] => [...t.walk(d)].map((n) => n.path);
const brief = (evs: readonly HistoryEvent[]): string[] => evs.map((e) => `${e.layer}:${e.action}:${e.path}${e.by ? `<${e.by}` : ""}`);

describe("basic merge", () => {
  test("later layers win and remember what they replaced", () => {
    const a0 = file("etc/passwd", { size: 1 });
    const a1 = file("etc/passwd", { size: 2 });
    const a2 = file("etc/passwd", { size: 3 });
    const t = mergeLayers([[dir("etc"), a0], [a1], [a2]]);
    const n = t.get("etc/passwd")!;
    expect(n.entry).toEqual(a2);
    expect(n.layer).toBe(2);
    expect(n.replaced).toEqual([a0, a1]);
    expect(t.get("etc")!.layer).toBe(0);
    expect(t.layerCount).toBe(3);
  });

  test("get cleans user paths; root is '.'", () => {
    const t = mergeLayers([[dir("."), dir("etc"), file("etc/hosts")]]);
    expect(t.get("/etc/hosts")?.path).toBe("etc/hosts");
    expect(t.get("./etc//hosts/")?.path).toBe("etc/hosts");
    expect(t.get("/")?.path).toBe(".");
    expect(t.get("")?.path).toBe(".");
    expect(t.get("/")!.implied).toBe(false);
    expect(t.has("etc/nope")).toBe(false);
  });

  test("list is sorted and direct; walk is depth-first pre-order sorted", () => {
    const t = mergeLayers([[file("b/z"), file("b/a"), dir("a"), file("c"), file("a/y/x"), file("B")]]);
    expect(t.list(".").map((n) => n.name)).toEqual(["B", "a", "b", "c"]);
    expect(paths(t)).toEqual(["B", "a", "a/y", "a/y/x", "b", "b/a", "b/z", "c"]);
    expect(paths(t, "a")).toEqual(["a/y", "a/y/x"]);
    expect(t.list("c")).toEqual([]);
    expect(t.list("missing")).toEqual([]);
    expect(t.size).toBe(9);
  });

  test("listNames gives list's names in its order, deleted and hidden children left out", () => {
    const t = mergeLayers([
      [file("b/z"), file("b/a"), dir("a"), file("c"), file("a/y/x"), file("B"), file("d/1"), file("d/2")],
      [wh("b/z"), opq("d"), file("d/3")],
    ]);
    for (const d of [".", "/", "a", "b", "d", "a/y"]) expect(t.listNames(d)).toEqual(t.list(d).map((n) => n.name));
    expect(t.listNames("/")).toEqual(["B", "a", "b", "c", "d"]);
    expect(t.listNames("b")).toEqual(["a"]);
    expect(t.listNames("d")).toEqual(["3"]);
    expect(t.listNames("c")).toEqual([]);
    expect(t.listNames("missing")).toEqual([]);
  });

  test("directory over directory keeps lower children, takes upper metadata", () => {
    const upper = dir("usr", { mode: 0o700, uid: 5 });
    const t = mergeLayers([
      [dir("usr"), file("usr/a")],
      [upper, file("usr/b")],
    ]);
    expect(t.get("usr")!.entry).toEqual(upper);
    expect(t.list("usr").map((n) => n.name)).toEqual(["a", "b"]);
    expect(t.get("usr/a")!.layer).toBe(0);
  });

  test("a non-directory over a directory removes the whole lower subtree", () => {
    const t = mergeLayers([[dir("opt"), dir("opt/x"), file("opt/x/1"), file("opt/2")], [sym("opt", "/srv")]]);
    expect(t.get("opt")!.entry.type).toBe("symlink");
    expect(t.get("opt/x")).toBeUndefined();
    expect(t.get("opt/x/1")).toBeUndefined();
    expect(t.list("opt")).toEqual([]);
    expect(brief(t.historyOf("opt/x/1"))).toEqual(["0:added:opt/x/1", "1:deleted:opt/x/1<opt"]);
  });

  test("dir -> file -> dir across three layers", () => {
    const d0 = dir("x");
    const f1 = file("x");
    const d2 = dir("x");
    const t = mergeLayers([[d0, file("x/old")], [f1], [d2, file("x/new")]]);
    const n = t.get("x")!;
    expect(n.entry).toEqual(d2);
    expect(n.replaced).toEqual([d0, f1]);
    expect(t.list("x").map((c) => c.name)).toEqual(["new"]);
    expect(brief(t.historyOf("x"))).toEqual(["0:added:x", "1:modified:x", "2:modified:x"]);
    expect(brief(t.historyOf("x/old"))).toEqual(["0:added:x/old", "1:deleted:x/old<x"]);
  });
});

describe("whiteouts", () => {
  test("delete a lower file", () => {
    const t = mergeLayers([[dir("etc"), file("etc/a"), file("etc/b")], [wh("etc/a")]]);
    expect(t.get("etc/a")).toBeUndefined();
    expect(t.list("etc").map((n) => n.name)).toEqual(["b"]);
    expect(brief(t.historyOf("etc/a"))).toEqual(["0:added:etc/a", "1:deleted:etc/a<etc/.wh.a"]);
  });

  test("delete a lower directory and everything under it, with one event per path", () => {
    const t = mergeLayers([[dir("var"), dir("var/cache"), dir("var/cache/apt"), file("var/cache/apt/x"), file("var/keep")], [wh("var/cache")]]);
    expect(paths(t)).toEqual(["var", "var/keep"]);
    const deleted = [...t.events()]
      .filter((e) => e.action === "deleted")
      .map((e) => e.path)
      .sort();
    expect(deleted).toEqual(["var/cache", "var/cache/apt", "var/cache/apt/x"]);
    expect(t.whiteouts()).toEqual([{ layer: 1, path: "var/.wh.cache", kind: "whiteout", target: "var/cache", removed: 3 }]);
  });

  test("a whiteout does not delete the same layer's entry, before or after it in the tar", () => {
    const before = file("a/f", { size: 7 });
    const after = file("a/g", { size: 8 });
    const t = mergeLayers([
      [dir("a"), file("a/f"), file("a/g")],
      [before, wh("a/f"), wh("a/g"), after],
    ]);
    expect(t.get("a/f")!.entry).toEqual(before);
    expect(t.get("a/g")!.entry).toEqual(after);
    // The lower versions were deleted first, so nothing was "replaced" and the action is added.
    expect(t.get("a/f")!.replaced).toEqual([]);
    expect(brief(t.historyOf("a/g"))).toEqual(["0:added:a/g", "1:deleted:a/g<a/.wh.g", "1:added:a/g"]);
  });

  test("a whiteout over a lower dir with a same-layer dir: lower children gone, same-layer ones stay", () => {
    const t = mergeLayers([[file("d/lower")], [dir("d"), file("d/upper"), wh("d")]]);
    expect(t.list("d").map((n) => n.name)).toEqual(["upper"]);
  });

  test("a whiteout of a path that does not exist below: no crash, no node, no event", () => {
    const t = mergeLayers([[file("a/x")], [wh("a/ghost"), wh("nodir/ghost"), wh("a/x/under-a-file")]]);
    expect(paths(t)).toEqual(["a", "a/x"]);
    expect([...t.events()].filter((e) => e.layer === 1)).toEqual([]);
    expect(t.whiteouts().map((w) => w.removed)).toEqual([0, 0, 0]);
    expect(t.get("nodir")).toBeUndefined();
  });

  test("whiteout entries never appear as files, aufs meta names are ignored", () => {
    const t = mergeLayers([[file("a/x")], [wh("a/x"), opq("a"), mk(".wh..wh.plnk", "dir"), mk(".wh..wh.plnk/123.456"), wh("top")]]);
    const all = paths(t);
    expect(all.some((p) => p.includes(".wh."))).toBe(false);
    expect(t.events().some((e) => e.path.includes(".wh."))).toBe(false);
    expect(t.whiteouts().map((w) => w.kind)).toEqual(["whiteout", "opaque", "meta", "whiteout"]);
    expect(t.anomalies()).toEqual([]);
  });

  test("odd whiteout shapes are anomalies, not files", () => {
    const t = mergeLayers([[file("a/b")], [mk("a/.wh.b/c"), mk("a/.wh."), mk("../etc/passwd"), mk(".", "file")]]);
    expect(t.get("a/b")?.layer).toBe(0);
    expect(t.anomalies().map((a) => a.path)).toEqual(["a/.wh.b/c", "a/.wh.", "../etc/passwd", "."]);
    expect(t.get(".")!.entry.type).toBe("dir");
  });
});

describe("opaque directories", () => {
  const lower = [dir("d"), file("d/a"), dir("d/sub"), file("d/sub/b"), file("other")];

  test("marker before the same layer's entries hides only lower ones", () => {
    const t = mergeLayers([lower, [dir("d"), opq("d"), file("d/new")]]);
    expect(paths(t, "d")).toEqual(["d/new"]);
    expect(t.get("other")).toBeDefined();
    const hidden = [...t.events()]
      .filter((e) => e.action === "hidden")
      .map((e) => `${e.path}<${e.by}`)
      .sort();
    expect(hidden).toEqual(["d/a<d/.wh..wh..opq", "d/sub/b<d/.wh..wh..opq", "d/sub<d/.wh..wh..opq"]);
  });

  test("marker after the same layer's entries of that dir: they stay", () => {
    const t = mergeLayers([lower, [dir("d"), file("d/new"), dir("d/sub"), file("d/sub/c"), opq("d")]]);
    expect(paths(t, "d")).toEqual(["d/new", "d/sub", "d/sub/c"]);
    expect(t.get("d/sub")!.layer).toBe(1);
    expect(t.get("d/sub")!.replaced).toEqual([]);
  });

  test("nested opaque dirs at several depths and layers", () => {
    const t = mergeLayers([
      [file("a/1"), file("a/b/2"), file("a/b/c/3"), file("a/b/c/d/4")],
      [opq("a/b/c"), file("a/b/c/5")],
      [file("a/b/c/6"), opq("a/b/c/d"), opq("a")],
    ]);
    // After layer 1: c holds only 5. After layer 2: a is opaque, so everything lower in a is gone.
    expect(paths(t)).toEqual(["a", "a/b", "a/b/c", "a/b/c/6"]);
    expect(t.get("a/b")!.implied).toBe(true);
    expect(t.get("a/b")!.layer).toBe(2);
    expect(brief(t.historyOf("a/b/c/5"))).toEqual(["1:added:a/b/c/5", "2:hidden:a/b/c/5<a/.wh..wh..opq"]);
    expect(brief(t.historyOf("a/b/c/3"))).toEqual(["0:added:a/b/c/3", "1:hidden:a/b/c/3<a/b/c/.wh..wh..opq"]);
    expect(t.historyOf("a/1").at(-1)?.action).toBe("hidden");
  });

  test("opaque root", () => {
    const t = mergeLayers([
      [file("x"), file("y/z")],
      [opq("."), file("w")],
    ]);
    expect(paths(t)).toEqual(["w"]);
  });

  test("opaque marker for a directory that does not exist below is a no-op", () => {
    const t = mergeLayers([[file("x")], [opq("nothere")]]);
    expect(paths(t)).toEqual(["x"]);
    expect(t.whiteouts()[0]!.removed).toBe(0);
  });
});

describe("implied parents", () => {
  test("missing parents are synthesised with the layer that implied them", () => {
    const t = mergeLayers([[file("x")], [file("a/b/c")]]);
    for (const p of ["a", "a/b"]) {
      const n = t.get(p)!;
      expect(n.implied).toBe(true);
      expect(n.layer).toBe(1);
      expect(n.entry.type).toBe("dir");
      expect(n.entry.headerOffset).toBe(-1);
    }
    expect(t.get("a/b/c")!.implied).toBe(false);
    // implied dirs are not tar members: no events of their own
    expect(t.historyOf("a")).toEqual([]);
    expect(t.get(".")!.implied).toBe(true);
    expect(t.get(".")!.layer).toBe(0);
  });

  test("a real entry after its children replaces the implied dir (added, not modified)", () => {
    const real = dir("a", { mode: 0o700 });
    const t = mergeLayers([[file("a/x"), real]]);
    const n = t.get("a")!;
    expect(n.implied).toBe(false);
    expect(n.entry).toEqual(real);
    expect(n.replaced).toEqual([]);
    expect(brief(t.historyOf("a"))).toEqual(["0:added:a"]);
    expect(t.list("a").map((c) => c.name)).toEqual(["x"]);
  });

  test("a lower directory is reused, not re-implied", () => {
    const t = mergeLayers([[dir("usr")], [file("usr/lib/x")]]);
    expect(t.get("usr")!.layer).toBe(0);
    expect(t.get("usr")!.implied).toBe(false);
    expect(t.get("usr/lib")!.implied).toBe(true);
  });

  test("an implied directory over a lower non-directory replaces it", () => {
    const link = sym("lib", "usr/lib");
    const t = mergeLayers([[link], [file("lib/x")]]);
    const n = t.get("lib")!;
    expect(n.entry.type).toBe("dir");
    expect(n.implied).toBe(true);
    expect(n.replaced).toEqual([link]);
    expect(brief(t.historyOf("lib"))).toEqual(["0:added:lib", "1:modified:lib"]);
    expect(t.historyOf("lib")[1]!.implied).toBe(true);
  });
});

describe("hardlinks", () => {
  test("resolve to the entry in the same layer", () => {
    const target = file("bin/busybox", { size: 900 });
    const t = mergeLayers([[target, hard("bin/sh", "bin/busybox")]]);
    const n = t.get("bin/sh")!;
    expect(n.entry.type).toBe("hardlink");
    expect(n.target).toEqual({ entry: target, layer: 0 });
  });

  test("follow hardlink chains and links that come before their target", () => {
    const target = file("b", { size: 3 });
    const t = mergeLayers([[hard("early", "b"), target, hard("c", "b"), hard("d", "c")]]);
    expect(t.get("early")!.target?.entry).toEqual(target);
    expect(t.get("d")!.target?.entry).toEqual(target);
  });

  test("a link's target is the latest earlier entry at that path in its layer", () => {
    const first = file("f", { size: 1 });
    const second = file("f", { size: 2 });
    const t = mergeLayers([[first, hard("l", "f"), second]]);
    expect(t.get("l")!.target?.entry).toEqual(first);
    expect(t.get("f")!.entry).toEqual(second);
  });

  test("do not resolve into another layer; missing target leaves target undefined", () => {
    const t = mergeLayers([[file("data")], [hard("link", "data"), hard("self", "self")]]);
    expect(t.get("link")!.target).toBeUndefined();
    expect(t.get("self")!.target).toBeUndefined();
    // The node still exists (cat reports the broken link).
    expect(t.get("link")!.entry.linkname).toBe("data");
  });

  test("target is remembered even when the target path is later deleted", () => {
    const target = file("t");
    const t = mergeLayers([[target, hard("l", "t")], [wh("t")]]);
    expect(t.get("t")).toBeUndefined();
    expect(t.get("l")!.target).toEqual({ entry: target, layer: 0 });
  });
});

describe("history", () => {
  test("every action, in order, with entries", () => {
    const f0 = file("d/f");
    const f1 = file("d/f", { size: 9 });
    const g0 = file("d/g");
    const t = mergeLayers([
      [dir("d"), f0, g0, dir("o"), file("o/x")],
      [f1, wh("d/g"), opq("o"), file("n")],
    ]);
    expect(brief([...t.events()])).toEqual([
      "0:added:d",
      "0:added:d/f",
      "0:added:d/g",
      "0:added:o",
      "0:added:o/x",
      "1:deleted:d/g<d/.wh.g",
      "1:hidden:o/x<o/.wh..wh..opq",
      "1:modified:d/f",
      "1:added:n",
    ]);
    const mod = t.historyOf("d/f")[1]!;
    expect(mod.entry).toEqual(f1);
    expect(t.historyOf("/d/g")[1]!.entry).toEqual(g0); // the deleted entry itself
  });

  test("same-layer duplicates fold into one event", () => {
    const a = file("p", { size: 1 });
    const b = file("p", { size: 2 });
    const t = mergeLayers([[file("p")], [a, b]]);
    expect(brief(t.historyOf("p"))).toEqual(["0:added:p", "1:modified:p"]);
    expect(t.historyOf("p")[1]!.entry).toEqual(b);
    expect(t.get("p")!.replaced.length).toBe(2);
  });

  test("historyChildren lists current and vanished names with their events", () => {
    const t = mergeLayers([
      [file("etc/a"), file("etc/b"), file("etc/c")],
      [wh("etc/b"), file("etc/c"), file("etc/sub/x")],
    ]);
    const rows = t.historyChildren("/etc");
    expect(rows.map((r) => r.name)).toEqual(["a", "b", "c", "sub"]);
    const b = rows[1]!;
    expect(b.node).toBeUndefined();
    expect(b.events.map((e) => e.action)).toEqual(["added", "deleted"]);
    expect(rows[2]!.node?.replaced.length).toBe(1);
    expect(rows[3]!.node?.implied).toBe(true);
    expect(rows[3]!.events).toEqual([]);
  });

  test("indexes are rebuilt after another layer is added", () => {
    const t = new MergedTree();
    t.addLayer([file("x")]);
    expect(t.historyOf("x").length).toBe(1);
    t.addLayer([wh("x")], 4);
    expect(brief(t.historyOf("x"))).toEqual(["0:added:x", "4:deleted:x<.wh.x"]);
    expect(t.layerCount).toBe(5);
    expect(() => t.addLayer([], 3)).toThrow(RangeError);
  });
});

describe("scale", () => {
  test("3 layers x 100k entries merge with the right counts", () => {
    const l0 = [];
    const l1 = [];
    const l2 = [];
    for (let d = 0; d < 1000; d++) {
      l0.push(dir(`d${d}`));
      for (let f = 0; f < 100; f++) {
        l0.push(file(`d${d}/f${f}`));
        l1.push(file(`e${d}/f${f}`));
        l2.push(file(`d${d}/f${f}`));
      }
    }
    for (let d = 500; d < 1000; d++) l2.push(wh(`e${d}`));
    const t = mergeLayers([l0, l1, l2]);
    // root + 1000 d dirs + 100k d files + 500 e dirs + 50k e files
    expect(t.size).toBe(1 + 1000 + 100_000 + 500 + 50_000);
    const counts: Record<string, number> = {};
    for (const e of t.events()) counts[e.action] = (counts[e.action] ?? 0) + 1;
    expect(counts).toEqual({ added: 101_000 + 100_000, modified: 100_000, deleted: 500 * 101 });
    expect(t.get("d999/f99")!.layer).toBe(2);
    expect(t.list("e0").length).toBe(100);
  });
});

describe("a tree built without its history", () => {
  const given = [
    [dir("etc"), file("etc/a"), file("./etc/b"), dir("usr/"), file("usr/x", { uid: 100_000, mode: 0o104755, mtime: 1.5 }), file("f"), hard("h", "f")],
    [wh("etc/a"), opq("usr"), file("usr/y"), sym("etc/l", "b")],
  ];
  const layers = () => given;

  test("answers every question but history like a whole tree, with less kept", () => {
    const whole = mergeLayers(layers());
    const lean = new MergedTree({ history: false });
    for (const l of layers()) lean.addLayer(l);
    expect(lean.hasHistory).toBe(false);
    expect(whole.hasHistory).toBe(true);
    expect([...lean.walkWithDepth()]).toEqual([...whole.walkWithDepth()]);
    expect([...lean.walkPaths()]).toEqual([...whole.walk()].map((n) => n.path));
    expect(lean.list("etc")).toEqual(whole.list("etc"));
    expect(lean.get("h")).toEqual(whole.get("h"));
    expect(lean.size).toBe(whole.size);
    expect(lean.whiteouts()).toEqual(whole.whiteouts());
    expect(() => lean.historyOf("etc/a")).toThrow(/without its history/);
    expect(() => [...lean.events()]).toThrow(/without its history/);
  });

  test("entries come back with the archive's spelling of their path and their exact fields", () => {
    const t = mergeLayers(layers());
    expect(t.get("etc/b")!.entry.path).toBe("./etc/b");
    expect(t.get("usr")!.entry.path).toBe("usr/");
    expect(t.get("usr/x")).toBeUndefined();
    const whole = mergeLayers([layers()[0]!]);
    expect(whole.get("usr/x")!.entry).toMatchObject({ path: "usr/x", uid: 100_000, mode: 0o104755, mtime: 1.5 });
  });

  test("sealed as its last layer goes in (before that layer's rows are placed, or after, with hard links) changes no answer", () => {
    const whole = mergeLayers(layers());
    // The last layer with no hard link (sealed before placing) and with one (sealed after).
    for (const last of [layers()[1]!, [...layers()[1]!, file("g"), hard("k", "g")]]) {
      const plain = mergeLayers([layers()[0]!, last]);
      const sealed = new MergedTree({ history: false });
      sealed.addLayer(layers()[0]!);
      sealed.addLayer(last, 1, { seal: true });
      expect([...sealed.walkWithDepth()]).toEqual([...plain.walkWithDepth()]);
      expect(sealed.get("h")).toEqual(plain.get("h"));
      expect(sealed.get("k")?.target).toEqual(plain.get("k")?.target);
      if (last.length > layers()[1]!.length) expect(sealed.get("k")!.target?.entry.path).toBe("g");
      expect(sealed.size).toBe(plain.size);
    }
    expect(whole.get("h")!.target?.entry.path).toBe("f");
  });

  test("room reserved ahead changes no answer", () => {
    const plain = mergeLayers(layers());
    const reserved = new MergedTree();
    reserved.reserve(1_000);
    for (const l of layers()) reserved.addLayer(l);
    expect([...reserved.walkWithDepth()]).toEqual([...plain.walkWithDepth()]);
    expect([...reserved.events()]).toEqual([...plain.events()]);
  });
});
