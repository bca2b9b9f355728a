import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { improves, satisfies, type ScanDatabase } from "../../src/db/database.ts";
import { databaseLocation, openDatabase } from "../../src/db/open.ts";
import { redactUrl } from "../../src/db/postgres.ts";
import type { Entry, LayerStats } from "../../src/types.ts";
import { startPostgres, type TestPostgres } from "../support/postgres.ts";

const dir = mkdtempSync(join(tmpdir(), "ls-db-"));
let pg: TestPostgres;
const urls: Record<string, string> = {};

beforeAll(async () => {
  pg = await startPostgres();
  urls.sqlite = join(dir, "db.sqlite");
  urls.postgres = await pg.newDatabase("unit");
});

afterAll(async () => {
  await pg?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const DIGEST = `sha256:${"ab".repeat(32)}`;

function stats(complete: boolean, bytesDownloaded: number, entries: number): LayerStats {
  return { digest: DIGEST, mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", layerSize: 1000, bytesDownloaded, bytesDecompressed: 4 * bytesDownloaded, entries, complete, verified: complete };
}

function entries(n: number): Entry[] {
  return Array.from({ length: n }, (_, i) => ({ path: `./d${i % 3}/f${i}`, type: "file" as const, mode: 0o600, size: i, uid: 0, gid: 0, mtime: 1.5 + i, headerOffset: 0, compressedOffset: 0, ...(i === 0 ? { linkname: "x" } : {}) }));
}

test("completeness order: complete > more bytes > fewer bytes; a whole-blob read is as good as it gets", () => {
  const partial = { digest: DIGEST, complete: false, bytesDownloaded: 500, layerSize: 1000, entries: 3, failed: false };
  expect(satisfies(partial, 400)).toBe(true);
  expect(satisfies(partial, 600)).toBe(false);
  expect(satisfies(partial, undefined)).toBe(false);
  expect(satisfies({ ...partial, bytesDownloaded: 1000 }, undefined)).toBe(true);
  expect(satisfies({ ...partial, complete: true }, undefined)).toBe(true);
  expect(improves(partial, { complete: false, bytesDownloaded: 500, failed: false })).toBe(false);
  expect(improves(partial, { complete: false, bytesDownloaded: 501, failed: false })).toBe(true);
  expect(improves({ ...partial, complete: true }, { complete: true, bytesDownloaded: 1000, failed: false })).toBe(false);
  // A read that ended in an error is never final, and any clean read replaces it.
  expect(satisfies({ ...partial, bytesDownloaded: 1000, failed: true }, undefined)).toBe(false);
  expect(satisfies({ ...partial, failed: true }, 100)).toBe(false);
  expect(improves({ ...partial, failed: true }, { complete: false, bytesDownloaded: 100, failed: false })).toBe(true);
  expect(improves(partial, { complete: false, bytesDownloaded: 900, failed: true })).toBe(false);
});

test("the location: a postgres URL, a file, or the cache directory; passwords never shown", () => {
  expect(databaseLocation(undefined, { LAYERSLAYER_CACHE_DIR: "/c" })).toEqual({ kind: "sqlite", target: "/c/database.sqlite" });
  expect(databaseLocation(undefined, { LAYERSLAYER_DB: "postgresql://u@h/db" }).kind).toBe("postgres");
  expect(databaseLocation("x.db", { LAYERSLAYER_DB: "postgres://u@h/db" })).toEqual({ kind: "sqlite", target: "x.db" });
  expect(() => databaseLocation("mysql://h/db")).toThrow(/postgres/);
  expect(redactUrl("postgres://u:secret@h:5432/db")).not.toContain("secret");
});

describe.each(["sqlite", "postgres"])("%s", (kind) => {
  let db: ScanDatabase;
  beforeAll(async () => {
    db = await openDatabase(urls[kind]);
  });
  afterAll(async () => {
    await db?.close();
  });

  test("a layer is replaced only by a better listing, and reads back in tar order with clean paths", async () => {
    expect(await db.putLayer(stats(false, 500, 5), entries(5))).toBe(true);
    expect(await db.putLayer(stats(false, 400, 4), entries(4))).toBe(false);
    expect(await db.putLayer(stats(true, 1000, 7), entries(7))).toBe(true);
    expect(await db.putLayer(stats(true, 1000, 6), entries(6))).toBe(false);
    const back = await db.layerEntries(DIGEST);
    expect(back.map((e) => e.path)).toEqual(["d0/f0", "d1/f1", "d2/f2", "d0/f3", "d1/f4", "d2/f5", "d0/f6"]);
    expect(back[0]).toMatchObject({ type: "file", mode: 0o600, size: 0, mtime: 1, linkname: "x" });
    expect((await db.layerStates([DIGEST, "sha256:none"])).get(DIGEST)).toEqual({ digest: DIGEST, complete: true, bytesDownloaded: 1000, layerSize: 1000, entries: 7, failed: false });
  });

  test("the schema is applied once: opening again changes nothing", async () => {
    const again = await openDatabase(urls[kind]);
    expect((await again.layerStates([DIGEST])).get(DIGEST)?.entries).toBe(7);
    await again.close();
  });
});

test("concurrent writers of one layer in PostgreSQL keep the best listing", async () => {
  const url = await pg.newDatabase("race");
  const writers = await Promise.all(Array.from({ length: 4 }, () => openDatabase(url)));
  await Promise.all(writers.map((w, i) => w.putLayer(stats(i === 2, i === 2 ? 1000 : 100 * (i + 1), 10 + i), entries(10 + i))));
  const state = (await writers[0]!.layerStates([DIGEST])).get(DIGEST)!;
  expect([state.complete, state.entries]).toEqual([true, 12]);
  expect(await writers[0]!.layerEntries(DIGEST)).toHaveLength(12);
  await Promise.all(writers.map((w) => w.close()));
});

test("an older database is migrated forward on open, once", async () => {
  const { Database } = await import("bun:sqlite");
  const { MIGRATIONS, MIGRATIONS_TABLE } = await import("../../src/db/schema.ts");
  const file = join(dir, "old.sqlite");
  const raw = new Database(file);
  raw.exec(MIGRATIONS_TABLE);
  raw.exec(MIGRATIONS[0]!.sqlite);
  raw.exec("INSERT INTO schema_migrations (version) VALUES (1)");
  raw.close();
  const db = await openDatabase(file);
  await db.close();
  const check = new Database(file, { readonly: true });
  expect((check.query("SELECT version FROM schema_migrations ORDER BY version").all() as { version: number }[]).map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
  expect((check.query("PRAGMA index_info(entries_dir)").all() as { name: string }[]).map((r) => r.name)).toEqual(["dir_id"]);
  check.close();
});
