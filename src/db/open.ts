/**
 * Which database: `--db` (or LAYERSLAYER_DB) as a postgres:// or postgresql:// URL → PostgreSQL;
 * as a file path → SQLite there; nothing → SQLite in the cache directory.
 */
import { join } from "node:path";
import { defaultCacheDir } from "../cache/paths.ts";
import { LayerslayerError } from "../errors.ts";
import type { ScanDatabase } from "./database.ts";

export const DATABASE_FILE = "database.sqlite";

export function databaseLocation(flag: string | undefined, env: Record<string, string | undefined> = process.env): { kind: "sqlite" | "postgres"; target: string } {
  const given = flag ?? env.LAYERSLAYER_DB;
  if (given === undefined || given === "") {
    const dir = defaultCacheDir(env);
    if (!dir) throw new LayerslayerError("USAGE", "no home directory (HOME is unset and this user has no passwd entry): give the database with --db or LAYERSLAYER_DB");
    return { kind: "sqlite", target: join(dir, DATABASE_FILE) };
  }
  if (/^postgres(ql)?:\/\//i.test(given)) return { kind: "postgres", target: given };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(given)) throw new LayerslayerError("USAGE", `--db: expected a postgres:// URL or a file path, not ${given.split(":")[0]}://…`);
  return { kind: "sqlite", target: given.replace(/^sqlite:/, "") };
}

/** Opens the database (loading only the implementation it needs). */
export async function openDatabase(flag: string | undefined, env: Record<string, string | undefined> = process.env): Promise<ScanDatabase> {
  const { kind, target } = databaseLocation(flag, env);
  if (kind === "postgres") {
    const { PostgresDatabase } = await import("./postgres.ts");
    return new PostgresDatabase(target);
  }
  const { SqliteDatabase } = await import("./sqlite.ts");
  return new SqliteDatabase(target);
}
