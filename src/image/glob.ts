import { LayerslayerError } from "../errors.ts";
import type { EntryType } from "../types.ts";

/** The entry types a `--type` letter selects (as in find(1); f takes hard links and contiguous files too). */
export const TYPE_LETTERS: Record<string, EntryType[]> = {
  f: ["file", "contiguous", "hardlink"],
  d: ["dir"],
  l: ["symlink"],
  c: ["char"],
  b: ["block"],
  p: ["fifo"],
};

/**
 * Compiles a glob into a RegExp over clean image paths ("etc/passwd"):
 *   *  any run of characters but "/"     ?  one character but "/"
 *   ** any run of characters, "/" too (as a whole component, "a/**\/b" also matches "a/b")
 *   [abc] [a-z] [!x] [^x]  a character class      \x  a literal x
 * A pattern without "/" matches the base name anywhere (like `find -name`); with "/" it matches
 * the whole path, a leading "/" being optional.
 */
export function globToRegExp(pattern: string): RegExp {
  if (pattern === "") throw new LayerslayerError("USAGE", "the pattern is empty");
  const anchored = pattern.includes("/");
  const p = pattern.replace(/^\/+/, "");
  let re = "";
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === "*") {
      if (p[i + 1] === "*") {
        const slashAfter = p[i + 2] === "/";
        const atStart = i === 0 || p[i - 1] === "/";
        i += slashAfter ? 2 : 1;
        re += atStart && slashAfter ? "(?:.*/)?" : ".*";
      } else re += "[^/]*";
    } else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const end = p.indexOf("]", i + 2);
      if (end < 0) throw new LayerslayerError("USAGE", `pattern "${pattern}": unclosed "["`);
      let body = p.slice(i + 1, end);
      if (body.startsWith("!")) body = `^${body.slice(1)}`;
      re += `[${body.replace(/\\/g, "\\\\")}]`;
      i = end;
    } else if (c === "\\" && i + 1 < p.length) {
      re += escapeRe(p[++i]!);
    } else re += escapeRe(c);
  }
  const source = anchored ? `^${re}$` : `(?:^|/)${re}$`;
  try {
    return new RegExp(source, "u");
  } catch {
    throw new LayerslayerError("USAGE", `pattern "${pattern}" is not a valid glob`);
  }
}

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

/** A user's --regex, searched in "/"+path. */
export function userRegExp(source: string): RegExp {
  try {
    return new RegExp(source, "u");
  } catch (e) {
    throw new LayerslayerError("USAGE", `invalid regular expression: ${(e as Error).message}`);
  }
}
