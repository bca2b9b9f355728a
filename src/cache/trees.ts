/**
 * Merged trees kept by key (image/tree-codec.ts makes the key and the bytes): a tree is derived
 * data, so a row whose bytes no longer hash to the digest stored beside them is dropped, never
 * used. What the bytes mean is the codec's business; this module only keeps them intact.
 */
import { digestOf } from "../oci/digest.ts";
import type { UseDb } from "./listing-parts.ts";

export const TREE_TABLES = `
CREATE TABLE trees (
  key TEXT PRIMARY KEY,
  digest TEXT NOT NULL,
  data BLOB NOT NULL,
  created INTEGER NOT NULL
) WITHOUT ROWID;
`;

export function readTree(use: UseDb, key: string): Uint8Array | undefined {
  return use(undefined, (db) => {
    const row = db.query("SELECT digest, data FROM trees WHERE key = ?").get(key) as { digest: string; data: Uint8Array } | null;
    if (!row) return undefined;
    const data = new Uint8Array(row.data);
    if (digestOf(data) === row.digest) return data;
    db.query("DELETE FROM trees WHERE key = ?").run(key);
    return undefined;
  });
}

export function writeTree(use: UseDb, key: string, data: Uint8Array): boolean {
  return use(false, (db) => {
    db.query("INSERT OR REPLACE INTO trees (key, digest, data, created) VALUES (?, ?, ?, ?)").run(key, digestOf(data), data, Math.floor(Date.now() / 1000));
    return true;
  });
}
