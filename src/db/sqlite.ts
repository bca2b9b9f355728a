/**
 * The database in one SQLite file (bun:sqlite), the default: in the cache directory unless
 * `--db` names another file. WAL mode and a busy timeout let several processes share it; every
 * write is one transaction.
 */
import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { LayerslayerError } from "../errors.ts";
import type { Entry, LayerStats } from "../types.ts";
import { improves, type Candidates, type FailureRecord, type HitRow, type ImageRecord, type ImageSummary, type LayerState, type ScanDatabase } from "./database.ts";
import { entryHitsSql, IMAGES_SQL, removalHitsSql } from "./queries.ts";
import { changeRows, distinctParts, entryFromRow, entryRows, hitFromRow, imageFromRow, LAYER_STATE_COLUMNS, layerStateFromRow, type PathParts } from "./rows.ts";
import { MIGRATIONS_TABLE, pending } from "./schema.ts";

const BUSY_TIMEOUT_MS = 30_000;

export class SqliteDatabase implements ScanDatabase {
  readonly location: string;
  private readonly db: Database;
  /** Ids already known in this process (names and directories are never deleted). */
  private readonly nameIds = new Map<string, number>();
  private readonly dirIds = new Map<string, number>();

  constructor(path: string) {
    this.location = `sqlite:${path}`;
    try {
      if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
      this.db = new Database(path, { create: true, readwrite: true, strict: true });
      this.db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
      this.db.query("PRAGMA journal_mode = WAL").get();
      this.db.exec("PRAGMA synchronous = NORMAL");
      this.migrate();
    } catch (e) {
      if (e instanceof LayerslayerError) throw e;
      throw new LayerslayerError("IO", `the database ${path} cannot be used: ${(e as Error).message}`);
    }
  }

  private migrate(): void {
    this.db
      .transaction(() => {
        this.db.exec(MIGRATIONS_TABLE);
        const applied = (this.db.query("SELECT version FROM schema_migrations").all() as { version: number }[]).map((r) => r.version);
        for (const m of pending(applied)) {
          this.db.exec(m.sqlite);
          this.db.query("INSERT INTO schema_migrations (version) VALUES (?)").run(m.version);
        }
      })
      .immediate();
  }

  /** Ids for strings of a table, inserting the missing ones. */
  private intern(table: "names" | "dirs", values: readonly string[]): Map<string, number> {
    const cache = table === "names" ? this.nameIds : this.dirIds;
    const col = table === "names" ? "name" : "path";
    const insert = this.db.query(`INSERT INTO ${table} (${col}) VALUES (?) ON CONFLICT DO NOTHING`);
    const select = this.db.query(`SELECT id FROM ${table} WHERE ${col} = ?`);
    for (const v of values) {
      if (cache.has(v)) continue;
      insert.run(v);
      cache.set(v, (select.get(v) as { id: number }).id);
    }
    return cache;
  }

  private ids(rows: readonly PathParts[]): { dir: Map<string, number>; name: Map<string, number> } {
    const { dirs, names } = distinctParts(rows);
    return { dir: this.intern("dirs", dirs), name: this.intern("names", names) };
  }

  async layerStates(digests: readonly string[]): Promise<Map<string, LayerState>> {
    const out = new Map<string, LayerState>();
    const q = this.db.query(`SELECT ${LAYER_STATE_COLUMNS} FROM layers WHERE digest = ?`);
    for (const d of digests) {
      const r = q.get(d) as Record<string, unknown> | null;
      if (r) out.set(d, layerStateFromRow(r));
    }
    return out;
  }

