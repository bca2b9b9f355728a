/**
 * Manifests and configs by digest. The bytes prove themselves (they must hash to the digest they
 * are kept under); the MAC binds the media type to them as well.
 */
import { digestAlgorithm, digestOf } from "../oci/digest.ts";
import type { CachedBlob } from "./cache.ts";
import { now, type Rows } from "./rows.ts";
import { sameMac } from "./seal.ts";

export const BLOB_TABLES = `
CREATE TABLE blobs (
  digest TEXT PRIMARY KEY,
  media_type TEXT NOT NULL,
  bytes BLOB NOT NULL,
  mac BLOB NOT NULL,
  created INTEGER NOT NULL
) WITHOUT ROWID;
`;

function verified(digest: string, bytes: Uint8Array): boolean {
  try {
    return digestOf(bytes, digestAlgorithm(digest)) === digest;
  } catch {
    return false;
  }
}

const blobFields = (digest: string, mediaType: string, bytes: Uint8Array) => ["blob", digest, mediaType, bytes] as const;

export function readBlob(rows: Rows, digest: string): CachedBlob | undefined {
  return rows.use(undefined, (db) => {
    const row = db.query("SELECT media_type, bytes, mac FROM blobs WHERE digest = ?").get(digest) as { media_type: string; bytes: Uint8Array; mac: Uint8Array } | null;
    if (!row) return undefined;
    const bytes = new Uint8Array(row.bytes);
    if (!verified(digest, bytes) || !rows.seal.check(row.mac, ...blobFields(digest, row.media_type, bytes))) {
      db.query("DELETE FROM blobs WHERE digest = ?").run(digest);
      rows.dropped(`the manifest or config ${digest}`);
      return undefined;
    }
    return { mediaType: row.media_type, bytes };
  });
}

export function writeBlob(rows: Rows, digest: string, mediaType: string, bytes: Uint8Array): boolean {
  if (!verified(digest, bytes)) return false;
  const mac = rows.seal.mac(...blobFields(digest, mediaType, bytes));
  return rows.use(false, (db) => {
    // A tag resolved again gives the manifest kept last time: a row with this MAC holds these very
    // bytes, so a read (a cached `ls IMAGE:TAG`) need not write.
    const kept = db.query("SELECT mac FROM blobs WHERE digest = ?").get(digest) as { mac: Uint8Array } | null;
    if (kept && sameMac(kept.mac, mac)) return true;
    db.query("INSERT OR REPLACE INTO blobs (digest, media_type, bytes, mac, created) VALUES (?, ?, ?, ?, ?)").run(digest, mediaType, bytes, mac, now());
    return true;
  });
}
