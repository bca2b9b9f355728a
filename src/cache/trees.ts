/**
 * Merged trees kept by key (image/tree-codec.ts makes the key and the bytes). A tree is derived
 * data: a row whose MAC does not check (its bytes or its key changed since it was written) is
 * dropped, never used. What the bytes mean is the codec's business; this module only keeps them
 * intact.
 */
import { now, type Rows } from "./rows.ts";

export const TREE_TABLES = `
CREATE TABLE trees (
  key TEXT PRIMARY KEY,
  data BLOB NOT NULL,
  mac BLOB NOT NULL,
  created INTEGER NOT NULL
) WITHOUT ROWID;
`;

const treeFields = (key: string, data: Uint8Array) => ["merged tree", key, data] as const;

export function readTree(rows: Rows, key: string): Uint8Array | undefined {
  return rows.use(undefined, (db) => {
    const row = db.query("SELECT data, mac FROM trees WHERE key = ?").get(key) as { data: Uint8Array; mac: Uint8Array } | null;
    if (!row) return undefined;
    const data = new Uint8Array(row.data);
    if (rows.seal.check(row.mac, ...treeFields(key, data))) return data;
    db.query("DELETE FROM trees WHERE key = ?").run(key);
    rows.dropped("a merged tree");
    return undefined;
  });
}

export function writeTree(rows: Rows, key: string, data: Uint8Array): boolean {
  const mac = rows.seal.mac(...treeFields(key, data));
  return rows.use(false, (db) => {
    db.query("INSERT OR REPLACE INTO trees (key, data, mac, created) VALUES (?, ?, ?, ?)").run(key, data, mac, now());
    return true;
  });
}
