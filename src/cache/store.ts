/**
 * The local cache: complete layer listings, manifests and configs, keyed by digest (immutable, so
 * nothing goes stale), in one bun:sqlite database. Every failure (corrupt file, lock held too long,
 * unwritable directory) turns the cache off for the rest of the process with one warning: the cache
 * can make a command faster, never make it fail.
 */
import { LAYER_INDEX_TABLES, readLayerIndex, writeLayerIndex, type LayerIndex } from "./layer-index.ts";
import { Database } from "bun:sqlite";
import { mkdirSync, rmSync, statSync } from "node:fs";
import { digestAlgorithm, digestOf } from "../oci/digest.ts";
import type { Entry, LayerStats } from "../types.ts";
import { NO_WRITER, PartWriter, readListing, storable, LISTING_TABLES, type ListingWriter, type StoredListing, type UseDb } from "./listing-parts.ts";
import { cacheFile, defaultCacheDir } from "./paths.ts";
import { classify, explain, ForeignDatabase, warning, type Problem } from "./problems.ts";
import { NoCache } from "./no-cache.ts";
import { readTree, TREE_TABLES, writeTree } from "./trees.ts";

/**
 * Bump when the tables change: a database with another version is emptied and recreated. 5: a TOC's
 * listing is no longer "verified", so merged trees of earlier versions may rest on TOC listings.
 */
export const SCHEMA_VERSION = 5;
/** `PRAGMA application_id` of our files ("LSLY"): a database without it that has tables is someone else's. */
export const APPLICATION_ID = 0x4c534c59;
export const DEFAULT_BUSY_TIMEOUT_MS = 2000;

export interface CachedListing {
  entries: Entry[];
  stats: LayerStats;
}

export interface CachedBlob {
  mediaType: string;
  bytes: Uint8Array;
}

export interface CacheInfo {
  /** The database file. */
  path: string;
  /** Bytes on disk: the database and its WAL files. */
  sizeBytes: number;
  listings: number;
  blobs: number;
  /** Entries across all listings. */
  entries: number;
  /** Why the cache cannot be used, when it cannot. */
  problem?: string;
}

export interface ClearResult {
  path: string;
  listings: number;
  blobs: number;
  entries: number;
  /** Bytes on disk before minus after. */
  bytesFreed: number;
  /** Set when nothing could be cleared. */
  problem?: string;
}

/** What the registry client needs: manifests and configs by digest. */
export interface BlobCache {
  getBlob(digest: string): CachedBlob | undefined;
  putBlob(digest: string, mediaType: string, bytes: Uint8Array): boolean;
}

export type { ListingWriter, StoredListing } from "./listing-parts.ts";

/** What listing commands need. */
export interface ListingCache {
  /** A whole listing in memory (small layers; streaming commands use `readListing`). */
  getListing(digest: string): CachedListing | undefined;
  /** A listing part by part, never all of it in memory. */
  readListing(digest: string): StoredListing | undefined;
  /** Stores a complete, verified listing (refused, returning false, when it is not `storable`: listing-parts.ts). */
  putListing(stats: LayerStats, entries: readonly Entry[]): boolean;
  /** Stores a listing as it streams, in parts (see listing-parts.ts). */
  beginListing(digest: string): ListingWriter;
  /** A layer's checkpoints and partial listing (see layer-index.ts). */
  getLayerIndex(digest: string): LayerIndex | undefined;
  putLayerIndex(digest: string, index: LayerIndex, layerSize: number): boolean;
}

/** Merged trees by key (derived data: see image/tree-codec.ts). */
export interface TreeCache {
  getTree(key: string): Uint8Array | undefined;
  putTree(key: string, data: Uint8Array): boolean;
}

export interface CacheStore extends BlobCache, ListingCache, TreeCache {
  /** The database file (where it would be, for a disabled cache). */
  readonly path: string;
  /** False for the no-op store (`--no-cache`). */
  readonly enabled: boolean;
  info(): CacheInfo;
  clear(): ClearResult;
  close(): void;
}

export interface OpenCacheOptions {
  enabled: boolean;
  /** The cache directory; default from `defaultCacheDir()`. */
  dir?: string;
  /** Called at most once per store, when the cache had to be turned off. */
  warn: (message: string) => void;
  busyTimeoutMs?: number;
  env?: Record<string, string | undefined>;
}

/** A store that opens its database on first use, or a no-op store when `enabled` is false. */
export function openCache(opts: OpenCacheOptions): CacheStore {
  const dir = opts.dir ?? defaultCacheDir(opts.env ?? process.env);
  if (dir === undefined) {
    if (opts.enabled) opts.warn("no home directory (HOME is unset and this user has no passwd entry): the cache is off; LAYERSLAYER_CACHE_DIR or XDG_CACHE_HOME turns it on");
    return new NoCache("");
  }
  if (!opts.enabled) return new NoCache(cacheFile(dir));
  return new SqliteCache(dir, opts.warn, opts.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS);
}

