/**
 * A listing taken from a layer's TOC is what the TOC declares, not what the tar stream holds: the
 * cache keeps it marked (its stats' `toc`), stores it only when the TOC was checked against the
 * manifest's digest, and never lets it replace a listing of the stream (nor does the stream's
 * listing ever lose to one).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { openCache } from "../../src/cache/open.ts";
import type { LayerStats } from "../../src/types.ts";
import { fakeDigest, manyEntries, statsFor, tempDir } from "./helpers.ts";

const dir = tempDir("ls-cache-toc-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const store = openCache({
  enabled: true,
  dir,
  warn: (m) => {
    throw new Error(m);
  },
});

const STREAM = manyEntries(30);
const DECLARED = manyEntries(20);
function tocStats(digest: string, checked = true): LayerStats {
  return { ...statsFor(digest, DECLARED), verified: false, toc: { format: "estargz", bytes: 100, checked } };
}

describe("listings from a TOC in the cache", () => {
  test("stored marked as such, and read back marked", () => {
    const d = fakeDigest(101);
    expect(store.putListing(tocStats(d), DECLARED)).toBe(true);
    const got = store.getListing(d)!;
    expect(got.stats.toc).toEqual({ format: "estargz", bytes: 100, checked: true });
    expect(got.stats.verified).toBe(false);
    expect(got.entries.length).toBe(20);
  });

  test("a TOC not checked against an announced digest is not stored", () => {
    const d = fakeDigest(102);
    expect(store.putListing(tocStats(d, false), DECLARED)).toBe(false);
    expect(store.getListing(d)).toBeUndefined();
  });

  test("never replaces a listing of the tar stream, whichever writer API is used", () => {
    const d = fakeDigest(103);
    expect(store.putListing(statsFor(d, STREAM), STREAM)).toBe(true);
    expect(store.putListing(tocStats(d), DECLARED)).toBe(false);
    const w = store.beginListing(d);
    for (const e of DECLARED) w.add(e);
    expect(w.finish(tocStats(d))).toBe(false);
    const got = store.getListing(d)!;
    expect(got.stats.toc).toBeUndefined();
    expect(got.entries.length).toBe(30);
  });

  test("the stream's listing replaces a TOC's", () => {
    const d = fakeDigest(104);
    expect(store.putListing(tocStats(d), DECLARED)).toBe(true);
    expect(store.putListing(statsFor(d, STREAM), STREAM)).toBe(true);
    const got = store.getListing(d)!;
    expect(got.stats.toc).toBeUndefined();
    expect(got.stats.verified).toBe(true);
    expect(got.entries.length).toBe(30);
  });
});
