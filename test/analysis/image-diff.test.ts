/**
 * diffImages over a shared layer whose listing the cache holds: looked up once for both sides, its
 * blob never read, and the diff as exact as with every layer read.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { diffImages } from "../../src/analysis/image-diff.ts";
import type { ListingCache } from "../../src/cache/cache.ts";
import { openCache } from "../../src/cache/open.ts";
import { loadListings } from "../../src/image/load.ts";
import { resolveImage } from "../../src/oci/resolve.ts";
import { layerFrom } from "../support/fixtures.ts";
import { MemorySource } from "../support/memory-source.ts";

const dir = mkdtempSync(join(tmpdir(), "ls-image-diff-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base = layerFrom([
  { path: "etc/passwd", content: "root:x:0:0::/root:/bin/sh\n" },
  { path: "usr/bin/tool", content: "tool v1\n", mode: 0o755 },
]);
const upperA = layerFrom([{ path: "etc/motd", content: "hello\n" }]);
const upperB = layerFrom([
  { path: "etc/motd", content: "hello, world\n" },
  { path: "usr/bin/tool", content: "tool version 2\n", mode: 0o755 },
]);

describe("a shared layer in the cache", () => {
  test("is looked up once for both sides, never read from the blob, and every change is exact", async () => {
    const srcA = new MemorySource([{ bytes: base }, { bytes: upperA }], { reference: "memory/app:a" });
    const srcB = new MemorySource([{ bytes: base }, { bytes: upperB }], { reference: "memory/app:b" });
    const [a, b] = [await resolveImage(srcA), await resolveImage(srcB)];
    const store = openCache({ enabled: true, dir, warn: () => {} });
    const sharedDigest = a.manifest.image.layers[0]!.digest;
    await loadListings(a, [0], { cache: store });
    srcA.reads.length = 0;
    srcB.reads.length = 0;
    // The store, counting the lookups of each listing.
    const lookups = new Map<string, number>();
    const counting: typeof store = Object.create(store, {
      readListing: {
        value: (digest: string) => {
          lookups.set(digest, (lookups.get(digest) ?? 0) + 1);
          return (store as ListingCache).readListing(digest);
        },
      },
    });
    const d = await diffImages({ img: a }, { img: b }, { cache: counting, ignoreMtime: true });
    expect(d.sharedRead).toBe(true);
    expect(lookups.get(sharedDigest)).toBe(1);
    expect([...srcA.reads, ...srcB.reads].filter((r) => r.digest === sharedDigest)).toEqual([]);
    expect(d.listings.a.map((l) => [l.index, l.source, l.cached])).toEqual([
      [0, "stream", true],
      [1, "stream", false],
    ]);
    // /usr/bin/tool changed over the shared layer: with its listing read, the change is exact.
    expect(d.paths.map((p) => [p.path, p.kind, p.fields, p.overSharedBase ?? false])).toEqual([
      ["/etc/motd", "modified", ["size"], false],
      ["/usr/bin/tool", "modified", ["size"], false],
    ]);
    // Without the cache the shared layer is not read at all, and the same paths are named.
    const unread = await diffImages({ img: a }, { img: b }, { ignoreMtime: true });
    expect(unread.sharedRead).toBe(false);
    expect(unread.listings.a.map((l) => l.index)).toEqual([1]);
    expect(unread.paths.map((p) => p.path)).toEqual(["/etc/motd", "/usr/bin/tool"]);
    expect(unread.paths[1]!.overSharedBase).toBe(true);
  });
});
