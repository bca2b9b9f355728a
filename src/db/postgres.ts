/**
 * The database on a PostgreSQL server (Bun's built-in SQL client), for many scanning workers on
 * many machines at once. Safe under concurrency: names and directories are interned with
 * INSERT … ON CONFLICT DO NOTHING in sorted order (no deadlock between writers of overlapping
 * sets), a layer is rewritten only under a row lock and only when the new listing is better, an
 * image is upserted by (reference, platform), migrations run under an advisory lock.
 */
import { SQL } from "bun";
import { LayerslayerError, printable } from "../errors.ts";
import type { Entry, LayerStats } from "../types.ts";
import { improves, type Candidates, type FailureRecord, type HitRow, type ImageRecord, type ImageSummary, type LayerState, type ScanDatabase } from "./database.ts";
import { entryHitsSql, IMAGES_SQL, removalHitsSql } from "./queries.ts";
import { changeRows, distinctParts, entryFromRow, entryRows, hitFromRow, imageFromRow, LAYER_STATE_COLUMNS, layerStateFromRow, type PathParts } from "./rows.ts";
import { MIGRATIONS_TABLE, pending } from "./schema.ts";

/** pg_advisory_xact_lock key for migrations ("LSLY"). */
const MIGRATION_LOCK = 0x4c534c59;
/** Rows per INSERT statement. */
const BATCH = 2000;
/** Retries of a transaction PostgreSQL aborted as a deadlock or serialization failure. */
const MAX_RETRIES = 5;

type Tx = InstanceType<typeof SQL>;

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "postgres://…";
  }
}

function dbError(e: unknown, location: string): LayerslayerError {
  if (e instanceof LayerslayerError) return e;
  const err = e as { code?: string; errno?: string; message?: string };
  const msg = (err.message ?? String(e)).split("\n")[0]!;
  const network = /ECONNREFUSED|ENOTFOUND|ETIMEDOUT|connection|closed/i.test(`${err.code ?? ""} ${msg}`);
  return new LayerslayerError(network ? "NETWORK" : "IO", `the database ${location}: ${msg}`, { cause: e });
}

function chunks<T>(rows: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += BATCH) out.push(rows.slice(i, i + BATCH));
  return out;
}

export class PostgresDatabase implements ScanDatabase {
  readonly location: string;
  private readonly sql: SQL;
  private readonly nameIds = new Map<string, number>();
  private readonly dirIds = new Map<string, number>();
  private ready: Promise<void> | undefined;

  constructor(url: string) {
    this.location = redactUrl(url);
    try {
      this.sql = new SQL(url, { max: 4 });
    } catch (e) {
      // The client refuses what it cannot use (an unknown sslmode, a bad option): the user's URL.
      const why = printable(
        String((e as Error)?.message ?? e)
          .split("\n")[0]!
          .slice(0, 200),
      );
      throw new LayerslayerError("USAGE", `the database URL cannot be used: ${why}`);
    }
  }

  /** Runs `fn` once the schema is in place, turning driver errors into one-line database errors. */
  private async use<T>(fn: () => Promise<T>): Promise<T> {
    try {
      this.ready ??= this.migrate();
      await this.ready;
      return await fn();
    } catch (e) {
      throw dbError(e, this.location);
    }
  }

