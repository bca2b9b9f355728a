import { beforeAll, describe, expect, test } from "bun:test";
import { streamLayer, type LayerResult } from "../../src/layer/stream.ts";
import { parseReference } from "../../src/ref/reference.ts";
import { RegistryClient } from "../../src/registry/client.ts";
import { RegistrySource } from "../../src/source/registry.ts";
import { resolveImage } from "../../src/oci/resolve.ts";
import type { Entry } from "../../src/types.ts";
import { useRegistry } from "../support/registry.ts";
import { pushTocImages, type TocImages } from "./fixture.ts";

const reg = useRegistry();
let images: TocImages;
const client = new RegistryClient({ plainHttp: true });

beforeAll(async () => {
  images = await pushTocImages(reg, "toc/rootfs");
}, 120_000);

async function list(image: string, opts: { useToc?: boolean } = {}): Promise<{ entries: Entry[]; result: LayerResult; warnings: string[]; layerSize: number; mediaType: string }> {
  const ref = parseReference(`${reg.host}/${image}`);
  const source = new RegistrySource(client, ref);
  const img = await resolveImage(source);
  const desc = img.manifest.image.layers[0]!;
  const warnings: string[] = [];
  const entries: Entry[] = [];
  const gen = streamLayer(source, desc, 0, { ...opts, onWarning: (m) => warnings.push(m) });
  for (;;) {
    const next = await gen.next();
    if (next.done) return { entries, result: next.value, warnings, layerSize: desc.size, mediaType: desc.mediaType };
    if (next.value.kind === "entry") entries.push(next.value.entry);
  }
}

/** What a TOC and a tar header both say about an entry (the TOC keeps whole seconds, no offsets). */
function comparable(e: Entry) {
  return {
    path: e.path,
    type: e.type,
    mode: e.mode,
    size: e.size,
    uid: e.uid,
    gid: e.gid,
    uname: e.uname ?? "",
    gname: e.gname ?? "",
    mtime: Math.round(e.mtime),
    linkname: e.linkname,
    dev: e.type === "char" || e.type === "block" ? [e.devmajor, e.devminor] : undefined,
  };
}

describe("complete listings from a TOC", () => {
  for (const [name, pick, format, checked] of [
    ["eStargz with the TOC digest annotation", () => images.estargz, "estargz", true],
    ["eStargz found by its footer alone", () => images.estargzBare, "estargz", false],
    ["zstd:chunked (skopeo) with its annotations", () => images.zstdChunked, "zstd:chunked", true],
    ["zstd:chunked found by its footer alone", () => images.zstdChunkedBare, "zstd:chunked", false],
  ] as const) {
    test(`${name}: the same entries as decoding the layer, for a fraction of its bytes`, async () => {
      const fromToc = await list(pick());
      const decoded = await list(pick(), { useToc: false });
      const reference = await list(images.gzip, { useToc: false });
      expect(fromToc.result.error).toBeUndefined();
      expect(fromToc.result.stats.complete).toBe(true);
      expect(fromToc.result.stats.toc).toEqual({ format, bytes: expect.any(Number), checked });
      expect(fromToc.warnings).toEqual([]);
      expect(decoded.result.stats.complete).toBe(true);
      expect(decoded.result.stats.toc).toBeUndefined();
      // Every byte of the layer was read the ordinary way (the tail only once).
      expect(decoded.result.stats.bytesDownloaded).toBe(decoded.layerSize);
      expect(fromToc.entries.map(comparable)).toEqual(decoded.entries.map(comparable));
      // The format's own entries are hidden both ways.
      for (const own of ["stargz.index.json", ".prefetch.landmark", ".no.prefetch.landmark"]) {
        expect(fromToc.entries.some((e) => e.path === own)).toBe(false);
        expect(decoded.entries.some((e) => e.path === own)).toBe(false);
      }
      // And they are the files of the original layer (up to what each writer keeps: names, not order).
      const sorted = (es: Entry[]) =>
        es
          .map(comparable)
          .map(({ uname, gname, ...rest }) => rest)
          .sort((a, b) => (a.path < b.path ? -1 : 1));
      expect(sorted(fromToc.entries)).toEqual(sorted(reference.entries));
      const stats = fromToc.result.stats;
      expect(stats.entries).toBe(fromToc.entries.length);
      // The tail probe's 128 bytes overlap the TOC's end; each byte counts once: the TOC and the
      // footer after it (51 bytes for eStargz, a 48-byte skippable frame for zstd:chunked).
      expect(stats.bytesDownloaded).toBe(stats.toc!.bytes + (format === "zstd:chunked" && checked ? 0 : format === "estargz" ? 51 : 48));
      expect(stats.bytesDownloaded).toBeLessThan(fromToc.layerSize * 0.05);
    });
  }

  test("an announced TOC that is wrong: a warning, then the ordinary stream", async () => {
    const got = await list(images.estargzWrong);
    expect(got.warnings.length).toBe(1);
    expect(got.warnings[0]).toContain("layer 0: the eStargz TOC hashes to sha256:");
    expect(got.warnings[0]).toContain("reading the layer itself");
    expect(got.result.stats.toc).toBeUndefined();
    expect(got.result.stats.complete).toBe(true);
    const right = await list(images.estargz);
    expect(got.entries.map(comparable)).toEqual(right.entries.map(comparable));
  });

  test("an ordinary gzip layer: one small tail read, nothing downloaded twice", async () => {
    const got = await list(images.gzip);
    expect(got.result.stats.toc).toBeUndefined();
    expect(got.result.stats.bytesDownloaded).toBe(got.layerSize);
    expect(got.warnings).toEqual([]);
  });
});
