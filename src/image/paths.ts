/**
 * Path helpers for the merged image view.
 *
 * Paths are relative to the image root, without a leading "/" or "./", without a trailing "/",
 * and without "." or ".." components ("etc/passwd"). The root itself is ".".
 */

export const ROOT = ".";

const DOT_SEGMENT = /(?:^|\/)\.\.?(?:\/|$)/;

function isClean(p: string): boolean {
  return p !== "" && p[0] !== "/" && !p.endsWith("/") && !p.includes("//") && !DOT_SEGMENT.test(p);
}

/**
 * Normalise a path taken from a layer. Returns undefined when ".." would climb above the root
 * (such a member is a breakout attempt: it has no place in the image filesystem).
 */
export function normalizeEntryPath(p: string): string | undefined {
  if (isClean(p)) return p;
  const out: string[] = [];
  for (const part of p.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (out.length === 0) return undefined;
      out.pop();
      continue;
    }
    out.push(part);
  }
  return out.length === 0 ? ROOT : out.join("/");
}

/**
 * Normalise a path a user typed ("/etc/", "./usr//lib", "/"): lexical only, ".." stops at the
 * root like it does in "/..". Symlinks are not looked at: see resolve.ts for that.
 */
export function cleanPath(p: string): string {
  if (isClean(p)) return p;
  const out: string[] = [];
  for (const part of p.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return out.length === 0 ? ROOT : out.join("/");
}

/** Parent of a clean path; the parent of a top-level name is ROOT; ROOT has none. */
export function parentOf(p: string): string | undefined {
  if (p === ROOT) return undefined;
  const i = p.lastIndexOf("/");
  return i < 0 ? ROOT : p.slice(0, i);
}

/** Last component of a clean path (ROOT for the root). */
export function baseName(p: string): string {
  const i = p.lastIndexOf("/");
  return i < 0 ? p : p.slice(i + 1);
}

export function joinPath(dir: string, name: string): string {
  return dir === ROOT ? name : `${dir}/${name}`;
}

/** Code-unit order: deterministic and locale-free (like `LC_ALL=C ls`). */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
