/**
 * A layer listed from its TOC is recorded as what the TOC declares (its format in `layers.toc`), in
 * both databases: the tar stream's complete listing replaces it, never the other way round, and a
 * scan that wants the stream (--full --verify) does not take it as recorded.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { improves, satisfies } from "../../src/db/database.ts";
import { openDatabase } from "../../src/db/open.ts";
import type { Entry, LayerStats } from "../../src/types.ts";
import { startPostgres, type TestPostgres } from "../support/postgres.ts";

const dir = mkdtempSync(join(tmpdir(), "ls-db-toc-"));
let pg: TestPostgres;
const urls: Record<string, string> = {};

beforeAll(async () => {
  pg = await startPostgres();
  urls.sqlite = join(dir, "db.sqlite");
  urls.postgres = await pg.newDatabase("toc");
});
afterAll(async () => {
  await pg?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const DIGEST = `sha256:${"cd".repeat(32)}`;
const entries = (n: number): Entry[] =>
  Array.from({ length: n }, (_, i) => ({ path: `etc/f${i}`, type: "file" as const, mode: 0o644, size: i, uid: 0, gid: 0, mtime: 0, headerOffset: -1, compressedOffset: -1 }));
const stream = (n: number): LayerStats => ({
  digest: DIGEST,
  mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
  layerSize: 1000,
  bytesDownloaded: 1000,
  bytesDecompressed: 4000,
  entries: n,
  complete: true,
  verified: true,
});
const declared = (n: number): LayerStats => ({ ...stream(n), bytesDownloaded: 20, verified: false, toc: { format: "zstd:chunked", bytes: 20, checked: true } });

test("the order: the stream's complete listing beats a TOC's; a TOC's never beats the stream's", () => {
  const fromToc = { digest: DIGEST, complete: true, bytesDownloaded: 20, layerSize: 1000, entries: 3, failed: false, toc: "estargz" };
  const fromStream = { digest: DIGEST, complete: true, bytesDownloaded: 1000, layerSize: 1000, entries: 3, failed: false };
  expect(improves(fromToc, { complete: true, bytesDownloaded: 1000, failed: false })).toBe(true);
  expect(improves(fromStream, { complete: true, bytesDownloaded: 20, failed: false, toc: "estargz" })).toBe(false);
  expect(improves(fromToc, { complete: true, bytesDownloaded: 20, failed: false, toc: "estargz" })).toBe(false);
  expect(satisfies(fromToc, undefined)).toBe(true);
  expect(satisfies(fromToc, undefined, true)).toBe(false);
  expect(satisfies(fromStream, undefined, true)).toBe(true);
});

describe("recorded in each database", () => {
  for (const kind of ["sqlite", "postgres"] as const) {
    test(kind, async () => {
      const db = await openDatabase(urls[kind]!);
      try {
        expect(await db.putLayer(declared(2), entries(2))).toBe(true);
        expect((await db.layerStates([DIGEST])).get(DIGEST)).toMatchObject({ complete: true, toc: "zstd:chunked" });
        expect(await db.putLayer(stream(3), entries(3))).toBe(true);
        const state = (await db.layerStates([DIGEST])).get(DIGEST)!;
        expect(state.toc).toBeUndefined();
        expect(state.entries).toBe(3);
        expect(await db.putLayer(declared(2), entries(2))).toBe(false);
        expect((await db.layerEntries(DIGEST)).length).toBe(3);
      } finally {
        await db.close();
      }
    });
  }
});