  private async migrate(): Promise<void> {
    await this.sql.begin(async (tx) => {
      await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`;
      await tx.unsafe(MIGRATIONS_TABLE);
      const applied = (await tx`SELECT version FROM schema_migrations`) as { version: number }[];
      for (const m of pending(applied.map((r) => r.version))) {
        await tx.unsafe(m.postgres);
        await tx`INSERT INTO schema_migrations (version) VALUES (${m.version})`;
      }
    });
  }

  /** A transaction, retried when PostgreSQL chose it as a deadlock victim. */
  private async transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return (await this.sql.begin(fn as (tx: any) => Promise<T>)) as T;
      } catch (e) {
        const code = (e as { errno?: string; code?: string }).errno ?? (e as { code?: string }).code;
        if (attempt < MAX_RETRIES && (code === "40P01" || code === "40001")) continue;
        throw e;
      }
    }
  }

  /** Ids for strings of a table, inserting the missing ones (committed on their own: they are never deleted). */
  private async intern(table: "names" | "dirs", values: readonly string[]): Promise<Map<string, number>> {
    const cache = table === "names" ? this.nameIds : this.dirIds;
    const missing = values.filter((v) => !cache.has(v));
    for (const part of chunks(missing)) {
      if (table === "names") {
        await this.sql`INSERT INTO names (name) SELECT unnest(${part}::text[]) ON CONFLICT DO NOTHING`;
        const rows = (await this.sql`SELECT id, name FROM names WHERE name = ANY(${part}::text[])`.values()) as [number, string][];
        for (const [id, v] of rows) cache.set(v, id);
      } else {
        await this.sql`INSERT INTO dirs (path) SELECT unnest(${part}::text[]) ON CONFLICT DO NOTHING`;
        const rows = (await this.sql`SELECT id, path FROM dirs WHERE path = ANY(${part}::text[])`.values()) as [number, string][];
        for (const [id, v] of rows) cache.set(v, id);
      }
    }
    return cache;
  }

  private async ids(rows: readonly PathParts[]): Promise<{ dir: Map<string, number>; name: Map<string, number> }> {
    const { dirs, names } = distinctParts(rows);
    return { dir: await this.intern("dirs", dirs), name: await this.intern("names", names) };
  }

  layerStates(digests: readonly string[]): Promise<Map<string, LayerState>> {
    return this.use(async () => {
      const rows = (await this.sql.unsafe(`SELECT ${LAYER_STATE_COLUMNS} FROM layers WHERE digest = ANY($1::text[])`, [[...digests]])) as Record<string, unknown>[];
      return new Map(rows.map((r) => [String(r.digest), layerStateFromRow(r)]));
    });
  }

  putLayer(stats: LayerStats, entries: readonly Entry[], error?: string): Promise<boolean> {
    return this.use(async () => {
      const rows = entryRows(entries);
      const ids = await this.ids(rows);
      return this.transaction(async (tx) => {
        // The row exists (maybe empty) before it is locked, so concurrent writers of one layer queue on it.
        await tx`INSERT INTO layers (digest, media_type, size, complete, bytes_downloaded, bytes_decompressed, entry_count)
                 VALUES (${stats.digest}, ${stats.mediaType}, ${stats.layerSize}, 0, -1, 0, 0) ON CONFLICT (digest) DO NOTHING`;
        const [prev] = (await tx.unsafe(`SELECT id, ${LAYER_STATE_COLUMNS} FROM layers WHERE digest = $1 FOR UPDATE`, [stats.digest])) as Record<string, unknown>[];
        // bytes_downloaded -1: the placeholder row just inserted, nothing recorded yet.
        const prevState = Number(prev!.bytes_downloaded) < 0 ? undefined : layerStateFromRow(prev!);
        const toc = stats.toc?.format;
        if (prevState && !improves(prevState, { complete: stats.complete, bytesDownloaded: stats.bytesDownloaded, failed: error !== undefined, ...(toc ? { toc } : {}) }))
          return false;
        const layerId = Number(prev!.id);
        await tx`DELETE FROM entries WHERE layer_id = ${layerId}`;
        await tx`UPDATE layers SET media_type = ${stats.mediaType}, size = ${stats.layerSize}, complete = ${stats.complete ? 1 : 0},
                   bytes_downloaded = ${stats.bytesDownloaded}, bytes_decompressed = ${stats.bytesDecompressed}, entry_count = ${entries.length}, error = ${error ?? null},
                   toc = ${toc ?? null}
                 WHERE id = ${layerId}`;
        for (const part of chunks(rows)) {
          const values = part.map((r) => ({
            layer_id: layerId,
            seq: r.seq,
            dir_id: ids.dir.get(r.dir)!,
            name_id: ids.name.get(r.name)!,
            type: r.type,
            mode: r.mode,
            size: r.size,
            uid: r.uid,
            gid: r.gid,
            mtime: r.mtime,
            linkname: r.linkname,
          }));
          await tx`INSERT INTO entries ${tx(values)}`;
        }
        return true;
      });
    });
  }

  layerEntries(digest: string): Promise<Entry[]> {
    return this.use(async () => {
      const rows = (await this.sql`SELECT d.path AS dir, n.name, e.type, e.mode, e.size, e.uid, e.gid, e.mtime, e.linkname
        FROM entries e JOIN layers l ON l.id = e.layer_id JOIN dirs d ON d.id = e.dir_id JOIN names n ON n.id = e.name_id
        WHERE l.digest = ${digest} ORDER BY e.seq`) as Parameters<typeof entryFromRow>[0][];
      return rows.map(entryFromRow);
    });
  }

  putImage(image: ImageRecord): Promise<void> {
    return this.use(async () => {
      const changes = changeRows(image.changes);
      const ids = await this.ids(changes);
      await this.transaction(async (tx) => {
        await tx`INSERT INTO configs (digest, bytes) VALUES (${image.configDigest}, ${image.configBytes}) ON CONFLICT DO NOTHING`;
        const [row] = (await tx`INSERT INTO images (reference, platform, index_digest, manifest_digest, config_digest, error_code, error)
          VALUES (${image.reference}, ${image.platform}, ${image.indexDigest ?? null}, ${image.manifestDigest}, ${image.configDigest}, NULL, NULL)
          ON CONFLICT (reference, platform) DO UPDATE SET index_digest = excluded.index_digest, manifest_digest = excluded.manifest_digest,
            config_digest = excluded.config_digest, error_code = NULL, error = NULL
          RETURNING id`) as { id: number }[];
        const id = Number(row!.id);
        await tx`DELETE FROM image_layers WHERE image_id = ${id}`;
        await tx`DELETE FROM changes WHERE image_id = ${id}`;
        const layerRows = (await tx`SELECT id, digest FROM layers WHERE digest = ANY(${image.layers}::text[])`) as { id: number; digest: string }[];
        const layerIds = new Map(layerRows.map((r) => [r.digest, Number(r.id)]));
        const links = image.layers.map((digest, position) => {
          const layerId = layerIds.get(digest);
          if (layerId === undefined) throw new LayerslayerError("IO", `the database has no layer ${digest} for ${image.reference}`);
          return { image_id: id, position, layer_id: layerId };
        });
        if (links.length) await tx`INSERT INTO image_layers ${tx(links)}`;
        for (const part of chunks(changes)) {
          const values = part.map((c) => ({
            image_id: id,
            position: c.position,
            dir_id: ids.dir.get(c.dir)!,
            name_id: ids.name.get(c.name)!,
            action: c.action,
            fate: c.fate,
            fate_position: c.fatePosition,
            type: c.type,
            mode: c.mode,
            size: c.size,
          }));
          await tx`INSERT INTO changes ${tx(values)} ON CONFLICT DO NOTHING`;
        }
      });
    });
  }

  putFailure(f: FailureRecord): Promise<void> {
    return this.use(async () => {
      await this.sql`INSERT INTO images (reference, platform, error_code, error) VALUES (${f.reference}, ${f.platform}, ${f.code}, ${f.message})
        ON CONFLICT (reference, platform) DO UPDATE SET error_code = excluded.error_code, error = excluded.error`;
    });
  }

  directories(): Promise<Map<number, string>> {
    return this.use(async () => new Map(((await this.sql`SELECT id, path FROM dirs`.values()) as [number, string][]).map(([id, p]) => [Number(id), p])));
  }

  names(): Promise<Map<number, string>> {
    return this.use(async () => new Map(((await this.sql`SELECT id, name FROM names`.values()) as [number, string][]).map(([id, n]) => [Number(id), n])));
  }

  namesContaining(text: string): Promise<number[]> {
    return this.use(async () => ((await this.sql`SELECT id FROM names WHERE strpos(name, ${text}) > 0`.values()) as [number][]).map((r) => Number(r[0])));
  }

  dirsContaining(text: string): Promise<number[]> {
    return this.use(async () => ((await this.sql`SELECT id FROM dirs WHERE strpos('/' || path, ${text}) > 0`.values()) as [number][]).map((r) => Number(r[0])));
  }

  paths(): Promise<[number, number][]> {
    return this.use(async () => ((await this.sql`SELECT DISTINCT dir_id, name_id FROM entries`.values()) as [number, number][]).map(([d, n]) => [Number(d), Number(n)]));
  }

  hits(c: Candidates): Promise<HitRow[]> {
    return this.use(async () => {
      const ids = (n: number) => `SELECT unnest($${n}::int[])`;
      const params = [c.dirs, c.names, c.splitDirs, c.splitNames];
      const rows = [
        ...((await this.sql.unsafe(entryHitsSql(ids), params)) as Record<string, unknown>[]),
        ...((await this.sql.unsafe(removalHitsSql(ids), params)) as Record<string, unknown>[]),
      ];
      return rows.map(hitFromRow);
    });
  }

  images(): Promise<ImageSummary[]> {
    return this.use(async () => ((await this.sql.unsafe(IMAGES_SQL)) as Record<string, unknown>[]).map(imageFromRow));
  }

  async close(): Promise<void> {
    await this.sql.close();
  }
}
