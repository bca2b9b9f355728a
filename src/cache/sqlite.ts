/**
 * The cache in one bun:sqlite database (see cache.ts for what it holds), every row sealed with the
 * cache's key (seal.ts). Every failure (corrupt file, lock held too long, unwritable directory, a
 * key file that is not private) turns the cache off for the rest of the process with one warning;
 * a row that fails its check is dropped and reported absent, with one warning: the cache can make
 * a command faster, never make it fail or change its answer.
 */
import type { Database } from "bun:sqlite";
import { mkdirSync, rmSync, statSync } from "node:fs";
import type { Entry, LayerStats } from "../types.ts";
import {
  NO_WRITER,
  type CachedBlob,
  type CachedListing,
  type CacheInfo,
  type CacheStore,
  type ClearResult,
  type LayerIndex,
  type ListingWriter,
  type StoredListing,
} from "./cache.ts";
import { readBlob, writeBlob } from "./blobs.ts";
import { readLayerIndex, writeLayerIndex } from "./layer-index.ts";
import { PartWriter, readListing, storable } from "./listing-parts.ts";
import { cacheFile } from "./paths.ts";
import { classify, explain, warning, type Problem } from "./problems.ts";
import type { Rows } from "./rows.ts";
import { DATA_TABLES, migrate } from "./schema.ts";
import { loadKey, type Seal } from "./seal.ts";
import { readTree, writeTree } from "./trees.ts";

export const DEFAULT_BUSY_TIMEOUT_MS = 2000;

const DIGEST_RE = /^(?:sha256:[0-9a-f]{64}|sha384:[0-9a-f]{96}|sha512:[0-9a-f]{128})$/;

