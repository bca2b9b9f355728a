import { describe, expect, test } from "bun:test";
import { mergeLayers, type MergedTree } from "../../src/image/merge.ts";
import { decodeTree, encodeTree, treeKey } from "../../src/image/tree-codec.ts";
import type { Entry } from "../../src/types.ts";
import { dir, file, hard, mk, opq, sym, wh } from "./helpers.ts";

/** Everything a tree answers, for comparing two trees. */
function views(t: MergedTree) {
  const walked = [...t.walkWithDepth(".")];
  const dirs = [".", ...walked.filter((w) => w.node.entry.type === "dir").map((w) => w.node.path)];
  const paths = [...new Set([...t.events()].map((e) => e.path))];
  return {
    size: t.size,
    layerCount: t.layerCount,
    walked,
    events: [...t.events()],
    lists: dirs.map((d) => t.list(d)),
    history: dirs.map((d) => t.historyChildren(d)),
    historyOf: paths.map((p) => t.historyOf(p)),
    got: paths.map((p) => t.get(p) ?? null),
    root: t.get("/"),
    whiteouts: t.whiteouts(),
    anomalies: t.anomalies(),
  };
}

const LAYERS: Entry[][] = [
  [
    dir("."),
    dir("etc"),
    file("etc/passwd", { size: 10, uname: "root", gname: "root" }),
    dir("usr"),
    dir("usr/bin"),
    file("usr/bin/a"),
    hard("usr/bin/b", "usr/bin/a"),
    sym("bin", "usr/bin"),
    file("var/cache/apt/x"),
    file("opt/o/1"),
    mk("dev/null", "char", { devmajor: 1, devminor: 3 }),
  ],
  [
    file("etc/passwd", { size: 11 }),
    wh("var/cache"),
    opq("opt/o"),
    file("opt/o/2"),
    file("./weird//path"),
    file("../escape"),
    file("caf\u00e9/\u65e5\u672c", { mtime: 1.5 }),
    file("x\udc80y", { uid: 2 ** 40 }),
  ],
  [mk("usr/bin", "file"), dir("usr/bin"), file("usr/bin/c"), wh("etc/passwd"), file("etc/passwd", { size: 12, layer: 2 })],
];

describe("tree codec", () => {
  test("a decoded tree answers every question exactly as the tree it was made from", () => {
    const tree = mergeLayers(LAYERS);
    const bytes = encodeTree(tree)!;
    expect(bytes).toBeInstanceOf(Uint8Array);
    const back = decodeTree(bytes)!;
    expect(back).toBeDefined();
    expect(views(back)).toEqual(views(tree));
    // Still a working tree: a layer added on top of either gives the same result.
    const top = [file("etc/new"), wh("usr")];
    tree.addLayer(top);
    back.addLayer(top);
    expect(views(back)).toEqual(views(tree));
  });

  test("a large tree, across column growth and rehashing", () => {
    const layer: Entry[] = [];
    for (let i = 0; i < 30_000; i++) layer.push(file(`d${i % 37}/s${i % 5}/f${i}`, { size: i }));
    const tree = mergeLayers([layer, [wh("d3"), file("d4/s1/f4", { size: 1 })]]);
    const back = decodeTree(encodeTree(tree)!)!;
    expect(views(back)).toEqual(views(tree));
  });

  test("bytes that are not a tree of this format are refused, not trusted", () => {
    const good = encodeTree(mergeLayers(LAYERS))!;
    expect(decodeTree(new Uint8Array([1, 2, 3]))).toBeUndefined();
    expect(decodeTree(Bun.zstdCompressSync(new TextEncoder().encode("layerslayer merged tree 0\n")))).toBeUndefined();
    const raw = Bun.zstdDecompressSync(good);
    expect(decodeTree(Bun.zstdCompressSync(raw.subarray(0, raw.length - 64)))).toBeUndefined();
  });

  test("a header whose column places or kinds are altered is refused, never followed", () => {
    const raw = Bun.zstdDecompressSync(encodeTree(mergeLayers(LAYERS))!);
    const magic = raw.indexOf(10) + 1;
    const length = new DataView(raw.buffer, raw.byteOffset).getUint32(magic, true);
    const header = JSON.parse(new TextDecoder().decode(raw.subarray(magic + 4, magic + 4 + length))) as { cols: [string, number, (string | number)[]][]; state: unknown };
    const body = raw.subarray((magic + 4 + length + 7) & ~7);
    /** The tree's bytes with its header changed by `change` (columns where they were). */
    const altered = (change: (h: typeof header) => void) => {
      const h = structuredClone(header);
      change(h);
      const text = new TextEncoder().encode(JSON.stringify(h));
      const at = (magic + 4 + text.length + 7) & ~7;
      const out = new Uint8Array(at + body.length);
      out.set(raw.subarray(0, magic));
      new DataView(out.buffer).setUint32(magic, text.length, true);
      out.set(text, magic + 4);
      out.set(body, at);
      return Bun.zstdCompressSync(out);
    };
    // The header as it was, re-encoded, still decodes: what follows fails for its change alone.
    expect(views(decodeTree(altered(() => {}))!)).toEqual(views(mergeLayers(LAYERS)));
    expect(decodeTree(altered((h) => (h.cols[0]![2] = ["__proto__"])))).toBeUndefined();
    expect(decodeTree(altered((h) => (h.cols[0]![2] = ["paths", "__proto__", "x"])))).toBeUndefined();
    expect(decodeTree(altered((h) => (h.cols[0]![2] = ["present"])))).toBeUndefined();
    expect(decodeTree(altered((h) => (h.cols[0]![2] = ["paths", "chunks", 5])))).toBeUndefined();
    expect(decodeTree(altered((h) => (h.cols[0]![2] = [])))).toBeUndefined();
    expect(decodeTree(altered((h) => (h.cols[0]![0] = "constructor")))).toBeUndefined();
    expect(decodeTree(altered((h) => (h.cols[1]![2] = h.cols[0]![2])))).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty("x");
  });

  test("a field JSON cannot carry makes the tree uncacheable rather than changed", () => {
    expect(encodeTree(mergeLayers([[file("a", { devmajor: Number.NaN })]]))).toBeUndefined();
  });

  test("a column holds any number exactly, NaN and -0 included", () => {
    const bytes = encodeTree(mergeLayers([[file("a", { mode: Number.NaN, size: -0, mtime: 1.5 })]]));
    const entry = decodeTree(bytes!)!.get("a")!.entry;
    expect([entry.mode, Object.is(entry.size, -0), entry.mtime]).toEqual([Number.NaN, true, 1.5]);
  });

  test("the key names the layers and their order", () => {
    const a = treeKey([
      [0, "sha256:aa"],
      [1, "sha256:bb"],
    ]);
    expect(a).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(
      treeKey([
        [0, "sha256:aa"],
        [1, "sha256:bb"],
      ]),
    ).toBe(a);
    expect(
      treeKey([
        [0, "sha256:bb"],
        [1, "sha256:aa"],
      ]),
    ).not.toBe(a);
    expect(
      treeKey([
        [1, "sha256:aa"],
        [2, "sha256:bb"],
      ]),
    ).not.toBe(a);
  });
});
