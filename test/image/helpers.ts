import type { Entry, EntryType } from "../../src/types.ts";

let offset = 0;

/** A synthetic Entry: file 0644 unless said otherwise, dirs 0755. */
export function mk(path: string, type: EntryType = "file", extra: Partial<Entry> = {}): Entry {
  offset += 512;
  return {
    path,
    type,
    mode: type === "dir" ? 0o755 : 0o644,
    size: 0,
    uid: 0,
    gid: 0,
    mtime: 1_700_000_000,
    headerOffset: offset,
    compressedOffset: offset,
    ...extra,
  };
}

export const dir = (path: string, extra: Partial<Entry> = {}): Entry => mk(path, "dir", extra);
export const file = (path: string, extra: Partial<Entry> = {}): Entry => mk(path, "file", extra);
export const sym = (path: string, target: string, extra: Partial<Entry> = {}): Entry => mk(path, "symlink", { linkname: target, ...extra });
export const hard = (path: string, target: string, extra: Partial<Entry> = {}): Entry => mk(path, "hardlink", { linkname: target, ...extra });
/** A whiteout member for `path` ("a/b" → "a/.wh.b"). */
export const wh = (path: string): Entry => {
  const i = path.lastIndexOf("/");
  return mk(i < 0 ? `.wh.${path}` : `${path.slice(0, i)}/.wh.${path.slice(i + 1)}`);
};
/** The opaque marker for a directory. */
export const opq = (dirPath: string): Entry => mk(dirPath === "." ? ".wh..wh..opq" : `${dirPath}/.wh..wh..opq`);
