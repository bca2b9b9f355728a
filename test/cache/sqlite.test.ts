import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { decodeEntries, encodeEntries } from "../../src/cache/listing-codec.ts";
import { defaultCacheDir } from "../../src/cache/paths.ts";
import type { CacheStore } from "../../src/cache/cache.ts";
import { openCache } from "../../src/cache/open.ts";
import { APPLICATION_ID, SCHEMA_VERSION } from "../../src/cache/schema.ts";
import { ENTRY_TYPES, type Entry } from "../../src/types.ts";
import { fakeDigest, holdLock, manyEntries, sha256, statsFor, tempDir } from "./helpers.ts";

function open(dir = tempDir(), busyTimeoutMs = 200): { store: CacheStore; warnings: string[]; dir: string } {
  const warnings: string[] = [];
  const store = openCache({ enabled: true, dir, warn: (m) => warnings.push(m), busyTimeoutMs });
  return { store, warnings, dir };
}

const json = (s: string) => new TextEncoder().encode(s);

/** Entries with every optional field absent on some and present on others, and awkward values. */
const VARIED: Entry[] = [
  { path: "etc/", type: "dir", mode: 0o755, size: 0, uid: 0, gid: 0, mtime: 1_700_000_000, headerOffset: 0, compressedOffset: 10 },
  { path: "etc/passwd", type: "file", mode: 0o644, size: 1024, uid: 0, gid: 0, uname: "root", gname: "root", mtime: 1_700_000_000.123456, headerOffset: 512, compressedOffset: 40 },
  { path: "etc/pass", type: "hardlink", mode: 0o644, size: 0, uid: 0, gid: 0, mtime: 1_700_000_001, linkname: "etc/passwd", headerOffset: 2048, compressedOffset: 41 },
  { path: "dev/null", type: "char", mode: 0o666, size: 0, uid: 0, gid: 0, uname: "", mtime: 0, devmajor: 1, devminor: 3, headerOffset: 2560, compressedOffset: 50 },
  { path: "bin/sh", type: "symlink", mode: 0o777, size: 0, uid: 1000, gid: 1000, mtime: -5, linkname: "busybox", layer: 2, headerOffset: 3072, compressedOffset: 60 },
  {
    path: "big\u00e9/\u{1f600} file\nwith\x1bescape",
    type: "file",
    mode: 0o4755,
    size: 2 ** 40 + 1,
    uid: 2 ** 31,
    gid: 7,
    mtime: 1_600_000_000,
    headerOffset: 3584,
    compressedOffset: 70,
  },
  { path: "big\u00e9/\u{1f601}", type: "fifo", mode: 0o600, size: 0, uid: 0, gid: 0, mtime: 1_600_000_000, headerOffset: 4096, compressedOffset: 70 },
  { path: "", type: "contiguous", mode: 0, size: 0, uid: 0, gid: 0, mtime: 1, headerOffset: 4608, compressedOffset: 80 },
  { path: "blk", type: "block", mode: 0o660, size: 0, uid: 0, gid: 6, gname: "disk", mtime: 1, devmajor: 8, devminor: 0, headerOffset: 5120, compressedOffset: 90 },
];

