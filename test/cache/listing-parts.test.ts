import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { encodeEntries } from "../../src/cache/listing-codec.ts";
import { PART_ENTRIES } from "../../src/cache/listing-parts.ts";
import type { CacheStore } from "../../src/cache/cache.ts";
import { openCache } from "../../src/cache/open.ts";
import { fakeDigest, manyEntries, statsFor, tempDir } from "./helpers.ts";

function open(dir = tempDir()): { store: CacheStore; dir: string } {
  return { store: openCache({ enabled: true, dir, warn: () => {}, busyTimeoutMs: 2000 }), dir };
}

function partRows(dir: string, digest: string): number {
  const db = new Database(join(dir, "cache.sqlite"));
  try {
    return (db.query("SELECT COUNT(*) AS n FROM listing_parts WHERE digest = ?").get(digest) as { n: number }).n;
  } finally {
    db.close();
  }
}

describe("listings stored in parts", () => {
  const n = 2 * PART_ENTRIES + 1;
  const entries = manyEntries(n);

  test("a writer sends parts as entries come; a reader gets them back part by part, in order", () => {
    const { store, dir } = open();
    const digest = fakeDigest(10);
    const w = store.beginListing(digest);
    for (const e of entries.slice(0, PART_ENTRIES + 5)) w.add(e);
    // The first part is in the database already, though nothing is a listing yet.
    expect(partRows(dir, digest)).toBe(1);
    expect(store.readListing(digest)).toBeUndefined();
    for (const e of entries.slice(PART_ENTRIES + 5)) w.add(e);
    expect(w.finish(statsFor(digest, entries))).toBe(true);
    const stored = store.readListing(digest)!;
    expect(stored.stats).toStrictEqual(statsFor(digest, entries));
    const gen = stored.parts();
    const sizes: number[] = [];
    const back = [];
    let r = gen.next();
    for (; !r.done; r = gen.next()) {
      sizes.push(r.value.length);
      back.push(...r.value);
    }
    expect(r.value).toBe(true);
    expect(sizes).toEqual([PART_ENTRIES, PART_ENTRIES, 1]);
    expect(back).toStrictEqual(entries);
  });

  test("parts given already encoded are stored as they are, in order with entries added one by one", () => {
    const { store } = open();
    const digest = fakeDigest(11);
    const w = store.beginListing(digest);
    const middle = entries.slice(3, 3 + PART_ENTRIES);
    for (const e of entries.slice(0, 3)) w.add(e);
    w.addPart(middle, encodeEntries(middle));
    for (const e of entries.slice(3 + PART_ENTRIES)) w.add(e);
    expect(w.finish(statsFor(digest, entries))).toBe(true);
    const back = [];
    const sizes: number[] = [];
    for (const part of store.readListing(digest)!.parts()) {
      sizes.push(part.length);
      back.push(...part);
    }
    expect(sizes).toEqual([3, PART_ENTRIES, PART_ENTRIES - 2]);
    expect(back).toStrictEqual(entries);
  });

  test("an aborted writer leaves no part behind; one whose count does not match its stats stores nothing", () => {
    const { store, dir } = open();
    const digest = fakeDigest(11);
    const w = store.beginListing(digest);
    for (const e of entries) w.add(e);
    w.abort();
    expect(partRows(dir, digest)).toBe(0);
    const w2 = store.beginListing(digest);
    for (const e of entries) w2.add(e);
    expect(w2.finish({ ...statsFor(digest, entries), entries: n - 1 })).toBe(false);
    expect(partRows(dir, digest)).toBe(0);
    expect(store.readListing(digest)).toBeUndefined();
    const w3 = store.beginListing(digest);
    for (const e of entries) w3.add(e);
    expect(w3.finish(statsFor(digest, entries, false))).toBe(false);
    expect(partRows(dir, digest)).toBe(0);
  });

  test("two writers of the same layer at once: the last to finish wins, the other's parts are removed", () => {
    const dir = tempDir();
    const a = open(dir).store;
    const b = open(dir).store;
    const digest = fakeDigest(12);
    const wa = a.beginListing(digest);
    const wb = b.beginListing(digest);
    for (const e of entries) {
      wa.add(e);
      wb.add(e);
    }
    expect(wa.finish(statsFor(digest, entries))).toBe(true);
    expect(wb.finish(statsFor(digest, entries))).toBe(true);
    expect(partRows(dir, digest)).toBe(3);
    expect(a.getListing(digest)!.entries).toStrictEqual(entries);
  });

  test("a listing is read as one snapshot: a clear (another process's) after readListing takes nothing away", () => {
    const dir = tempDir();
    const reader = open(dir).store;
    const clearer = open(dir).store;
    const digest = fakeDigest(14);
    expect(reader.putListing(statsFor(digest, entries), entries)).toBe(true);
    const stored = reader.readListing(digest)!;
    expect(clearer.clear().listings).toBe(1);
    expect(partRows(dir, digest)).toBe(0);
    const back: unknown[] = [];
    const gen = stored.parts();
    let r = gen.next();
    for (; !r.done; r = gen.next()) back.push(...r.value);
    expect(r.value).toBe(true);
    expect(back).toStrictEqual(entries);
    expect(reader.readListing(digest)).toBeUndefined();
  });

  test("a damaged part is caught before anything is served: the listing is dropped and reported absent, with one warning", () => {
    const dir = tempDir();
    const warnings: string[] = [];
    const store = openCache({ enabled: true, dir, warn: (m) => warnings.push(m) });
    const digest = fakeDigest(13);
    expect(store.putListing(statsFor(digest, entries), entries)).toBe(true);
    const db = new Database(join(dir, "cache.sqlite"));
    db.query("UPDATE listing_parts SET data = ? WHERE digest = ? AND seq = 1").run(new Uint8Array([9, 9, 9]), digest);
    db.close();
    expect(store.readListing(digest)).toBeUndefined();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`the listing of ${digest}`);
    expect(partRows(dir, digest)).toBe(0);
  });
});
