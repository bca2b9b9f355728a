/**
 * The local cache, as the rest of layerslayer sees it: complete layer listings, manifests and
 * configs, layer indexes (checkpoints) and merged trees, all keyed by digest (immutable, so nothing
 * goes stale). Two implementations: SQLite (sqlite.ts, the default) and the no-op one (no-cache.ts,
 * `--no-cache`); open.ts chooses. Nothing above this file knows which one it has.
 *
 * A cache can make a command faster, never make it fail and never change its answer: whatever a
 * store cannot read back intact (see docs/cache.md) it treats as absent.
 */
import type { Checkpoint } from "../codec/checkpoint.ts";
import type { Entry, LayerStats } from "../types.ts";

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

/** Takes a listing's entries as they are found; `finish` stores it, `abort` forgets it. */
export interface ListingWriter {
  add(entry: Entry): void;
  /** Adds a whole part already encoded (`encodeEntries(entries)`), after what was added before. */
  addPart(entries: readonly Entry[], data: Uint8Array): void;
  /** Stores the listing when `stats` say it is complete and every entry was added; true when stored. */
  finish(stats: LayerStats): boolean;
  abort(): void;
}

/** A writer that stores nothing (cache off). */
export const NO_WRITER: ListingWriter = { add() {}, addPart() {}, finish: () => false, abort() {} };

/** A stored listing: its stats, and its entries part by part. */
export interface StoredListing {
  stats: LayerStats;
  /**
   * The entries, one part at a time. Returns false when the stored parts turned out damaged or
   * short (the listing is then deleted): the entries yielded so far are still right, but not all.
   */
  parts(): Generator<Entry[], boolean>;
}

/** Manifests and configs by digest (what the registry client needs). */
export interface BlobCache {
  getBlob(digest: string): CachedBlob | undefined;
  putBlob(digest: string, mediaType: string, bytes: Uint8Array): boolean;
  /** Gets ready for the first read or write now (the SQLite store opens its database), while the caller waits on something else. */
  prepare?(): void;
}

/** A layer's random-access index: its gzip checkpoints (src/codec/checkpoint.ts) and, when the layer was read only up to some point, the entries before that point. */
export interface LayerIndex {
  checkpoints: Checkpoint[];
  /** Entries from the layer's start, when its complete listing is not known. */
  prefix?: Entry[];
}

/** Where layers' checkpoints and partial listings are kept between runs. */
export interface IndexStore {
  getLayerIndex(digest: string): LayerIndex | undefined;
  putLayerIndex(digest: string, index: LayerIndex, layerSize: number): boolean;
}

/** What listing commands need. */
export interface ListingCache extends IndexStore {
  /** A whole listing in memory (small layers; streaming commands use `readListing`). */
  getListing(digest: string): CachedListing | undefined;
  /** A listing part by part, never all its entries at once. */
  readListing(digest: string): StoredListing | undefined;
  /** Stores a complete, verified listing (refused, returning false, when it is not `storable`: listing-parts.ts). */
  putListing(stats: LayerStats, entries: readonly Entry[]): boolean;
  /** Stores a listing as it streams, in parts. */
  beginListing(digest: string): ListingWriter;
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
