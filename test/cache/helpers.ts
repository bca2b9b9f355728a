import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Entry, LayerStats } from "../../src/types.ts";

export function tempDir(prefix = "ls-cache-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function sha256(bytes: Uint8Array | string): string {
  const h = new Bun.CryptoHasher("sha256");
  h.update(bytes);
  return `sha256:${h.digest("hex")}`;
}

/** A digest that names no real content (fine for listings, which are keyed by a layer's digest). */
export function fakeDigest(n: number): string {
  return `sha256:${n.toString(16).padStart(64, "0")}`;
}

export function statsFor(digest: string, entries: readonly Entry[], complete = true): LayerStats {
  return {
    digest,
    mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
    layerSize: 1234,
    bytesDownloaded: 1234,
    bytesDecompressed: 10240,
    entries: entries.length,
    complete,
    verified: complete,
  };
}

/** `n` entries shaped like a real layer: sorted paths in nested dirs, some with owners and links. */
export function manyEntries(n: number): Entry[] {
  const out: Entry[] = [];
  let offset = 0;
  for (let i = 0; i < n; i++) {
    const dir = i % 25 === 0;
    const e: Entry = {
      path: `usr/lib/python3.12/site-packages/pkg${Math.floor(i / 200)}/${dir ? `sub${i}/` : `module_${i}.py`}`,
      type: dir ? "dir" : "file",
      mode: dir ? 0o755 : 0o644,
      size: dir ? 0 : (i * 7919) % 100_000,
      uid: 0,
      gid: 0,
      mtime: 1_700_000_000 + (i % 1000),
      headerOffset: offset,
      compressedOffset: Math.floor(offset / 3),
    };
    if (i % 3 === 0) {
      e.uname = "root";
      e.gname = "root";
    }
    if (i % 97 === 0) {
      e.type = "symlink";
      e.size = 0;
      e.linkname = "../../bin/python3";
    }
    offset += 512 + Math.ceil(e.size / 512) * 512;
    out.push(e);
  }
  return out;
}

/** Starts a second process that holds a write lock on the database until `release()`. */
export async function holdLock(path: string, journal: "wal" | "delete"): Promise<{ release(): Promise<void> }> {
  const script = `
    import { Database } from "bun:sqlite";
    const db = new Database(${JSON.stringify(path)}, { create: true });
    db.exec("PRAGMA journal_mode=${journal === "wal" ? "WAL" : "DELETE"}");
    db.exec("BEGIN EXCLUSIVE");
    db.exec("CREATE TABLE IF NOT EXISTS lock_holder (x)");
    db.exec("INSERT INTO lock_holder VALUES (1)");
    process.stdout.write("locked\\n");
    await Bun.stdin.text();
    db.exec("ROLLBACK");
    db.close();
  `;
  const proc = Bun.spawn([process.execPath, "-e", script], { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
  const reader = proc.stdout.getReader();
  let seen = "";
  while (!seen.includes("locked")) {
    const { done, value } = await reader.read();
    if (done) throw new Error("the lock holder exited before taking the lock");
    seen += new TextDecoder().decode(value);
  }
  return {
    async release() {
      proc.stdin.end();
      await proc.exited;
    },
  };
}