describe("listings", () => {
  test("round-trip deep-equal, optional fields absent stay absent and present stay present", () => {
    const { store, warnings } = open();
    const digest = fakeDigest(1);
    expect(store.getListing(digest)).toBeUndefined();
    expect(store.putListing(statsFor(digest, VARIED), VARIED)).toBe(true);
    const got = store.getListing(digest)!;
    expect(got.entries).toStrictEqual(VARIED);
    expect(got.stats).toStrictEqual(statsFor(digest, VARIED));
    for (const [i, e] of got.entries.entries()) {
      for (const k of ["uname", "gname", "linkname", "devmajor", "devminor", "layer"] as const) expect(k in e).toBe(k in VARIED[i]!);
    }
    expect(warnings).toEqual([]);
  });

  test("an empty complete listing is stored too (a layer with no files)", () => {
    const { store } = open();
    expect(store.putListing(statsFor(fakeDigest(2), []), [])).toBe(true);
    expect(store.getListing(fakeDigest(2))).toStrictEqual({ entries: [], stats: statsFor(fakeDigest(2), []) });
  });

  test("a partial listing is refused and never read back as complete", () => {
    const { store } = open();
    const digest = fakeDigest(3);
    expect(store.putListing(statsFor(digest, VARIED, false), VARIED)).toBe(false);
    expect(store.getListing(digest)).toBeUndefined();
    // Counts that do not match the entries, a digest that is not one, NaN numbers: refused as well.
    expect(store.putListing({ ...statsFor(digest, VARIED), entries: VARIED.length + 1 }, VARIED)).toBe(false);
    expect(store.putListing(statsFor("latest", VARIED), VARIED)).toBe(false);
    expect(store.putListing(statsFor(digest, [{ ...VARIED[0]!, mtime: NaN }]), [{ ...VARIED[0]!, mtime: NaN }])).toBe(false);
    expect(store.info().listings).toBe(0);
  });

  test("a listing that no longer decodes is dropped, not returned", () => {
    const { store, dir } = open();
    const digest = fakeDigest(4);
    store.putListing(statsFor(digest, VARIED), VARIED);
    const db = new Database(join(dir, "cache.sqlite"));
    db.query("UPDATE listing_parts SET data = ? WHERE digest = ?").run(new Uint8Array([1, 2, 3]), digest);
    db.close();
    expect(store.getListing(digest)).toBeUndefined();
    expect(store.info().listings).toBe(0);
  });

  test("100k entries: stored compactly and read back exactly", () => {
    const { store } = open();
    const entries = manyEntries(100_000);
    const digest = fakeDigest(5);
    expect(store.putListing(statsFor(digest, entries), entries)).toBe(true);
    const got = store.getListing(digest)!;
    expect(got.entries.length).toBe(100_000);
    expect(got.entries[99_999]).toStrictEqual(entries[99_999]!);
    expect(got.entries[97]).toStrictEqual(entries[97]!);
    // Speed is the benchmark's business (npm run bench); size is a property of the encoding.
    expect(store.info().sizeBytes).toBeLessThan(2 * 1024 * 1024);
  });

  test("the codec keeps fractions exact (no delta coding of non-integers)", () => {
    const entries = [0.1, 0.2, 0.30000000000000004, 1e15 + 0.5].map((mtime, i) => ({ ...VARIED[0]!, path: `f${i}`, mtime }));
    expect(decodeEntries(encodeEntries(entries))).toStrictEqual(entries);
    const huge = [Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER].map((size, i) => ({ ...VARIED[0]!, path: `g${i}`, headerOffset: size }));
    expect(decodeEntries(encodeEntries(huge))).toStrictEqual(huge);
  });

  test("the codec keeps names that are not UTF-8 byte for byte (escaped bytes, split surrogate pairs, global headers)", () => {
    const names = ["caf\udce9", "caf\udce9x", "café", "caf\udcc3\udca9", "\udcff/\udc80", "😀a", "😁b", "x\udc80/link"];
    const entries = names.map((path, i) => ({ ...VARIED[0]!, path, ...(i === 7 ? { type: "symlink" as const, linkname: "t\udcfe" } : {}) }));
    entries.push({ ...VARIED[0]!, path: "pax_global_header", type: "pax-global" });
    expect(decodeEntries(encodeEntries(entries))).toStrictEqual(entries);
  });
});

