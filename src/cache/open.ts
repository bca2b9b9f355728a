/** Which cache: the SQLite one in the cache directory, or the no-op one (`--no-cache`, no home directory). */
import type { CacheStore } from "./cache.ts";
import { NoCache } from "./no-cache.ts";
import { cacheFile, defaultCacheDir } from "./paths.ts";
import { DEFAULT_BUSY_TIMEOUT_MS, SqliteCache } from "./sqlite.ts";

export interface OpenCacheOptions {
  enabled: boolean;
  /** The cache directory; default from `defaultCacheDir()`. */
  dir?: string;
  /** Called at most once per store, when the cache had to be turned off. */
  warn: (message: string) => void;
  busyTimeoutMs?: number;
  env?: Record<string, string | undefined>;
}

/** A store that opens its database on first use, or a no-op store when `enabled` is false. */
export function openCache(opts: OpenCacheOptions): CacheStore {
  const dir = opts.dir ?? defaultCacheDir(opts.env ?? process.env);
  if (dir === undefined) {
    if (opts.enabled) opts.warn("no home directory (HOME is unset and this user has no passwd entry): the cache is off; LAYERSLAYER_CACHE_DIR or XDG_CACHE_HOME turns it on");
    return new NoCache("");
  }
  if (!opts.enabled) return new NoCache(cacheFile(dir));
  return new SqliteCache(dir, opts.warn, opts.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS);
}
