/**
 * rpm's SQLite database (`rpmdb.sqlite`, rpm 4.16 and later): table `Packages(hnum, blob)`, each
 * blob one package's header in rpm's header format (big-endian): a count of index entries `il`,
 * the data size `dl`, then `il` entries of {tag, type, offset, count} and `dl` bytes of data. The
 * older BerkeleyDB (`Packages`) and ndb (`Packages.db`) formats are not read.
 */
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LayerslayerError } from "../errors.ts";
import type { Package } from "./model.ts";

const TAG = { name: 1000, version: 1001, release: 1002, epoch: 1003, arch: 1022, sourcerpm: 1044 } as const;
const TYPE = { int32: 4, string: 6, stringArray: 8, i18nstring: 9 } as const;
/** A header holds at most this many entries (rpm's own limit is 0xffff). */
const MAX_ENTRIES = 0xffff;

/** The string and int32 tags of one header that a package listing needs; CORRUPT when it is malformed. */
export function parseRpmHeader(blob: Uint8Array, what: string): Package {
  const bad = (why: string) => new LayerslayerError("CORRUPT", `${what}: ${why}`);
  if (blob.byteLength < 8) throw bad("an rpm header shorter than its preamble");
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const il = view.getUint32(0);
  const dl = view.getUint32(4);
  if (il > MAX_ENTRIES || 8 + il * 16 + dl > blob.byteLength) throw bad(`an rpm header of ${il} entries and ${dl} data bytes in ${blob.byteLength} bytes`);
  const data = 8 + il * 16;
  const strings = new Map<number, string>();
  const ints = new Map<number, number>();
  const dec = new TextDecoder();
  for (let i = 0; i < il; i++) {
    const at = 8 + i * 16;
    const tag = view.getUint32(at);
    const type = view.getUint32(at + 4);
    const offset = view.getUint32(at + 8);
    const count = view.getUint32(at + 12);
    if (offset >= dl) continue;
    if (type === TYPE.string || type === TYPE.i18nstring || type === TYPE.stringArray) {
      const start = data + offset;
      let end = start;
      while (end < data + dl && blob[end] !== 0) end++;
      if (end >= data + dl) throw bad(`rpm header tag ${tag}: a string without its end`);
      if (!strings.has(tag)) strings.set(tag, dec.decode(blob.subarray(start, end)));
    } else if (type === TYPE.int32 && count >= 1) {
      if (offset + 4 > dl) throw bad(`rpm header tag ${tag}: an integer past the data`);
      ints.set(tag, view.getUint32(data + offset));
    }
  }
  const name = strings.get(TAG.name);
  const version = strings.get(TAG.version);
  if (!name || version === undefined) throw bad("an rpm header without a name or version");
  const release = strings.get(TAG.release);
  const epoch = ints.get(TAG.epoch);
  // "glibc-2.34-60.el9.src.rpm" → "glibc": what comes before the version and release.
  const srpm = strings.get(TAG.sourcerpm);
  const source = srpm?.replace(/\.src\.rpm$/, "").replace(/-[^-]+-[^-]+$/, "");
  return {
    manager: "rpm",
    name,
    version: `${epoch ? `${epoch}:` : ""}${version}${release ? `-${release}` : ""}`,
    architecture: strings.get(TAG.arch) ?? "",
    source: source || name,
  };
}

/** Every package of an rpmdb.sqlite file's bytes (written to a private temp file, opened read-only). */
export function parseRpmSqlite(bytes: Uint8Array, what: string): Package[] {
  const dir = mkdtempSync(join(tmpdir(), "layerslayer-rpmdb-"));
  const file = join(dir, "rpmdb.sqlite");
  try {
    writeFileSync(file, bytes, { mode: 0o600 });
    let db: Database;
    try {
      db = new Database(file, { readonly: true });
    } catch {
      throw new LayerslayerError("CORRUPT", `${what}: not an SQLite database`);
    }
    try {
      // The database is untrusted: no functions from its schema, nothing written.
      db.run("PRAGMA trusted_schema = OFF");
      db.run("PRAGMA query_only = ON");
      let rows: { blob: Uint8Array | null }[];
      try {
        rows = db.query("SELECT blob FROM Packages ORDER BY hnum").all() as { blob: Uint8Array | null }[];
      } catch (e) {
        throw new LayerslayerError("CORRUPT", `${what}: no readable Packages table (${(e as Error).message.split("\n")[0]})`);
      }
      return rows.filter((r) => r.blob instanceof Uint8Array).map((r, i) => parseRpmHeader(r.blob!, `${what}: package ${i + 1}`));
    } finally {
      db.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