describe("entry types", () => {
  const every: Entry[] = ENTRY_TYPES.map((type, i) => ({ ...VARIED[0]!, path: `t/${type}`, type, headerOffset: 512 * i }));

  test("every entry type (pax-global included) round-trips through listings and layer indexes", () => {
    const { store, warnings } = open();
    expect(store.putListing(statsFor(fakeDigest(40), every), every)).toBe(true);
    expect(store.getListing(fakeDigest(40))!.entries).toStrictEqual(every);
    expect(store.putLayerIndex(fakeDigest(41), { checkpoints: [], prefix: every }, 1 << 20)).toBe(true);
    expect(store.getLayerIndex(fakeDigest(41))!.prefix).toStrictEqual(every);
    expect(warnings).toEqual([]);
  });

  test("a type code this version does not know is never read back as some type", () => {
    const data = encodeEntries(every);
    const cols = JSON.parse(new TextDecoder().decode(Bun.zstdDecompressSync(data))) as { type: number[] };
    cols.type[3] = ENTRY_TYPES.length;
    const unknown = Bun.zstdCompressSync(new TextEncoder().encode(JSON.stringify(cols)));
    expect(decodeEntries(unknown)).toBeUndefined();
    // Stored by a writer as it is (sealed, so only the codec can object): the read ends with false, not with a guess.
    const { store } = open();
    const w = store.beginListing(fakeDigest(42));
    w.addPart(every, unknown);
    expect(w.finish(statsFor(fakeDigest(42), every))).toBe(true);
    const gen = store.readListing(fakeDigest(42))!.parts();
    expect(gen.next()).toEqual({ done: true, value: false });
    expect(store.readListing(fakeDigest(42))).toBeUndefined();
  });
});

describe("blobs", () => {
  test("stored by digest and verified against it on get; a row that does not match is dropped", () => {
    const { store, dir } = open();
    const bytes = json('{"schemaVersion":2}');
    const digest = sha256(bytes);
    expect(store.putBlob(digest, "application/vnd.oci.image.manifest.v1+json", bytes)).toBe(true);
    expect(store.getBlob(digest)).toStrictEqual({ mediaType: "application/vnd.oci.image.manifest.v1+json", bytes });
    // Bytes that do not hash to the digest are refused on put.
    expect(store.putBlob(sha256("other"), "x", bytes)).toBe(false);
    expect(store.putBlob("sha256:abc", "x", bytes)).toBe(false);
    // Tampered on disk: not returned, and the row is gone.
    const db = new Database(join(dir, "cache.sqlite"));
    db.query("UPDATE blobs SET bytes = ? WHERE digest = ?").run(json('{"schemaVersion":3}'), digest);
    db.close();
    expect(store.getBlob(digest)).toBeUndefined();
    expect(store.info().blobs).toBe(0);
  });

  test("sha512 digests work too; unknown algorithms are just misses", () => {
    const { store } = open();
    const bytes = json("{}");
    const h = new Bun.CryptoHasher("sha512");
    h.update(bytes);
    const digest = `sha512:${h.digest("hex")}`;
    expect(store.putBlob(digest, "application/json", bytes)).toBe(true);
    expect(store.getBlob(digest)?.bytes).toEqual(bytes);
    expect(store.getBlob(`md5:${"0".repeat(32)}`)).toBeUndefined();
  });
});

describe("info and clear", () => {
  test("info counts listings, entries and blobs; clear empties it and says what it removed", () => {
    const { store, warnings, dir } = open();
    expect(store.info()).toStrictEqual({ path: join(dir, "cache.sqlite"), sizeBytes: 0, listings: 0, blobs: 0, entries: 0 });
    expect(existsSync(join(dir, "cache.sqlite"))).toBe(false); // looking does not create it
    store.putListing(statsFor(fakeDigest(10), VARIED), VARIED);
    store.putListing(statsFor(fakeDigest(11), VARIED.slice(0, 2)), VARIED.slice(0, 2));
    for (const s of ["a", "b", "c"]) store.putBlob(sha256(s), "text/plain", json(s));
    const info = store.info();
    expect(info).toMatchObject({ listings: 2, entries: VARIED.length + 2, blobs: 3 });
    expect(info.sizeBytes).toBeGreaterThan(0);
    const cleared = store.clear();
    expect(cleared).toMatchObject({ listings: 2, entries: VARIED.length + 2, blobs: 3 });
    expect(cleared.problem).toBeUndefined();
    expect(store.info()).toMatchObject({ listings: 0, entries: 0, blobs: 0 });
    expect(store.getListing(fakeDigest(10))).toBeUndefined();
    expect(store.getBlob(sha256("a"))).toBeUndefined();
    // Still usable after clearing.
    expect(store.putBlob(sha256("a"), "text/plain", json("a"))).toBe(true);
    expect(open(dir).store.getBlob(sha256("a"))?.bytes).toEqual(json("a"));
    expect(warnings).toEqual([]);
  });

  test("the store is lazy and --no-cache gives a store that remembers nothing", () => {
    const dir = tempDir();
    openCache({ enabled: true, dir, warn: () => {} });
    expect(existsSync(join(dir, "cache.sqlite"))).toBe(false);
    const off = openCache({ enabled: false, dir, warn: () => {} });
    expect(off.enabled).toBe(false);
    expect(off.putBlob(sha256("a"), "t", json("a"))).toBe(false);
    expect(off.getBlob(sha256("a"))).toBeUndefined();
    expect(off.putListing(statsFor(fakeDigest(1), VARIED), VARIED)).toBe(false);
    expect(existsSync(join(dir, "cache.sqlite"))).toBe(false);
  });
});