  async putLayer(stats: LayerStats, entries: readonly Entry[], error?: string): Promise<boolean> {
    const rows = entryRows(entries);
    return this.db
      .transaction(() => {
        const prev = this.db.query(`SELECT id, ${LAYER_STATE_COLUMNS} FROM layers WHERE digest = ?`).get(stats.digest) as (Record<string, unknown> & { id: number }) | null;
        const toc = stats.toc?.format;
        if (prev && !improves(layerStateFromRow(prev), { complete: stats.complete, bytesDownloaded: stats.bytesDownloaded, failed: error !== undefined, ...(toc ? { toc } : {}) }))
          return false;
        const ids = this.ids(rows);
        const values = [
          stats.mediaType,
          stats.layerSize,
          stats.complete ? 1 : 0,
          stats.bytesDownloaded,
          stats.bytesDecompressed,
          entries.length,
          error ?? null,
          toc ?? null,
        ] as const;
        let layerId: number;
        if (prev) {
          layerId = prev.id;
          this.db.query("DELETE FROM entries WHERE layer_id = ?").run(layerId);
          this.db
            .query("UPDATE layers SET media_type = ?, size = ?, complete = ?, bytes_downloaded = ?, bytes_decompressed = ?, entry_count = ?, error = ?, toc = ? WHERE id = ?")
            .run(...values, layerId);
        } else {
          const r = this.db
            .query(
              "INSERT INTO layers (digest, media_type, size, complete, bytes_downloaded, bytes_decompressed, entry_count, error, toc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            )
            .get(stats.digest, ...values) as { id: number };
          layerId = r.id;
        }
        const ins = this.db.query("INSERT INTO entries (layer_id, seq, dir_id, name_id, type, mode, size, uid, gid, mtime, linkname) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        for (const r of rows) ins.run(layerId, r.seq, ids.dir.get(r.dir)!, ids.name.get(r.name)!, r.type, r.mode, r.size, r.uid, r.gid, r.mtime, r.linkname);
        return true;
      })
      .immediate();
  }

  async layerEntries(digest: string): Promise<Entry[]> {
    const rows = this.db
      .query(
        `SELECT d.path AS dir, n.name, e.type, e.mode, e.size, e.uid, e.gid, e.mtime, e.linkname
         FROM entries e JOIN layers l ON l.id = e.layer_id JOIN dirs d ON d.id = e.dir_id JOIN names n ON n.id = e.name_id
         WHERE l.digest = ? ORDER BY e.seq`,
      )
      .all(digest) as Parameters<typeof entryFromRow>[0][];
    return rows.map(entryFromRow);
  }

  async putImage(image: ImageRecord): Promise<void> {
    const changes = changeRows(image.changes);
    this.db
      .transaction(() => {
        const ids = this.ids(changes);
        this.db.query("INSERT INTO configs (digest, bytes) VALUES (?, ?) ON CONFLICT DO NOTHING").run(image.configDigest, image.configBytes);
        const { id } = this.db
          .query(
            `INSERT INTO images (reference, platform, index_digest, manifest_digest, config_digest, error_code, error) VALUES (?, ?, ?, ?, ?, NULL, NULL)
           ON CONFLICT (reference, platform) DO UPDATE SET index_digest = excluded.index_digest, manifest_digest = excluded.manifest_digest,
             config_digest = excluded.config_digest, error_code = NULL, error = NULL
           RETURNING id`,
          )
          .get(image.reference, image.platform, image.indexDigest ?? null, image.manifestDigest, image.configDigest) as { id: number };
        this.db.query("DELETE FROM image_layers WHERE image_id = ?").run(id);
        this.db.query("DELETE FROM changes WHERE image_id = ?").run(id);
        const layer = this.db.query("SELECT id FROM layers WHERE digest = ?");
        const insLayer = this.db.query("INSERT INTO image_layers (image_id, position, layer_id) VALUES (?, ?, ?)");
        image.layers.forEach((digest, position) => {
          const row = layer.get(digest) as { id: number } | null;
          if (!row) throw new LayerslayerError("IO", `the database has no layer ${digest} for ${image.reference}`);
          insLayer.run(id, position, row.id);
        });
        const insChange = this.db.query(
          "INSERT INTO changes (image_id, position, dir_id, name_id, action, fate, fate_position, type, mode, size) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        );
        for (const c of changes) insChange.run(id, c.position, ids.dir.get(c.dir)!, ids.name.get(c.name)!, c.action, c.fate, c.fatePosition, c.type, c.mode, c.size);
      })
      .immediate();
  }

  async putFailure(f: FailureRecord): Promise<void> {
    this.db
      .query(
        `INSERT INTO images (reference, platform, error_code, error) VALUES (?, ?, ?, ?)
         ON CONFLICT (reference, platform) DO UPDATE SET error_code = excluded.error_code, error = excluded.error`,
      )
      .run(f.reference, f.platform, f.code, f.message);
  }

  async directories(): Promise<Map<number, string>> {
    return new Map(this.db.query("SELECT id, path FROM dirs").values() as [number, string][]);
  }

  async names(): Promise<Map<number, string>> {
    return new Map(this.db.query("SELECT id, name FROM names").values() as [number, string][]);
  }

  async namesContaining(text: string): Promise<number[]> {
    return (this.db.query("SELECT id FROM names WHERE instr(name, ?) > 0").values(text) as [number][]).map((r) => r[0]);
  }

  async dirsContaining(text: string): Promise<number[]> {
    return (this.db.query("SELECT id FROM dirs WHERE instr('/' || path, ?) > 0").values(text) as [number][]).map((r) => r[0]);
  }

  async paths(): Promise<[number, number][]> {
    return this.db.query("SELECT DISTINCT dir_id, name_id FROM entries").values() as [number, number][];
  }

  async hits(c: Candidates): Promise<HitRow[]> {
    const ids = (n: number) => `SELECT value FROM json_each(?${n})`;
    const params = [c.dirs, c.names, c.splitDirs, c.splitNames].map((a) => JSON.stringify(a));
    const rows = [
      ...(this.db.query(entryHitsSql(ids)).all(...params) as Record<string, unknown>[]),
      ...(this.db.query(removalHitsSql(ids)).all(...params) as Record<string, unknown>[]),
    ];
    return rows.map(hitFromRow);
  }

  async images(): Promise<ImageSummary[]> {
    return (this.db.query(IMAGES_SQL).all() as Record<string, unknown>[]).map(imageFromRow);
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
