/**
 * The SQLite cache's tables, and bringing a database file to them: a new file gets them, one of
 * another schema version of ours is emptied and recreated, one written with another key (see
 * seal.ts) is emptied, and one with tables but without our application id is left alone.
 */
import type { Database } from "bun:sqlite";
import { BLOB_TABLES } from "./blobs.ts";
import { LAYER_INDEX_TABLES } from "./layer-index.ts";
import { LISTING_TABLES } from "./listing-parts.ts";
import { ForeignDatabase } from "./problems.ts";
import { sameMac, type Seal } from "./seal.ts";
import { TREE_TABLES } from "./trees.ts";

/**
 * Bump when the tables or what is stored in them change: a database with another version is emptied
 * and recreated. 5: every row sealed with the cache's key. 6: a TOC's listing is no longer
 * "verified", so merged trees of earlier versions may rest on TOC listings.
 */
export const SCHEMA_VERSION = 6;
/** `PRAGMA application_id` of our files ("LSLY"): a database without it that has tables is someone else's. */
export const APPLICATION_ID = 0x4c534c59;

/** The tables that hold cached data (emptied by `cache clear` and by a change of key). */
export const DATA_TABLES = ["listings", "listing_parts", "blobs", "layer_index", "trees"] as const;

const TABLES = `${LISTING_TABLES}${LAYER_INDEX_TABLES}${TREE_TABLES}${BLOB_TABLES}
CREATE TABLE meta (
  name TEXT PRIMARY KEY,
  value BLOB NOT NULL
) WITHOUT ROWID;
`;

export function migrate(db: Database, seal: Seal): void {
  const check = seal.keyCheck();
  const current = () => {
    const v = db.query("PRAGMA user_version").get() as { user_version: number };
    const a = db.query("PRAGMA application_id").get() as { application_id: number };
    return { version: v.user_version, appId: a.application_id };
  };
  const ours = (c: { version: number; appId: number }) => c.version === SCHEMA_VERSION && c.appId === APPLICATION_ID;
  const keyed = () => sameMac((db.query("SELECT value FROM meta WHERE name = 'key'").get() as { value: unknown } | null)?.value, check);
  if (ours(current()) && keyed()) return;
  db.transaction(() => {
    // Another process may have done it while this one waited for the write lock.
    const c = current();
    if (!ours(c)) {
      const tables = db.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as { name: string }[];
      if (c.appId !== APPLICATION_ID && tables.length > 0) throw new ForeignDatabase("it holds other tables; it was left untouched");
      for (const t of tables) db.exec(`DROP TABLE "${t.name.replaceAll('"', '""')}"`);
      db.exec(TABLES);
      db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
      db.exec(`PRAGMA application_id = ${APPLICATION_ID}`);
    } else if (keyed()) return;
    // Rows written with another key (the key file was replaced or lost, or the database came without it) can never check: drop them.
    for (const t of DATA_TABLES) db.exec(`DELETE FROM ${t}`);
    db.query("INSERT OR REPLACE INTO meta (name, value) VALUES ('key', ?)").run(check);
  }).immediate();
}
