/**
 * The cache's rows are bound to what was verified when they were written (src/cache/seal.ts): an
 * edit made with the cache's own codecs, a recomputed digest, a row moved from elsewhere or a
 * database without its key is never served; the key file itself must be private.
 */
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { chmodSync, copyFileSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { CacheStore } from "../../src/cache/cache.ts";
import { decodeCheckpoints, encodeCheckpoints } from "../../src/cache/layer-index.ts";
import { decodeEntries, encodeEntries } from "../../src/cache/listing-codec.ts";
import { openCache } from "../../src/cache/open.ts";
import { KEY_FILE } from "../../src/cache/seal.ts";
import type { Entry } from "../../src/types.ts";
import { fakeDigest, manyEntries, sha256, statsFor, tempDir } from "./helpers.ts";

function open(dir = tempDir()): { store: CacheStore; warnings: string[]; dir: string } {
  const warnings: string[] = [];
  return { store: openCache({ enabled: true, dir, warn: (m) => warnings.push(m) }), warnings, dir };
}

/** Runs `fn` on the database file directly, as someone editing it would. */
function edit(dir: string, fn: (db: Database) => void): void {
  const db = new Database(join(dir, "cache.sqlite"));
  try {
    fn(db);
  } finally {
    db.close();
  }
}

const entries = manyEntries(25_000);
const checked = (w: string[]) => w.filter((m) => m.includes("failed its check"));

describe("the key", () => {
  test("made on first use: 32 bytes, mode 0600; every store of the directory uses the same one", () => {
    const { store, dir } = open();
    expect(store.putListing(statsFor(fakeDigest(1), entries), entries)).toBe(true);
    const key = join(dir, KEY_FILE);
    expect(statSync(key).mode & 0o777).toBe(0o600);
    expect(readFileSync(key).length).toBe(32);
    const other = open(dir);
    expect(other.store.getListing(fakeDigest(1))?.entries.length).toBe(entries.length);
    expect(other.warnings).toEqual([]);
  });

  test("a database without its key (copied alone, or the key lost) is emptied: nothing it held is served", () => {
    const a = open();
    expect(a.store.putListing(statsFor(fakeDigest(2), entries), entries)).toBe(true);
    const bytes = new TextEncoder().encode('{"a":1}');
    expect(a.store.putBlob(sha256(bytes), "application/json", bytes)).toBe(true);
    a.store.close();
    const b = tempDir();
    copyFileSync(join(a.dir, "cache.sqlite"), join(b, "cache.sqlite"));
    const copy = open(b);
    expect(copy.store.getListing(fakeDigest(2))).toBeUndefined();
    expect(copy.store.getBlob(sha256(bytes))).toBeUndefined();
    expect(copy.store.info()).toMatchObject({ listings: 0, blobs: 0 });
    // The original with its key still serves.
    rmSync(join(a.dir, KEY_FILE));
    const rekeyed = open(a.dir);
    expect(rekeyed.store.getListing(fakeDigest(2))).toBeUndefined();
  });

  test("a key others can read, a symlinked key or one of the wrong size turns the cache off with one warning", () => {
    for (const spoil of [
      (k: string) => chmodSync(k, 0o644),
      (k: string) => (rmSync(k), symlinkSync("/etc/hostname", k)),
      (k: string) => writeFileSync(k, "short", { mode: 0o600 }),
    ]) {
      const first = open();
      expect(first.store.putListing(statsFor(fakeDigest(3), entries), entries)).toBe(true);
      first.store.close();
      spoil(join(first.dir, KEY_FILE));
      const { store, warnings } = open(first.dir);
      expect(store.getListing(fakeDigest(3))).toBeUndefined();
      expect(store.putListing(statsFor(fakeDigest(4), entries), entries)).toBe(false);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/cannot be trusted: the cache key .* (can be read or written by others|is a symbolic link|is not 32 bytes long).*remove the key file/);
    }
  });

  test("processes opening a new cache at once agree on one key", async () => {
    const dir = tempDir();
    const script = `
      import { openCache } from ${JSON.stringify(join(import.meta.dir, "../../src/cache/open.ts"))};
      const s = openCache({ enabled: true, dir: ${JSON.stringify(dir)}, warn: (m) => console.error(m) });
      const b = new TextEncoder().encode("x" + process.pid);
      const h = new Bun.CryptoHasher("sha256").update(b).digest("hex");
      if (!s.putBlob("sha256:" + h, "text/plain", b)) console.error("put failed");
      console.log("sha256:" + h);
    `;
    const procs = Array.from({ length: 4 }, () => Bun.spawn([process.execPath, "-e", script], { stdout: "pipe", stderr: "pipe" }));
    const outs = await Promise.all(procs.map(async (p) => ({ out: (await new Response(p.stdout).text()).trim(), err: await new Response(p.stderr).text() })));
    expect(outs.map((o) => o.err)).toEqual(["", "", "", ""]);
    const { store, warnings } = open(dir);
    for (const o of outs) expect(store.getBlob(o.out)).toBeDefined();
    expect(warnings).toEqual([]);
  });
});

