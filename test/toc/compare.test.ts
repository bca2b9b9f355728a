/**
 * TOCs that lie about the layer: each forged TOC hashes to the digest its manifest announces (only
 * the image's author could have written it), declares files other than the tar stream holds, and
 * is accepted as what it is (a listing "as the TOC declares it"); a read of the stream with the
 * TOC check finds the difference, names the first one and counts them: CORRUPT.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { TocComparison } from "../../src/toc/compare.ts";
import type { LayerToc } from "../../src/toc/types.ts";
import type { Entry } from "../../src/types.ts";
import { editToc, type TocLayer } from "../support/forge-toc.ts";
import { useRegistry } from "../support/registry.ts";
import { pushTocImages, type TocImages } from "./fixture.ts";
import { listLayer, pushForged, tocLayers, type TocLayers } from "./hostile.ts";

const reg = useRegistry();
let images: TocImages;
let layers: TocLayers;

beforeAll(async () => {
  images = await pushTocImages(reg, "lies/rootfs");
  layers = await tocLayers(reg, images);
}, 180_000);

type Edit = (es: Record<string, unknown>[]) => Record<string, unknown>[];

const named = (name: string) => (e: Record<string, unknown>) =>
  String(e.name)
    .replace(/^\.?\//, "")
    .replace(/\/$/, "") === name;

/**
 * Sets `fields` on the file's entry, and keeps its chunk entries in step: zstd:chunked may cut even
 * a small file of random bytes into chunks, each an entry of the file's name that the TOC reader
 * checks against the file (a chunk after a renamed file follows no file; chunks that no longer add
 * up to the size are refused), so a new name goes to them too and a new size to the last one.
 */
function set(name: string, fields: Record<string, unknown>): Edit {
  return (es) => {
    const all = es.filter(named(name));
    const file = all.find((e) => e.type !== "chunk")!;
    const delta = typeof fields.size === "number" ? fields.size - Number(file.size) : 0;
    Object.assign(file, fields);
    if ("name" in fields) for (const e of all) e.name = fields.name;
    const last = all.findLast((e) => Number(e.chunkSize) > 0);
    if (delta !== 0 && last) last.chunkSize = Number(last.chunkSize) + delta;
    return es;
  };
}

/** Every kind of lie: [what, edit, the first difference's message, how many differences]. */
export const LIES: [string, Edit, RegExp, number][] = [
  ["hides a file", (es) => es.filter((e) => !named("etc/hostname")(e)), /the tar stream has \/etc\/hostname, which the TOC does not list$/, 1],
  ["renames a file", set("etc/hostname", { name: "./etc/hostnamf" }), /the TOC renames \/etc\/hostname to \/etc\/hostnamf$/, 1],
  [
    "renames a file and changes it",
    set("etc/hostname", { name: "./etc/hostnamf", mode: 0o600 }),
    /the tar stream has \/etc\/hostname, which the TOC does not list \(2 differences\)$/,
    2,
  ],
  [
    "invents a file",
    (es) => [...es, { name: "./etc/invented", type: "symlink", linkName: "/etc/shadow", mode: 0o777 }],
    /the TOC lists \/etc\/invented, which the tar stream does not have$/,
    1,
  ],
  ["changes a type", set("run/fifo", { type: "reg", size: 0 }), /\/run\/fifo: the TOC says it is a file, the tar stream a fifo$/, 1],
  ["changes a size", set("etc/hostname", { size: 24 }), /\/etc\/hostname: the TOC gives it size 24, the tar stream 23$/, 1],
  ["changes a mode (setuid)", set("usr/bin/tool", { mode: 0o4755 }), /\/usr\/bin\/tool: the TOC gives it mode 04755, the tar stream 0755$/, 1],
  ["changes an owner", set("etc/hostname", { uid: 1000, gid: 1000 }), /\/etc\/hostname: the TOC gives it owner 1000:1000, the tar stream 0:0$/, 1],
  [
    "changes a symlink's target",
    set("etc/os-release", { linkName: "/etc/shadow" }),
    /\/etc\/os-release: the TOC links it to \/etc\/shadow, the tar stream to \.\.\/usr\/lib\/os-release$/,
    1,
  ],
  [
    "changes a hard link's target",
    set("usr/bin/tool-link", { linkName: "./etc/hostname" }),
    /\/usr\/bin\/tool-link: the TOC links it to etc\/hostname, the tar stream to usr\/bin\/tool$/,
    1,
  ],
];

