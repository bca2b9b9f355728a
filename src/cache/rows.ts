/** What the SQLite store's table modules (listing-parts, layer-index, trees, blobs) are given. */
import type { Database } from "bun:sqlite";
import type { Seal } from "./seal.ts";

/** Runs `fn` on the database, or gives `fallback` when the cache is off or fails (it turns itself off). */
export type UseDb = <T>(fallback: T, fn: (db: Database) => T) => T;

export interface Rows {
  use: UseDb;
  /** The cache's key: every row is written with its MAC and checked with it when read. */
  seal: Seal;
  /** Told when a row failed its check (it was deleted and is reported absent). */
  dropped(what: string): void;
}

export const now = (): number => Math.floor(Date.now() / 1000);
