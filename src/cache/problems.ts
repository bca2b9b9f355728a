/** What can go wrong with the cache file, and what to tell people about it. */

export type Problem = "corrupt" | "locked" | "unwritable" | "foreign" | "key" | "other";

export class ForeignDatabase extends Error {
  readonly code = "FOREIGN";
}

export function classify(e: unknown): Problem {
  const code = String((e as { code?: unknown })?.code ?? "");
  if (code === "FOREIGN") return "foreign";
  if (code === "KEY") return "key";
  if (code === "SQLITE_NOTADB" || code.startsWith("SQLITE_CORRUPT")) return "corrupt";
  if (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED")) return "locked";
  if (/^SQLITE_(CANTOPEN|READONLY|PERM|AUTH|FULL|IOERR)/.test(code) || /^E(ACCES|PERM|NOTDIR|ROFS|EXIST|ISDIR|NOSPC|DQUOT)$/.test(code)) return "unwritable";
  return "other";
}

/** Why the cache cannot be used, in one line. */
export function explain(kind: Problem, path: string, e: unknown): string {
  const why = ((e as Error)?.message ?? String(e)).split("\n")[0];
  switch (kind) {
    case "corrupt":
      return `the cache ${path} is not a usable database (${why})`;
    case "locked":
      return `the cache ${path} is locked by another process (${why})`;
    case "unwritable":
      return `the cache ${path} cannot be opened or written (${why})`;
    case "foreign":
      return `${path} is not a layerslayer cache (${why})`;
    case "key":
      return `the cache ${path} cannot be trusted: ${why}`;
    default:
      return `the cache ${path} failed (${why})`;
  }
}

/** The warning for a command that goes on without the cache. */
export function warning(kind: Problem, reason: string): string {
  const hint =
    kind === "corrupt"
      ? '; "layerslayer cache clear" removes it'
      : kind === "key"
        ? "; remove the key file (a new one is made and the cache starts empty)"
        : kind === "unwritable" || kind === "foreign"
          ? "; set LAYERSLAYER_CACHE_DIR to another directory or use --no-cache"
          : "";
  return `${reason}; running without it${hint}`;
}
