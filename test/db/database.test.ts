import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { improves, satisfies, type ScanDatabase } from "../../src/db/database.ts";
import { databaseLocation, openDatabase } from "../../src/db/open.ts";
import { redactUrl } from "../../src/db/postgres.ts";
import { LayerslayerError } from "../../src/errors.ts";
import { ENTRY_TYPES, type Entry, type LayerStats } from "../../src/types.ts";
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

/** Runs a statement on a database directly, as another program (or a damaged file) would. */
async function rawExec(kind: string, statement: string): Promise<void> {
  if (kind === "sqlite") {
    const { Database } = await import("bun:sqlite");
    const raw = new Database(urls.sqlite!);
    raw.exec(statement);
    raw.close();
    return;
  }
  const { SQL } = await import("bun");
  const sql = new SQL(urls.postgres!);
  await sql.unsafe(statement);
  await sql.close();
}

function stats(complete: boolean, bytesDownloaded: number, entries: number): LayerStats {
  return {
    digest: DIGEST,
    mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
    layerSize: 1000,
    bytesDownloaded,
    bytesDecompressed: 4 * bytesDownloaded,
    entries,
    complete,
    verified: complete,
  };
}

function entries(n: number): Entry[] {
  return Array.from({ length: n }, (_, i) => ({
    path: `./d${i % 3}/f${i}`,
    type: "file" as const,
    mode: 0o600,
    size: i,
    uid: 0,
    gid: 0,
    mtime: 1.5 + i,
    headerOffset: 0,
    compressedOffset: 0,
    ...(i === 0 ? { linkname: "x" } : {}),
  }));
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
    expect((await db.layerStates([DIGEST, "sha256:none"])).get(DIGEST)).toEqual({
      digest: DIGEST,
      complete: true,
      bytesDownloaded: 1000,
      layerSize: 1000,
      entries: 7,
      failed: false,
    });
  });

  test("every entry type reads back as itself (pax-global too); a type code this version does not know is an error", async () => {
    const digest = `sha256:${"cd".repeat(32)}`;
    const all: Entry[] = ENTRY_TYPES.map((type, i) => ({ path: `t/${type}`, type, mode: 0o644, size: 0, uid: 0, gid: 0, mtime: i, headerOffset: 0, compressedOffset: 0 }));
    expect(await db.putLayer({ ...stats(true, 1000, all.length), digest }, all)).toBe(true);
    expect((await db.layerEntries(digest)).map((e) => e.type)).toEqual([...ENTRY_TYPES]);
    await rawExec(kind, "UPDATE entries SET type = 99 WHERE seq = 2");
    const err = await db.layerEntries(digest).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LayerslayerError);
    expect((err as LayerslayerError).code).toBe("CORRUPT");
    expect((err as Error).message).toContain("entry type code 99");
    await rawExec(kind, "UPDATE entries SET type = 2 WHERE seq = 2");
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

/** A SQLite database as a version with migrations up to `version` left it, plus `rows`. */
async function olderDatabase(name: string, version: number, rows = ""): Promise<string> {
  const { Database } = await import("bun:sqlite");
  const { MIGRATIONS, MIGRATIONS_TABLE } = await import("../../src/db/schema.ts");
  const file = join(dir, name);
  const raw = new Database(file);
  raw.exec(MIGRATIONS_TABLE);
  for (const m of MIGRATIONS.filter((m) => m.version <= version)) {
    raw.exec(m.sqlite);
    raw.query("INSERT INTO schema_migrations (version) VALUES (?)").run(m.version);
  }
  if (rows) raw.exec(rows);
  raw.close();
  return file;
}

test("an older database is migrated forward on open, once", async () => {
  const { Database } = await import("bun:sqlite");
  const { MIGRATIONS } = await import("../../src/db/schema.ts");
  const file = await olderDatabase("old.sqlite", 1);
  const db = await openDatabase(file);
  await db.close();
  const check = new Database(file, { readonly: true });
  expect((check.query("SELECT version FROM schema_migrations ORDER BY version").all() as { version: number }[]).map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
  expect((check.query("PRAGMA index_info(entries_dir)").all() as { name: string }[]).map((r) => r.name)).toEqual(["dir_id"]);
  check.close();
});

test("a database written before entry types were shared (pax-global stored as -1) reads it back as pax-global after migrating", async () => {
  const file = await olderDatabase(
    "pax.sqlite",
    2,
    `INSERT INTO names (id, name) VALUES (1, 'pax_global_header'), (2, 'a');
    INSERT INTO dirs (id, path) VALUES (1, '');
    INSERT INTO layers (id, digest, media_type, size, complete, bytes_downloaded, bytes_decompressed, entry_count) VALUES (1, '${DIGEST}', 'x', 1000, 1, 1000, 4000, 2);
    INSERT INTO entries VALUES (1, 0, 1, 1, -1, 0, 0, 0, 0, 0, NULL), (1, 1, 1, 2, 0, 420, 1, 0, 0, 0, NULL);`,
  );
  const db = await openDatabase(file);
  expect((await db.layerEntries(DIGEST)).map((e) => [e.path, e.type])).toEqual([
    ["pax_global_header", "pax-global"],
    ["a", "file"],
  ]);
  await db.close();
});