const FORMATS = [
  ["eStargz", () => layers.estargz],
  ["zstd:chunked", () => layers.zstdChunked],
] as const;

let n = 0;
async function forged(layer: TocLayer, edit?: Edit) {
  const repo = `lies/${layer.format === "estargz" ? "esgz" : "zstd"}`;
  return (await pushForged(reg, repo, `t${n++}`, layer, { doc: edit ? editToc(layer.doc, edit) : layer.doc })).image;
}

describe("a TOC that matches its stream", () => {
  for (const [name, layer] of FORMATS) {
    test(`${name}: the stream is read whole, the listing is the stream's, and the TOC is said to match`, async () => {
      const image = await forged(layer());
      const got = await listLayer(reg, image, { checkToc: "always" });
      expect(got.result.error).toBeUndefined();
      expect(got.result.stats).toMatchObject({ complete: true, verified: true, tocMatched: layer().format });
      expect(got.result.stats.toc).toBeUndefined();
      // The whole blob; the tail and the TOC read before it are bytes of it, each counted once.
      expect(got.result.stats.bytesDownloaded).toBe(got.layerSize);
      // The format's own entries are not the image's, in the stream as in the TOC.
      expect(got.entries.some((e) => e.path === "stargz.index.json" || e.path.endsWith(".landmark"))).toBe(false);
    });
  }
});

describe("a TOC that lies", () => {
  for (const [name, layer] of FORMATS) {
    for (const [what, edit, message, count] of LIES) {
      test(`${name}: ${what}: listed as the TOC declares it; the stream read with the check is CORRUPT`, async () => {
        const image = await forged(layer(), edit);
        // Without reading the stream, nothing can tell: the listing is the TOC's, and says so.
        const declared = await listLayer(reg, image);
        expect(declared.warnings).toEqual([]);
        expect(declared.result.stats.toc).toMatchObject({ format: layer().format, checked: true });
        expect(declared.result.stats.verified).toBe(false);
        const checked = await listLayer(reg, image, { checkToc: "always" });
        const error = checked.result.error!;
        expect(error.code).toBe("CORRUPT");
        expect(error.exitCode).toBe(7);
        expect(error.message).toStartWith(`the layer's ${name} TOC does not match its tar stream: `);
        expect(error.message).toMatch(message);
        expect(error.message).not.toContain("\n");
        expect(error.message.includes("differences")).toBe(count > 1);
        expect(checked.result.stats.complete).toBe(false);
        expect(checked.result.stats.tocMatched).toBeUndefined();
        // The entries seen are the stream's: what a runtime would apply.
        const honest = await listLayer(reg, images.gzip, { useToc: false });
        expect(checked.entries.map((e) => e.path).sort()).toEqual(honest.entries.map((e) => e.path).sort());
      });
    }
  }

  test('"if-toc": a layer without a TOC is not read at all', async () => {
    const got = await listLayer(reg, images.gzip, { checkToc: "if-toc" });
    expect(got.entries).toEqual([]);
    expect(got.result.stats.complete).toBe(false);
    expect(got.result.stats.bytesDownloaded).toBeLessThanOrEqual(128);
  });
});

describe("TocComparison by itself", () => {
  const entry = (path: string, more: Partial<Entry> = {}): Entry => ({
    path,
    type: "file",
    mode: 0o644,
    size: 1,
    uid: 0,
    gid: 0,
    mtime: 0,
    headerOffset: -1,
    compressedOffset: -1,
    ...more,
  });
  const toc = (entries: Entry[]): LayerToc => ({ format: "estargz", entries, content: new Map(), tocBytes: 0, jsonBytes: 0, checked: true });

  test("a path given twice is matched in order; one more in the stream is a difference", () => {
    const c = new TocComparison(toc([entry("a"), entry("a", { size: 2 })]));
    c.observe(entry("a"));
    c.observe(entry("a", { size: 2 }));
    expect(c.finish()).toBeUndefined();
    const d = new TocComparison(toc([entry("a")]));
    d.observe(entry("a"));
    d.observe(entry("a"));
    expect(d.finish()?.message).toBe("the layer's eStargz TOC does not match its tar stream: the tar stream has /a, which the TOC does not list");
  });

  test("names with control characters are escaped in the message", () => {
    const c = new TocComparison(toc([]));
    c.observe(entry("evil\x1b[31m"));
    expect(c.finish()?.message).not.toMatch(/[\x00-\x1f]/);
  });
});
