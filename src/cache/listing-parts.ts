/**
 * Listings stored in parts, so that neither writing nor reading one holds all its entries: a
 * writer sends a part of PART_ENTRIES entries to the database as soon as it has them, under its
 * own writer id; only `finish` with complete stats (one transaction) makes them a listing, by
 * pointing the listing's row at that writer's parts. A reader walks the parts with one statement,
 * a consistent snapshot even while another process replaces the listing.
 *
 * Parts of a writer that never finished (an error, a crash) are removed by `abort`, or later by
 * any finish of the same digest once they are an hour old (a concurrent writer's are younger).
 */
import type { Database } from "bun:sqlite";
import type { Entry, LayerStats } from "../types.ts";
import { decodeEntries, encodeEntries, entriesLookValid } from "./listing-codec.ts";

/** Entries per stored part (about 10 ms and a few hundred KiB of JSON to encode). */
export const PART_ENTRIES = 10_000;
/** Unfinished parts older than this are some dead writer's. */
const STALE_PARTS_SECONDS = 3600;

export const LISTING_TABLES = `
CREATE TABLE listings (
  digest TEXT PRIMARY KEY,
  stats TEXT NOT NULL,
  entry_count INTEGER NOT NULL,
  writer TEXT NOT NULL,
  created INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE listing_parts (
  digest TEXT NOT NULL,
  writer TEXT NOT NULL,
  seq INTEGER NOT NULL,
  data BLOB NOT NULL,
  created INTEGER NOT NULL,
  PRIMARY KEY (digest, writer, seq)
) WITHOUT ROWID;
`;

/** Runs `fn` on the database, or gives `fallback` when the cache is off or fails (it turns itself off). */
export type UseDb = <T>(fallback: T, fn: (db: Database) => T) => T;

const now = (): number => Math.floor(Date.now() / 1000);

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

export class PartWriter implements ListingWriter {
  private readonly writer = `${process.pid}-${crypto.randomUUID()}`;
  private batch: Entry[] = [];
  private seq = 0;
  private count = 0;
  private failed = false;

  constructor(
    private readonly use: UseDb,
    private readonly digest: string,
  ) {}

  add(entry: Entry): void {
    if (this.failed) return;
    this.batch.push(entry);
    this.count++;
    if (this.batch.length >= PART_ENTRIES) this.flush();
  }

  addPart(entries: readonly Entry[], data: Uint8Array): void {
    if (this.failed) return;
    this.flush();
    this.count += entries.length;
    this.store(entries, data);
  }

  private flush(): void {
    const batch = this.batch;
    this.batch = [];
    this.store(batch);
  }

  /** Stores one part (encoded here unless `data` is given) under the next sequence number. */
  private store(entries: readonly Entry[], data?: Uint8Array): void {
    if (entries.length === 0 || this.failed) return;
    if (!entriesLookValid(entries)) {
      this.failed = true;
      return;
    }
    data ??= encodeEntries(entries);
    const seq = this.seq++;
    const ok = this.use(false, (db) => {
      db.query("INSERT INTO listing_parts (digest, writer, seq, data, created) VALUES (?, ?, ?, ?, ?)").run(this.digest, this.writer, seq, data, now());
      return true;
    });
    if (!ok) this.failed = true;
  }

  finish(stats: LayerStats): boolean {
    // Only a complete, verified listing is ever stored.
    if (!storable(stats) || stats.digest !== this.digest || stats.entries !== this.count) {
      this.abort();
      return false;
    }
    this.flush();
    if (this.failed) {
      this.abort();
      return false;
    }
    return this.use(false, (db) =>
      db.transaction(() => {
        const old = db.query("SELECT writer, stats FROM listings WHERE digest = ?").get(this.digest) as { writer: string; stats: string } | null;
        // What a TOC declares never replaces a listing of the tar stream itself.
        if (old && stats.toc && !fromToc(old.stats)) {
          db.query("DELETE FROM listing_parts WHERE digest = ? AND writer = ?").run(this.digest, this.writer);
          return false;
        }
        if (old) db.query("DELETE FROM listing_parts WHERE digest = ? AND writer = ?").run(this.digest, old.writer);
        db.query("DELETE FROM listing_parts WHERE digest = ? AND writer <> ? AND created < ?").run(this.digest, this.writer, now() - STALE_PARTS_SECONDS);
        db.query("INSERT OR REPLACE INTO listings (digest, stats, entry_count, writer, created) VALUES (?, ?, ?, ?, ?)").run(this.digest, JSON.stringify({ ...stats }), this.count, this.writer, now());
        return true;
      }).immediate(),
    );
  }

  abort(): void {
    this.batch = [];
    this.failed = true;
    if (this.seq === 0) return;
    this.use(undefined, (db) => {
      db.query("DELETE FROM listing_parts WHERE digest = ? AND writer = ?").run(this.digest, this.writer);
    });
  }
}

/**
 * Whether a listing may be stored: complete, and either read from the whole blob and verified
 * against its digest, or taken from a TOC that hashed to the digest the manifest announces (then
 * `stats.toc` says so wherever it is shown, and it never replaces a listing of the tar stream).
 */
export function storable(stats: LayerStats): boolean {
  return stats.complete === true && (stats.verified === true || stats.toc?.checked === true);
}

/** Whether stored stats (JSON) are those of a TOC's listing; damaged ones are not. */
function fromToc(json: string): boolean {
  try {
    return (JSON.parse(json) as LayerStats).toc !== undefined;
  } catch {
    return false;
  }
}

/** A stored listing: its stats, and its entries part by part. */
export interface StoredListing {
  stats: LayerStats;
  /**
   * The entries, one part at a time. Returns false when the stored parts turned out damaged or
   * short (the listing is then deleted): the entries yielded so far are still right, but not all.
   */
  parts(): Generator<Entry[], boolean>;
}

export function readListing(use: UseDb, digest: string): StoredListing | undefined {
  return use(undefined, (db) => {
    const row = db.query("SELECT stats, entry_count, writer FROM listings WHERE digest = ?").get(digest) as { stats: string; entry_count: number; writer: string } | null;
    if (!row) return undefined;
    let stats: LayerStats | undefined;
    try {
      stats = JSON.parse(row.stats) as LayerStats;
    } catch {}
    const drop = () => use(undefined, (d) => void d.query("DELETE FROM listings WHERE digest = ?").run(digest));
    if (!stats || !storable(stats) || stats.digest !== digest || stats.entries !== row.entry_count) {
      drop();
      return undefined;
    }
    const writer = row.writer;
    const want = row.entry_count;
    function* parts(): Generator<Entry[], boolean> {
      let seen = 0;
      let expectSeq = 0;
      const rows = use(undefined, (d) => d.query("SELECT seq, data FROM listing_parts WHERE digest = ? AND writer = ? ORDER BY seq").iterate(digest, writer) as IterableIterator<{ seq: number; data: Uint8Array }>);
      if (!rows) return false;
      for (const part of rows) {
        const entries = part.seq === expectSeq++ ? decodeEntries(part.data) : undefined;
        if (!entries || seen + entries.length > want) {
          drop();
          return false;
        }
        seen += entries.length;
        yield entries;
      }
      if (seen !== want) {
        drop();
        return false;
      }
      return true;
    }
    return { stats, parts };
  });
}