describe("failures degrade to no cache with one warning", () => {
  function expectNoop(store: CacheStore): void {
    expect(store.putBlob(sha256("x"), "t", json("x"))).toBe(false);
    expect(store.getBlob(sha256("x"))).toBeUndefined();
    expect(store.putListing(statsFor(fakeDigest(1), VARIED), VARIED)).toBe(false);
    expect(store.getListing(fakeDigest(1))).toBeUndefined();
  }

  test("a corrupt database file", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "cache.sqlite"), crypto.getRandomValues(new Uint8Array(8192)));
    const { store, warnings } = open(dir);
    expectNoop(store);
    expectNoop(store);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("not a usable database");
    expect(warnings[0]).toContain("cache clear");
    expect(store.info().problem).toContain("not a usable database");
    // clear removes a file that is not a database; the next store starts afresh.
    expect(store.clear().problem).toBeUndefined();
    const fresh = open(dir);
    expect(fresh.store.putBlob(sha256("x"), "t", json("x"))).toBe(true);
    expect(fresh.warnings).toEqual([]);
  });

  test("a database locked by another process in rollback mode (readers blocked too)", async () => {
    const dir = tempDir();
    const lock = await holdLock(join(dir, "cache.sqlite"), "delete");
    try {
      const { store, warnings } = open(dir, 300);
      const t = performance.now();
      expectNoop(store);
      expect(performance.now() - t).toBeLessThan(3000); // one busy wait, not one per call
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain("locked by another process");
      // clear reports the problem instead of pretending.
      expect(open(dir, 100).store.clear().problem).toContain("locked");
    } finally {
      await lock.release();
    }
    // Once the lock is gone the cache works (and recreates the foreign schema).
    const after = open(dir);
    expect(after.store.putBlob(sha256("x"), "t", json("x"))).toBe(true);
    expect(after.warnings).toEqual([]);
  });

  test("a WAL database with another process holding the write lock: reads work, the write gives up with one warning", async () => {
    const { store: first, dir } = open();
    expect(first.putBlob(sha256("x"), "t", json("x"))).toBe(true);
    first.close();
    const lock = await holdLock(join(dir, "cache.sqlite"), "wal");
    try {
      const { store, warnings } = open(dir, 300);
      expect(store.getBlob(sha256("x"))?.bytes).toEqual(json("x"));
      expect(store.putBlob(sha256("y"), "t", json("y"))).toBe(false);
      expect(store.putBlob(sha256("z"), "t", json("z"))).toBe(false);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain("locked by another process");
    } finally {
      await lock.release();
    }
  });

  test("an unwritable place: a directory under a regular file, a database path that is a directory", () => {
    const base = tempDir();
    writeFileSync(join(base, "file"), "x");
    for (const dir of [join(base, "file", "cache"), (mkdirSync(join(base, "d", "cache.sqlite"), { recursive: true }), join(base, "d"))]) {
      const { store, warnings } = open(dir);
      expectNoop(store);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain("cannot be opened or written");
      expect(store.info().problem).toBeDefined();
    }
  });
});