export function isDigest(s: string): boolean {
  return DIGEST_RE.test(s);
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

const SIDE_FILES = ["", "-wal", "-shm", "-journal"];

function sizeOnDisk(path: string): number {
  return SIDE_FILES.reduce((n, s) => n + fileSize(path + s), 0);
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

export class SqliteCache implements CacheStore {
  readonly enabled = true;
  readonly path: string;
  private db: Database | undefined;
  private seal: Seal | undefined;
  private droppedOnce = false;
  private failure: { kind: Problem; message: string } | undefined;

  constructor(
    private readonly dir: string,
    private readonly warn: (message: string) => void,
    private readonly busyTimeoutMs: number,
  ) {
    this.path = cacheFile(dir);
  }

  /** The open database, opening (and creating) it on first use; undefined once the cache failed. */
  private open(): Database | undefined {
    if (this.failure) return undefined;
    if (this.db) return this.db;
    try {
      mkdirSync(this.dir, { recursive: true });
      const seal = loadKey(this.dir);
      // Loaded on first use, not imported: a command that never opens the cache (--no-cache) does
      // not pay for bun:sqlite (3.5 MiB of peak RSS, docs/performance.md).
      const { Database } = require("bun:sqlite") as typeof import("bun:sqlite");
      const db = new Database(this.path, { create: true, readwrite: true, strict: true });
      this.db = db;
      db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(this.busyTimeoutMs))}`);
      db.query("PRAGMA journal_mode = WAL").get();
      db.exec("PRAGMA synchronous = NORMAL");
      migrate(db, seal);
      this.seal = seal;
      return db;
    } catch (e) {
      this.fail(e);
      return undefined;
    }
  }

  private fail(e: unknown): void {
    const kind = classify(e);
    this.failure = { kind, message: explain(kind, this.path, e) };
    this.closeDb();
    this.warn(warning(kind, this.failure.message));
  }

  private closeDb(): void {
    try {
      this.db?.close();
    } catch {}
    this.db = undefined;
  }

  /** Runs `fn` on the database; any error turns the cache off and gives `fallback`. */
  private use<T>(fallback: T, fn: (db: Database) => T): T {
    const db = this.open();
    if (!db) return fallback;
    try {
      return fn(db);
    } catch (e) {
      this.fail(e);
      return fallback;
    }
  }

  /** What the table modules are given (the key exists once the database was opened: every writer checks `open()` first). */
  private readonly rows: Rows = (() => {
    const store = this;
    return {
      use: (fallback, fn) => store.use(fallback, fn),
      get seal(): Seal {
        if (!store.seal) throw new Error("the cache key is used before the cache was opened");
        return store.seal;
      },
      dropped: (what: string) => {
        if (store.droppedOnce) return;
        store.droppedOnce = true;
        store.warn(`the cache held ${what} altered or damaged since it was written (it failed its check): it was dropped and read again from the source`);
      },
    };
  })();

  readListing(digest: string): StoredListing | undefined {
    return isDigest(digest) ? readListing(this.rows, digest) : undefined;
  }

  getListing(digest: string): CachedListing | undefined {
    const stored = this.readListing(digest);
    if (!stored) return undefined;
    const entries: Entry[] = [];
    const gen = stored.parts();
    for (let r = gen.next(); ; r = gen.next()) {
      if (r.done) return r.value ? { entries, stats: stored.stats } : undefined;
      for (const e of r.value) entries.push(e);
    }
  }

  beginListing(digest: string): ListingWriter {
    return isDigest(digest) && this.open() ? new PartWriter(this.rows, digest) : NO_WRITER;
  }

  getLayerIndex(digest: string): LayerIndex | undefined {
    return isDigest(digest) ? readLayerIndex(this.rows, digest) : undefined;
  }

  getTree(key: string): Uint8Array | undefined {
    return readTree(this.rows, key);
  }

  putTree(key: string, data: Uint8Array): boolean {
    return this.open() ? writeTree(this.rows, key, data) : false;
  }

  putLayerIndex(digest: string, index: LayerIndex, layerSize: number): boolean {
    return isDigest(digest) && this.open() ? writeLayerIndex(this.rows, digest, index, layerSize) : false;
  }

  putListing(stats: LayerStats, entries: readonly Entry[]): boolean {
    if (!storable(stats) || stats.entries !== entries.length) return false;
    const w = this.beginListing(stats.digest);
    for (const e of entries) w.add(e);
    return w.finish(stats);
  }

  prepare(): void {
    this.open();
  }

  getBlob(digest: string): CachedBlob | undefined {
    return isDigest(digest) ? readBlob(this.rows, digest) : undefined;
  }

  putBlob(digest: string, mediaType: string, bytes: Uint8Array): boolean {
    return isDigest(digest) && this.open() ? writeBlob(this.rows, digest, mediaType, bytes) : false;
  }

  private counts(db: Database): { listings: number; blobs: number; entries: number } {
    const l = db.query("SELECT COUNT(*) AS n, COALESCE(SUM(entry_count), 0) AS e FROM listings").get() as { n: number; e: number };
    const b = db.query("SELECT COUNT(*) AS n FROM blobs").get() as { n: number };
    return { listings: l.n, blobs: b.n, entries: l.e };
  }

  info(): CacheInfo {
    const none = { listings: 0, blobs: 0, entries: 0 };
    // Looking must not create the database.
    if (!this.db && !this.failure && !exists(this.path)) return { path: this.path, sizeBytes: 0, ...none };
    const counts = this.use(undefined, (db) => this.counts(db));
    const sizeBytes = sizeOnDisk(this.path);
    if (!counts) return { path: this.path, sizeBytes, ...none, problem: this.failure?.message ?? "the cache is not available" };
    return { path: this.path, sizeBytes, ...counts };
  }

  clear(): ClearResult {
    const before = sizeOnDisk(this.path);
    const result = (c: { listings: number; blobs: number; entries: number }, problem?: string): ClearResult => ({
      path: this.path,
      bytesFreed: Math.max(0, before - sizeOnDisk(this.path)),
      ...c,
      ...(problem ? { problem } : {}),
    });
    const none = { listings: 0, blobs: 0, entries: 0 };
    if (!this.db && !this.failure && !exists(this.path)) return result(none);
    const counts = this.use(undefined, (db) =>
      db
        .transaction(() => {
          const c = this.counts(db);
          for (const t of DATA_TABLES) db.exec(`DELETE FROM ${t}`);
          return c;
        })
        .immediate(),
    );
    if (!counts) {
      // A file that is not a database is ours to remove; a locked or unwritable one is not.
      if (this.failure?.kind === "corrupt") {
        this.closeDb();
        for (const s of SIDE_FILES) rmSync(this.path + s, { force: true });
        return result(none);
      }
      return result(none, this.failure?.message ?? "the cache is not available");
    }
    // Give the space back; harmless to skip when another process is reading.
    try {
      this.db?.exec("VACUUM");
      this.db?.query("PRAGMA wal_checkpoint(TRUNCATE)").get();
    } catch {}
    return result(counts);
  }

  close(): void {
    this.closeDb();
  }
}