describe("edits are detected", () => {
  test("a listing part re-encoded with the codec with one entry changed", () => {
    const { store, warnings, dir } = open();
    const digest = fakeDigest(5);
    expect(store.putListing(statsFor(digest, entries), entries)).toBe(true);
    edit(dir, (db) => {
      const row = db.query("SELECT data FROM listing_parts WHERE digest = ? AND seq = 1").get(digest) as { data: Uint8Array };
      const part = decodeEntries(row.data)!;
      part[3] = { ...part[3]!, path: "etc/evil", size: 666 };
      db.query("UPDATE listing_parts SET data = ? WHERE digest = ? AND seq = 1").run(encodeEntries(part), digest);
    });
    expect(store.readListing(digest)).toBeUndefined();
    expect(checked(warnings)).toHaveLength(1);
    expect(store.putListing(statsFor(digest, entries), entries)).toBe(true);
    expect(store.getListing(digest)!.entries).toStrictEqual(entries);
  });

  test("a listing's stats edited; a part moved from another listing; parts swapped; the last part removed", () => {
    const other = entries.map((e) => ({ ...e, path: `x/${e.path}` }));
    const edits: ((db: Database, digest: string) => void)[] = [
      (db, d) => db.query("UPDATE listings SET stats = replace(stats, '\"layerSize\":1234', '\"layerSize\":99') WHERE digest = ?").run(d),
      (db, d) => {
        const from = db.query("SELECT data FROM listing_parts WHERE digest = ? AND seq = 0").get(fakeDigest(99)) as { data: Uint8Array };
        db.query("UPDATE listing_parts SET data = ? WHERE digest = ? AND seq = 0").run(from.data, d);
      },
      (db, d) => {
        for (const [from, to] of [
          [0, 100],
          [1, 0],
          [100, 1],
        ])
          db.query("UPDATE listing_parts SET seq = ? WHERE digest = ? AND seq = ?").run(to!, d, from!);
      },
      (db, d) => {
        db.query("DELETE FROM listing_parts WHERE digest = ? AND seq = 2").run(d);
        db.query("UPDATE listings SET entry_count = 20000, stats = replace(stats, '\"entries\":25000', '\"entries\":20000') WHERE digest = ?").run(d);
      },
    ];
    for (const [i, change] of edits.entries()) {
      const { store, warnings, dir } = open();
      const digest = fakeDigest(100 + i);
      expect(store.putListing(statsFor(digest, entries), entries)).toBe(true);
      expect(store.putListing(statsFor(fakeDigest(99), other), other)).toBe(true);
      edit(dir, (db) => change(db, digest));
      expect(store.readListing(digest)).toBeUndefined();
      expect(checked(warnings)).toHaveLength(1);
      expect(store.getListing(fakeDigest(99))!.entries).toStrictEqual(other);
    }
  });

  test("a merged tree replaced by other valid bytes and its digest recomputed", () => {
    const { store, warnings, dir } = open();
    const good = new TextEncoder().encode("the tree as it was");
    const evil = new TextEncoder().encode("the tree as someone wants it");
    expect(store.putTree("k1", good)).toBe(true);
    expect(store.getTree("k1")).toEqual(good);
    edit(dir, (db) => db.query("UPDATE trees SET data = ? WHERE key = 'k1'").run(evil));
    expect(store.getTree("k1")).toBeUndefined();
    expect(checked(warnings)).toHaveLength(1);
    // A tree moved under another key is not that key's tree.
    expect(store.putTree("k2", good)).toBe(true);
    edit(dir, (db) => db.exec("UPDATE trees SET key = 'k3' WHERE key = 'k2'"));
    expect(store.getTree("k3")).toBeUndefined();
  });

  test("manifests and configs: bytes, media type", () => {
    const { store, warnings, dir } = open();
    const bytes = new TextEncoder().encode('{"schemaVersion":2}');
    const digest = sha256(bytes);
    expect(store.putBlob(digest, "application/vnd.oci.image.manifest.v1+json", bytes)).toBe(true);
    edit(dir, (db) => db.query("UPDATE blobs SET media_type = 'application/vnd.oci.image.index.v1+json'").run());
    expect(store.getBlob(digest)).toBeUndefined();
    expect(checked(warnings)).toHaveLength(1);
    expect(store.putBlob(digest, "application/vnd.oci.image.manifest.v1+json", bytes)).toBe(true);
    edit(dir, (db) => db.query("UPDATE blobs SET bytes = ?").run(new TextEncoder().encode('{"schemaVersion":3}')));
    expect(store.getBlob(digest)).toBeUndefined();
  });

  test("a layer index: a checkpoint window re-encoded with the codec, a partial listing changed", () => {
    const { store, warnings, dir } = open();
    const digest = fakeDigest(7);
    const window = new Uint8Array(32768).map((_, i) => i % 251);
    const index = { checkpoints: [{ bit: 8000, out: 1 << 20, member: 0, crc: 12345, size: 1 << 20, window }], prefix: entries.slice(0, 10) };
    expect(store.putLayerIndex(digest, index, 1 << 30)).toBe(true);
    expect(store.getLayerIndex(digest)).toStrictEqual(index);
    edit(dir, (db) => {
      const row = db.query("SELECT checkpoints FROM layer_index WHERE digest = ?").get(digest) as { checkpoints: Uint8Array };
      const cps = decodeCheckpoints(row.checkpoints)!;
      cps[0]!.window[100] = 255 - cps[0]!.window[100]!;
      db.query("UPDATE layer_index SET checkpoints = ? WHERE digest = ?").run(encodeCheckpoints(cps), digest);
    });
    expect(store.getLayerIndex(digest)).toBeUndefined();
    expect(checked(warnings)).toHaveLength(1);
    expect(store.putLayerIndex(digest, index, 1 << 30)).toBe(true);
    edit(dir, (db) => {
      const prefix: Entry[] = index.prefix.map((e, i) => (i === 0 ? { ...e, path: "evil" } : e));
      db.query("UPDATE layer_index SET prefix = ? WHERE digest = ?").run(encodeEntries(prefix), digest);
    });
    expect(store.getLayerIndex(digest)).toBeUndefined();
  });

  test("a row's MAC copied along with the row into another cache does not check there", () => {
    const a = open();
    const b = open();
    expect(a.store.putTree("k", new Uint8Array([1, 2, 3]))).toBe(true);
    expect(b.store.putTree("other", new Uint8Array([9]))).toBe(true);
    edit(a.dir, (db) => {
      const row = db.query("SELECT data, mac, created FROM trees WHERE key = 'k'").get() as { data: Uint8Array; mac: Uint8Array; created: number };
      edit(b.dir, (dbb) => dbb.query("INSERT INTO trees (key, data, mac, created) VALUES ('k', ?, ?, ?)").run(row.data, row.mac, row.created));
    });
    expect(a.store.getTree("k")).toEqual(new Uint8Array([1, 2, 3]));
    expect(b.store.getTree("k")).toBeUndefined();
  });
});
