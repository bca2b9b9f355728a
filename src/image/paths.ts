/**
 * What a path is in the image, and what a layer member does to it: the one set of rules behind
 * every view (the merged tree in merge.ts, the file locator behind `cat` in locate.ts/extract.ts).
 *
 * Paths are relative to the image root, without a leading "/" or "./", without a trailing "/",
 * and without empty, "." or ".." components ("etc/passwd"). The root itself is ".". Names are
 * compared as the exact strings the tar stage made of their bytes (tar/text.ts), so two names
 * that differ in one byte are two paths.
 */
import type { Entry } from "../types.ts";

export const ROOT = ".";

const DOT_SEGMENT = /(?:^|\/)\.\.?(?:\/|$)/;

function isClean(p: string): boolean {
  if (p === "" || p[0] === "/" || p.endsWith("/") || p.includes("//")) return false;
  // A "." or ".." component starts the path or follows a "/": most paths have neither.
  return !((p[0] === "." || p.includes("/.")) && DOT_SEGMENT.test(p));
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

// ---------------------------------------------------------------- members and whiteouts

export const WH_PREFIX = ".wh.";
export const WH_META_PREFIX = ".wh..wh.";
export const WH_OPAQUE = ".wh..wh..opq";

/** True when a component of the clean path `p` is a whiteout name (".wh.…"). */
export function hasWhiteoutComponent(p: string): boolean {
  return p.startsWith(WH_PREFIX) || p.includes(`/${WH_PREFIX}`);
}

function underMetaDir(dir: string): boolean {
  return dir.startsWith(WH_META_PREFIX) || dir.includes(`/${WH_META_PREFIX}`);
}

/**
 * What one layer member does (OCI image spec, overlay semantics):
 *   entry     a file, directory, link or device at `path`
 *   whiteout  `dir/.wh.NAME`: deletes `target` (= dir/NAME) and what is under it, in lower layers
 *   opaque    `dir/.wh..wh..opq`: hides what lower layers put in `target` (= dir)
 *   meta      another `.wh..wh.*` name (aufs bookkeeping such as ".wh..wh.plnk"): no effect
 *   ignored   not part of the filesystem: a PAX global header, or a member inside an aufs
 *             bookkeeping directory (".wh..wh.plnk/123")
 *   anomaly   no place in the image: climbs above the root, sits inside a whiteout name, a
 *             whiteout that names nothing (`reason` says which)
 */
export type Member =
  | { kind: "entry"; path: string }
  | { kind: "whiteout"; path: string; target: string }
  | { kind: "opaque"; path: string; target: string }
  | { kind: "meta"; path: string }
  | { kind: "ignored" }
  | { kind: "anomaly"; reason: string };

export function classifyMember(entry: Entry): Member {
  if (entry.type === "pax-global") return { kind: "ignored" };
  const path = normalizeEntryPath(entry.path);
  if (path === undefined) return { kind: "anomaly", reason: "path climbs above the image root" };
  if (!hasWhiteoutComponent(path)) return { kind: "entry", path };
  const dir = parentOf(path) ?? ROOT;
  const name = baseName(path);
  if (dir !== ROOT && hasWhiteoutComponent(dir)) {
    return underMetaDir(dir) ? { kind: "ignored" } : { kind: "anomaly", reason: "member inside a whiteout name" };
  }
  if (name === WH_OPAQUE) return { kind: "opaque", path, target: dir };
  if (name.startsWith(WH_META_PREFIX)) return { kind: "meta", path };
  const victim = name.slice(WH_PREFIX.length);
  if (victim === "" || victim === "." || victim === "..") return { kind: "anomaly", reason: "whiteout names no file" };
  return { kind: "whiteout", path, target: joinPath(dir, victim) };
}

/** True when `path` is `dir` itself or below it (both clean). */
export function isAtOrUnder(path: string, dir: string): boolean {
  return dir === ROOT || path === dir || path.startsWith(`${dir}/`);
}

/** True when `path` is strictly below `dir` (both clean). */
export function isUnder(path: string, dir: string): boolean {
  return dir === ROOT ? path !== ROOT : path.startsWith(`${dir}/`);
}