describe("schema and concurrency", () => {
  test("a cache of another schema version is recreated", () => {
    const dir = tempDir();
    const db = new Database(join(dir, "cache.sqlite"), { create: true });
    db.exec(`CREATE TABLE listings (whatever TEXT); CREATE TABLE old_stuff (x); PRAGMA user_version = 99; PRAGMA application_id = ${APPLICATION_ID};`);
    db.close();
    const { store, warnings } = open(dir);
    expect(store.putListing(statsFor(fakeDigest(1), VARIED), VARIED)).toBe(true);
    expect(store.getListing(fakeDigest(1))?.entries).toStrictEqual(VARIED);
    expect(warnings).toEqual([]);
    store.close();
    const check = new Database(join(dir, "cache.sqlite"));
    expect((check.query("PRAGMA user_version").get() as { user_version: number }).user_version).toBe(SCHEMA_VERSION);
    expect((check.query("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode).toBe("wal");
    expect(check.query("SELECT name FROM sqlite_master WHERE name = 'old_stuff'").get()).toBeNull();
    check.close();
  });

  test("someone else's database (tables, no application id of ours) is left untouched: a warning, not a wipe", () => {
    const dir = tempDir();
    const db = new Database(join(dir, "cache.sqlite"), { create: true });
    db.exec("CREATE TABLE precious (x); INSERT INTO precious VALUES (42);");
    db.close();
    const { store, warnings } = open(dir);
    expect(store.putBlob(sha256("x"), "t", json("x"))).toBe(false);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("is not a layerslayer cache");
    expect(store.clear().problem).toContain("is not a layerslayer cache");
    const check = new Database(join(dir, "cache.sqlite"));
    expect(check.query("SELECT x FROM precious").get()).toEqual({ x: 42 });
    check.close();
  });

  test("several processes writing at once leave a consistent database and lose nothing", async () => {
    const dir = tempDir();
    const writers = [1, 2, 3, 4].map((id) => Bun.spawn([process.execPath, join(import.meta.dir, "writer.ts"), dir, String(id)], { stdout: "pipe", stderr: "pipe" }));
    const results = await Promise.all(writers.map(async (p) => ({ code: await p.exited, stderr: await new Response(p.stderr).text() })));
    for (const r of results) expect(r).toEqual({ code: 0, stderr: "" });
    const db = new Database(join(dir, "cache.sqlite"));
    expect((db.query("PRAGMA integrity_check").get() as { integrity_check: string }).integrity_check).toBe("ok");
    db.close();
    // 20 shared blobs + 20 of each writer's own; 5 listings per writer.
    expect(open(dir).store.info()).toMatchObject({ blobs: 20 + 4 * 20, listings: 4 * 5, entries: 4 * 5 * 2000 });
  });
});

describe("where the cache lives", () => {
  test("LAYERSLAYER_CACHE_DIR, then XDG_CACHE_HOME, then the platform's cache dir", () => {
    expect(defaultCacheDir({ LAYERSLAYER_CACHE_DIR: "/c", XDG_CACHE_HOME: "/x", HOME: "/h" }, "linux")).toBe("/c");
    expect(defaultCacheDir({ XDG_CACHE_HOME: "/x", HOME: "/h" }, "darwin")).toBe("/x/layerslayer");
    expect(defaultCacheDir({ XDG_CACHE_HOME: "relative", HOME: "/h" }, "linux")).toBe("/h/.cache/layerslayer");
    expect(defaultCacheDir({ HOME: "/h" }, "linux")).toBe("/h/.cache/layerslayer");
    expect(defaultCacheDir({ HOME: "/h" }, "darwin")).toBe("/h/Library/Caches/layerslayer");
    expect(defaultCacheDir({ HOME: "/h", LOCALAPPDATA: "/l" }, "win32")).toBe(join("/l", "layerslayer", "cache"));
  });
});
