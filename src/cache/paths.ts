import { isAbsolute, join } from "node:path";
import { homeDirectory } from "../home.ts";

export const CACHE_FILE = "cache.sqlite";

/**
 * The directory of the cache: `LAYERSLAYER_CACHE_DIR` if set, else `$XDG_CACHE_HOME/layerslayer`,
 * else the platform's cache directory (Linux `~/.cache`, macOS `~/Library/Caches`, Windows
 * `%LOCALAPPDATA%`) + `/layerslayer`. A relative XDG_CACHE_HOME is ignored, as the XDG spec says.
 * Undefined when none of these exist (no home directory at all).
 */
export function defaultCacheDir(env: Record<string, string | undefined> = process.env, platform: NodeJS.Platform = process.platform): string | undefined {
  const own = env.LAYERSLAYER_CACHE_DIR;
  if (own) return own;
  const xdg = env.XDG_CACHE_HOME;
  if (xdg && isAbsolute(xdg)) return join(xdg, "layerslayer");
  if (platform === "win32" && env.LOCALAPPDATA) return join(env.LOCALAPPDATA, "layerslayer", "cache");
  const home = homeDirectory(env);
  if (!home) return undefined;
  if (platform === "darwin") return join(home, "Library", "Caches", "layerslayer");
  if (platform === "win32") return join(home, "AppData", "Local", "layerslayer", "cache");
  return join(home, ".cache", "layerslayer");
}

/** The database file inside a cache directory. */
export function cacheFile(dir: string): string {
  return join(dir, CACHE_FILE);
}
