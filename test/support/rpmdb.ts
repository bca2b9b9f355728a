/**
 * rpm databases for tests, written from the formats' documentation: a header blob (big-endian
 * index count, data size, 16-byte index entries {tag, type, offset, count}, then the data store)
 * per package, in an SQLite table Packages(hnum, blob) as rpm 4.16 keeps them in rpmdb.sqlite.
 */
import { Database } from "bun:sqlite";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface RpmSpec {
  name: string;
  version: string;
  release: string;
  arch: string;
  epoch?: number;
  sourcerpm?: string;
}

/** One package's header blob (as stored in rpmdb.sqlite: without the 8-byte header magic). */
export function rpmHeader(p: RpmSpec): Uint8Array {
  const enc = new TextEncoder();
  const entries: { tag: number; type: number; data: Uint8Array; count: number; align: number }[] = [];
  const str = (tag: number, s: string) => entries.push({ tag, type: 6, data: enc.encode(`${s}\0`), count: 1, align: 1 });
  str(1000, p.name);
  str(1001, p.version);
  str(1002, p.release);
  if (p.epoch !== undefined) {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, p.epoch);
    entries.push({ tag: 1003, type: 4, data: b, count: 1, align: 4 });
  }
  str(1022, p.arch);
  if (p.sourcerpm) str(1044, p.sourcerpm);
  const chunks: Uint8Array[] = [];
  const index = new Uint8Array(entries.length * 16);
  const iv = new DataView(index.buffer);
  let dl = 0;
  entries.forEach((e, i) => {
    const pad = (e.align - (dl % e.align)) % e.align;
    if (pad) chunks.push(new Uint8Array(pad));
    dl += pad;
    iv.setUint32(i * 16, e.tag);
    iv.setUint32(i * 16 + 4, e.type);
    iv.setUint32(i * 16 + 8, dl);
    iv.setUint32(i * 16 + 12, e.count);
    chunks.push(e.data);
    dl += e.data.byteLength;
  });
  const pre = new Uint8Array(8);
  new DataView(pre.buffer).setUint32(0, entries.length);
  new DataView(pre.buffer).setUint32(4, dl);
  return new Uint8Array(Buffer.concat([pre, index, ...chunks]));
}

/** The bytes of an rpmdb.sqlite holding these packages. */
export function rpmSqlite(packages: RpmSpec[]): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), "ls-rpmdb-"));
  try {
    const file = join(dir, "rpmdb.sqlite");
    const db = new Database(file);
    db.run("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)");
    for (const p of packages) db.run("INSERT INTO Packages (blob) VALUES (?)", [rpmHeader(p)]);
    db.run("PRAGMA journal_mode = DELETE");
    db.close();
    return new Uint8Array(readFileSync(file));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
