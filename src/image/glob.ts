import { LayerslayerError } from "../errors.ts";
import { unescapeName } from "../names.ts";
import type { EntryType } from "../types.ts";

const hex4 = (n: number): string => n.toString(16).padStart(4, "0");

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
 *   {a,b,c}  one of the alternatives (they may hold any of the above, and nest); a "{" without its
 *   "}" or "{}" is literal text
 *   \\ \n \t \r \xHH \uHHHH  a name as `ls` prints it (names.ts unescapeName): "\x80" is
 *   the byte 0x80 of a name that is not UTF-8
 * A pattern without "/" matches the base name anywhere (like `find -name`); with "/" it matches
 * the whole path, a leading "/" being optional. `ignoreCase` is `find -iname`.
 */
export function globToRegExp(pattern: string, opts: { ignoreCase?: boolean } = {}): RegExp {
  if (pattern === "") throw new LayerslayerError("USAGE", "the pattern is empty");
  const anchored = pattern.includes("/");
  const p = pattern.replace(/^\/+/, "");
  const braces = pairedBraces(p);
  let depth = 0;
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
      const body = p.slice(i + 1, end);
      const negated = body.startsWith("!") || body.startsWith("^");
      // "\\", "[" and a "]" first in the class are literal characters (JavaScript needs them escaped).
      re += `[${negated ? "^" : ""}${(negated ? body.slice(1) : body).replace(/[\\[\]]/g, "\\$&")}]`;
      i = end;
    } else if (c === "\\" && i + 1 < p.length) {
      const run = LS_ESCAPES.exec(p.slice(i));
      if (run) {
        re += escapeRe(unescapeName(run[0]));
        i += run[0].length - 1;
      } else re += escapeRe(p[++i]!);
    } else if (c === "{" && braces.has(i)) {
      depth++;
      re += "(?:";
    } else if (c === "}" && braces.has(i)) {
      depth--;
      re += ")";
    } else if (c === "," && depth > 0) re += "|";
    else re += escapeRe(c);
  }
  const source = anchored ? `^${re}$` : `(?:^|/)${re}$`;
  try {
    return new RegExp(source, opts.ignoreCase ? "ui" : "u");
  } catch {
    throw new LayerslayerError("USAGE", `pattern "${pattern}" is not a valid glob`);
  }
}

/** The offsets of the "{" and "}" that pair up (outside classes and escapes, not "{}"): the others are literal. */
function pairedBraces(p: string): Set<number> {
  const paired = new Set<number>();
  const open: number[] = [];
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === "\\") i++;
    else if (c === "[") {
      const end = p.indexOf("]", i + 2);
      if (end >= 0) i = end;
    } else if (c === "{") open.push(i);
    else if (c === "}" && open.length) {
      const from = open.pop()!;
      if (i > from + 1) paired.add(from).add(i);
    }
  }
  return paired;
}

/**
 * A matcher for a glob over clean image paths, by the rules of `globToRegExp`. Bun's own glob
 * (native code) does the matching when it agrees with those rules for the pattern: no escapes,
 * case kept, every "**" a whole path component, no "{}"; test/image/glob.test.ts holds the two to
 * the same answers. The pattern is checked (and its errors raised) either way.
 */
export function globMatcher(pattern: string, opts: { ignoreCase?: boolean } = {}): (path: string) => boolean {
  const re = globToRegExp(pattern, opts);
  const p = pattern.replace(/^\/+/, "");
  const bunAgrees = !opts.ignoreCase && !p.includes("\\") && !p.includes("{}") && !/[^/]\*\*|\*\*[^/]/.test(p);
  if (!bunAgrees) return (path) => re.test(path);
  const glob = new Bun.Glob(p);
  if (pattern.includes("/")) return (path) => glob.match(path);
  return (path) => glob.match(path.slice(path.lastIndexOf("/") + 1));
}

/** A run of the escapes `ls` prints, at the start of a string. */
const LS_ESCAPES = /^(?:\\(?:x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|[\\ntr]))+/;

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

/**
 * A user's --regex, searched in "/"+path. "\xHH" from 80 to ff means the byte of a name that is
 * not UTF-8, as `ls` prints it (JavaScript would read U+0080..U+00FF, which `ls` prints as \u0080).
 */
export function userRegExp(source: string, opts: { ignoreCase?: boolean } = {}): RegExp {
  const rewritten = source.replace(/\\(x[89a-fA-F][0-9a-fA-F]|[^])/g, (m, esc: string) => (esc.length === 3 ? `\\u${hex4(0xdc00 + parseInt(esc.slice(1), 16))}` : m));
  try {
    return new RegExp(rewritten, opts.ignoreCase ? "ui" : "u");
  } catch (e) {
    throw new LayerslayerError("USAGE", `invalid regular expression: ${(e as Error).message}`);
  }
}
