/**
 * Listings stored in parts, so that neither writing nor reading one holds all its entries decoded: a
 * writer sends a part of PART_ENTRIES entries to the database as soon as it has them, under its
 * own writer id; only `finish` with complete stats (one transaction) makes them a listing, by
 * pointing the listing's row at that writer's parts. A reader takes the row and its parts in one
 * read transaction, a consistent snapshot even while another process replaces or clears the listing.
 *
 * Parts of a writer that never finished (an error, a crash) are removed by `abort`, or later by
 * any finish of the same digest once they are an hour old (a concurrent writer's are younger).
 */
import type { Entry, LayerStats } from "../types.ts";
import type { ListingWriter, StoredListing } from "./cache.ts";
import { decodeEntries, encodeEntries, entriesLookValid } from "./listing-codec.ts";
import { now, type Rows } from "./rows.ts";

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
  mac BLOB NOT NULL,
  created INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE listing_parts (
  digest TEXT NOT NULL,
  writer TEXT NOT NULL,
  seq INTEGER NOT NULL,
  data BLOB NOT NULL,
  mac BLOB NOT NULL,
  created INTEGER NOT NULL,
  PRIMARY KEY (digest, writer, seq)
) WITHOUT ROWID;
`;

/** The MAC of a part binds its bytes to its listing, its writer and its place. */
const partFields = (digest: string, writer: string, seq: number, data: Uint8Array) => ["listing part", digest, writer, seq, data] as const;
/** The MAC of a listing's row binds its stats and entry count to the layer and to the writer whose parts it names. */
const listingFields = (digest: string, writer: string, stats: string, count: number) => ["listing", digest, writer, stats, count] as const;

export class PartWriter implements ListingWriter {
  private readonly writer = `${process.pid}-${crypto.randomUUID()}`;
  private batch: Entry[] = [];
  private seq = 0;
  private count = 0;
  private failed = false;

  constructor(
    private readonly rows: Rows,
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
    const mac = this.rows.seal.mac(...partFields(this.digest, this.writer, seq, data));
    const ok = this.rows.use(false, (db) => {
      db.query("INSERT INTO listing_parts (digest, writer, seq, data, mac, created) VALUES (?, ?, ?, ?, ?, ?)").run(this.digest, this.writer, seq, data, mac, now());
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
    const json = JSON.stringify({ ...stats });
    const mac = this.rows.seal.mac(...listingFields(this.digest, this.writer, json, this.count));
    const stored = this.rows.use(false, (db) =>
      db
        .transaction(() => {
          const old = db.query("SELECT writer, stats FROM listings WHERE digest = ?").get(this.digest) as { writer: string; stats: string } | null;
          // What a TOC declares never replaces a listing of the tar stream itself.
          if (old && stats.toc && !fromToc(old.stats)) {
            db.query("DELETE FROM listing_parts WHERE digest = ? AND writer = ?").run(this.digest, this.writer);
            return false;
          }
          if (old) db.query("DELETE FROM listing_parts WHERE digest = ? AND writer = ?").run(this.digest, old.writer);
          db.query("DELETE FROM listing_parts WHERE digest = ? AND writer <> ? AND created < ?").run(this.digest, this.writer, now() - STALE_PARTS_SECONDS);
          db.query("INSERT OR REPLACE INTO listings (digest, stats, entry_count, writer, mac, created) VALUES (?, ?, ?, ?, ?, ?)").run(
            this.digest,
            json,
            this.count,
            this.writer,
            mac,
            now(),
          );
          return true;
        })
        .immediate(),
    );
    // The pages SQLite cached while the parts went in are not what a listing's reader needs next
    // (a merged tree is built from the entries in memory): given back, 1-5 MiB off the peak of
    // `ls -R` of 1,000,000 entries into an empty cache (156-161 → 156-158 MiB, load 10-15).
    this.rows.use(undefined, (db) => db.exec("PRAGMA shrink_memory"));
    return stored;
  }

  abort(): void {
    this.batch = [];
    this.failed = true;
    if (this.seq === 0) return;
    this.rows.use(undefined, (db) => {
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

/**
 * A listing as one snapshot: its row and the compressed bytes of all its parts, read in one read
 * transaction, so that a `cache clear` or another writer in another process cannot take parts away
 * between reading the row and reading the parts. Every MAC is checked before anything is returned:
 * a listing whose row or parts were altered, or whose parts do not match its row, is dropped and
 * reported absent, so the caller reads the layer again. Parts are decoded one at a time as they
 * are iterated (held compressed meanwhile, a few bytes an entry, like packed-entries.ts).
 */
export function readListing(rows: Rows, digest: string): StoredListing | undefined {
  const snapshot = rows.use(undefined, (db) =>
    db.transaction(() => {
      const row = db.query("SELECT stats, entry_count, writer, mac FROM listings WHERE digest = ?").get(digest) as {
        stats: string;
        entry_count: number;
        writer: string;
        mac: Uint8Array;
      } | null;
      if (!row) return undefined;
      const parts = db.query("SELECT seq, data, mac FROM listing_parts WHERE digest = ? AND writer = ? ORDER BY seq").all(digest, row.writer) as {
        seq: number;
        data: Uint8Array;
        mac: Uint8Array;
      }[];
      return { row, parts };
    })(),
  );
  if (!snapshot) return undefined;
  const { row, parts: stored } = snapshot;
  // Only this writer's listing and parts: another process may have stored a new one meanwhile.
  const drop = () =>
    rows.use(undefined, (d) =>
      d.transaction(() => {
        d.query("DELETE FROM listings WHERE digest = ? AND writer = ?").run(digest, row.writer);
        d.query("DELETE FROM listing_parts WHERE digest = ? AND writer = ?").run(digest, row.writer);
      })(),
    );
  const sealed =
    rows.seal.check(row.mac, ...listingFields(digest, row.writer, row.stats, row.entry_count)) &&
    stored.every((p, i) => p.seq === i && rows.seal.check(p.mac, ...partFields(digest, row.writer, p.seq, p.data))) &&
    stored.length > 0 === row.entry_count > 0;
  let stats: LayerStats | undefined;
  try {
    stats = JSON.parse(row.stats) as LayerStats;
  } catch {}
  if (!sealed || !stats || !storable(stats) || stats.digest !== digest || stats.entries !== row.entry_count) {
    drop();
    rows.dropped(`the listing of ${digest}`);
    return undefined;
  }
  const want = row.entry_count;
  function* parts(): Generator<Entry[], boolean> {
    let seen = 0;
    for (const part of stored) {
      const entries = decodeEntries(part.data);
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
}
