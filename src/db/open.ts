/**
 * Which database: `--db` (or LAYERSLAYER_DB) as a postgres:// or postgresql:// URL → PostgreSQL;
 * as a file path → SQLite there; nothing → SQLite in the cache directory.
 */
import { join } from "node:path";
import { defaultCacheDir } from "../cache/paths.ts";
import { LayerslayerError } from "../errors.ts";
import { escapeName } from "../names.ts";
import type { ScanDatabase } from "./database.ts";

export const DATABASE_FILE = "database.sqlite";

export function databaseLocation(flag: string | undefined, env: Record<string, string | undefined> = process.env): { kind: "sqlite" | "postgres"; target: string } {
  const given = flag ?? env.LAYERSLAYER_DB;
  const label = flag !== undefined ? "--db" : "LAYERSLAYER_DB";
  if (given === undefined || given === "") {
    const dir = defaultCacheDir(env);
    if (!dir) throw new LayerslayerError("USAGE", "no home directory (HOME is unset and this user has no passwd entry): give the database with --db or LAYERSLAYER_DB");
    return { kind: "sqlite", target: join(dir, DATABASE_FILE) };
  }
  if (/^postgres(ql)?:\/\//i.test(given)) return { kind: "postgres", target: checkPostgresUrl(given, label) };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(given))
    throw new LayerslayerError("USAGE", `${label}: expected a postgres:// URL or a file path, not ${escapeName(given.split(":")[0]!)}://…`);
  const file = given.replace(/^sqlite:/, "");
  if (file === "") throw new LayerslayerError("USAGE", `${label}: sqlite: needs a file path after it`);
  return { kind: "sqlite", target: file };
}

/** The shape of a PostgreSQL URL, for messages that must not repeat the one given (it may hold a password). */
const POSTGRES_FORM = "postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE";

/**
 * A PostgreSQL URL that parses, with a port in range and a user and password that decode: anything
 * else is a usage error, one line, that never repeats the URL (it may hold a password).
 */
function checkPostgresUrl(given: string, label: string): string {
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    throw new LayerslayerError("USAGE", `${label}: not a valid PostgreSQL URL (expected ${POSTGRES_FORM})`);
  }
  try {
    decodeURIComponent(url.username);
    decodeURIComponent(url.password);
    decodeURIComponent(url.pathname);
  } catch {
    throw new LayerslayerError("USAGE", `${label}: the PostgreSQL URL has a bad %-escape in its user, password or database name (expected ${POSTGRES_FORM})`);
  }
  return given;
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
