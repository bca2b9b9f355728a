/** The demo image's layers: a directory as tar, written by the tool's own tar writer (the tests use GNU tar instead). */
import { lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { END_OF_ARCHIVE, memberHeaders, padding } from "../../src/tar/writer.ts";
import type { EntryType } from "../../src/types.ts";

const enc = new TextEncoder();

/** Tar of `dir` (stored under `prefix`), at most `maxBytes` of file content; unreadable files skipped. */
export function tarDirectory(dir: string, prefix: string, maxBytes: number, extra: { path: string; content: string }[] = []): Uint8Array {
  const parts: Uint8Array[] = [];
  let budget = maxBytes;
  const add = (path: string, size: number, type: EntryType, mode: number, mtime: number, linkname = "", data?: Uint8Array) => {
    parts.push(...memberHeaders({ path, type, size, mode, mtime: Math.floor(mtime), uid: 0, gid: 0, uname: "root", gname: "root", ...(linkname ? { linkname } : {}) }));
    if (data) parts.push(data, padding(data.length));
  };
  const walk = (rel: string) => {
    let names: string[];
    try {
      names = readdirSync(join(dir, rel)).sort();
    } catch {
      return;
    }
    for (const n of names) {
      if (budget <= 0) return;
      const r = rel ? `${rel}/${n}` : n;
      const full = join(dir, r);
      let st;
      try {
        st = lstatSync(full);
      } catch {
        continue;
      }
      const name = `${prefix}/${r}`;
      if (st.isSymbolicLink()) add(name, 0, "symlink", 0o777, st.mtimeMs / 1000, readlinkSync(full));
      else if (st.isDirectory()) {
        add(name, 0, "dir", st.mode, st.mtimeMs / 1000);
        walk(r);
      } else if (st.isFile()) {
        let data: Uint8Array;
        try {
          data = readFileSync(full);
        } catch {
          continue;
        }
        budget -= data.length;
        add(name, data.length, "file", st.mode, st.mtimeMs / 1000, "", data);
      }
    }
  };
  walk("");
  for (const e of extra) {
    const data = enc.encode(e.content);
    add(e.path, data.length, "file", 0o644, Date.now() / 1000, "", data);
  }
  parts.push(END_OF_ARCHIVE);
  return new Uint8Array(Buffer.concat(parts));
}