const DIGEST_RE = /^(?:sha256:[0-9a-f]{64}|sha384:[0-9a-f]{96}|sha512:[0-9a-f]{128})$/;

export function isDigest(s: string): boolean {
  return DIGEST_RE.test(s);
}

function verified(digest: string, bytes: Uint8Array): boolean {
  try {
    return digestOf(bytes, digestAlgorithm(digest)) === digest;
  } catch {
    return false;
  }
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

const TABLES = `${LISTING_TABLES}${LAYER_INDEX_TABLES}${TREE_TABLES}
CREATE TABLE blobs (
  digest TEXT PRIMARY KEY,
  media_type TEXT NOT NULL,
  bytes BLOB NOT NULL,
  created INTEGER NOT NULL
) WITHOUT ROWID;
`;

class SqliteCache implements CacheStore {
  readonly enabled = true;
  readonly path: string;
  private db: Database | undefined;
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
      const db = new Database(this.path, { create: true, readwrite: true, strict: true });
      this.db = db;
      db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(this.busyTimeoutMs))}`);
      db.query("PRAGMA journal_mode = WAL").get();
      db.exec("PRAGMA synchronous = NORMAL");
      this.migrate(db);
      return db;
    } catch (e) {
      this.fail(e);
      return undefined;
    }
  }

  /**
   * Creates the tables in a new file, or recreates them when another schema version of ours wrote
   * it. A file with tables but without our application id is left alone (someone else's database).
   */
  private migrate(db: Database): void {
    const current = () => {
      const v = db.query("PRAGMA user_version").get() as { user_version: number };
      const a = db.query("PRAGMA application_id").get() as { application_id: number };
      return { version: v.user_version, appId: a.application_id };
    };
    const ok = (c: { version: number; appId: number }) => c.version === SCHEMA_VERSION && c.appId === APPLICATION_ID;
    if (ok(current())) return;
    db.transaction(() => {
      // Another process may have done it while this one waited for the write lock.
      const c = current();
      if (ok(c)) return;
      const tables = db.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as { name: string }[];
      if (c.appId !== APPLICATION_ID && tables.length > 0) throw new ForeignDatabase("it holds other tables; it was left untouched");
      for (const t of tables) db.exec(`DROP TABLE "${t.name.replaceAll('"', '""')}"`);
      db.exec(TABLES);
      db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
      db.exec(`PRAGMA application_id = ${APPLICATION_ID}`);
    }).immediate();
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

  private readonly useDb: UseDb = (fallback, fn) => this.use(fallback, fn);

  readListing(digest: string): StoredListing | undefined {
    return isDigest(digest) ? readListing(this.useDb, digest) : undefined;
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
    return isDigest(digest) && this.open() ? new PartWriter(this.useDb, digest) : NO_WRITER;
  }

  getLayerIndex(digest: string): LayerIndex | undefined {
    return isDigest(digest) ? readLayerIndex(this.useDb, digest) : undefined;
  }

  getTree(key: string): Uint8Array | undefined {
    return readTree(this.useDb, key);
  }

  putTree(key: string, data: Uint8Array): boolean {
    return writeTree(this.useDb, key, data);
  }

  putLayerIndex(digest: string, index: LayerIndex, layerSize: number): boolean {
    return isDigest(digest) && this.open() ? writeLayerIndex(this.useDb, digest, index, layerSize) : false;
  }

  putListing(stats: LayerStats, entries: readonly Entry[]): boolean {
    if (!storable(stats) || stats.entries !== entries.length) return false;
    const w = this.beginListing(stats.digest);
    for (const e of entries) w.add(e);
    return w.finish(stats);
  }

  getBlob(digest: string): CachedBlob | undefined {
    if (!isDigest(digest)) return undefined;
    return this.use(undefined, (db) => {
      const row = db.query("SELECT media_type, bytes FROM blobs WHERE digest = ?").get(digest) as { media_type: string; bytes: Uint8Array } | null;
      if (!row) return undefined;
      const bytes = new Uint8Array(row.bytes);
      if (!verified(digest, bytes)) {
        db.query("DELETE FROM blobs WHERE digest = ?").run(digest);
        return undefined;
      }
      return { mediaType: row.media_type, bytes };
    });
  }

  putBlob(digest: string, mediaType: string, bytes: Uint8Array): boolean {
    if (!isDigest(digest) || !verified(digest, bytes)) return false;
    return this.use(false, (db) => {
      db.query("INSERT OR REPLACE INTO blobs (digest, media_type, bytes, created) VALUES (?, ?, ?, ?)").run(digest, mediaType, bytes, Math.floor(Date.now() / 1000));
      return true;
    });
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
      db.transaction(() => {
        const c = this.counts(db);
        db.exec("DELETE FROM listings; DELETE FROM listing_parts; DELETE FROM blobs; DELETE FROM layer_index; DELETE FROM trees;");
        return c;
      }).immediate(),
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
