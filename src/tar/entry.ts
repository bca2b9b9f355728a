/** Turn a parsed header plus its meta headers (PAX, GNU long names) into an `Entry`. */
import type { Entry, EntryType } from "../types.ts";
import { corrupt, entryTypeOf, isHeaderOnly, type TarHeader } from "./header.ts";
import { paxGet, paxInt, paxSize, paxTime, type PaxRecords } from "./pax.ts";

/**
 * Normalise an archive member name for `Entry.path`:
 * - leading "./" and "/" are removed (repeatedly: ".//./etc" → "etc"),
 * - trailing "/" is removed ("usr/" → "usr"),
 * - the root ("", ".", "./", "/") becomes ".": root entries are listed, with path ".".
 * Nothing else is touched: "a//b", "a/./b" and ".." components stay as the archive has them
 * (later stages decide what to do with them; never trust them for filesystem writes).
 */
export function normalizePath(p: string): string {
  let s = 0;
  for (;;) {
    if (p.charCodeAt(s) === 0x2f) s += 1;
    else if (p.charCodeAt(s) === 0x2e && p.charCodeAt(s + 1) === 0x2f) s += 2;
    else break;
  }
  let e = p.length;
  while (e > s && p.charCodeAt(e - 1) === 0x2f) e--;
  if (e === s) return ".";
  return s === 0 && e === p.length ? p : p.slice(s, e);
}

export interface BuiltEntry {
  entry: Entry;
  /** Bytes of data blocks following the header (before padding to 512). */
  stored: number;
  /** Bytes of those that are the entry's content (`entry.size`, or 0 for non-files). */
  content: number;
  /** The stored data is a GNU sparse encoding, not the plain content. */
  sparse: boolean;
}

export interface MetaState {
  pax: PaxRecords | null;
  longName: string | null;
  longLink: string | null;
}

function safeSize(n: number, what: string, offset: number): number {
  if (!Number.isSafeInteger(n) || n < 0) throw corrupt(`invalid ${what} in tar header`, offset);
  return n;
}

const HAS_CONTENT: Record<EntryType, boolean> = {
  file: true,
  contiguous: true,
  dir: false,
  symlink: false,
  hardlink: false,
  char: false,
  block: false,
  fifo: false,
};

/**
 * @param offset tar offset of the entry's last header block (for error messages)
 */
export function buildEntry(
  h: TarHeader,
  meta: MetaState,
  headerOffset: number,
  compressedOffset: number,
  offset: number,
  layer: number | undefined,
): BuiltEntry {
  const pax = meta.pax;
  // As Go's archive/tar: a GNU long name wins over a PAX path; a PAX 1.0 sparse name over both.
  const rawName =
    paxGet(pax, "GNU.sparse.name") ?? meta.longName ?? paxGet(pax, "path") ?? h.name;
  const rawLink = meta.longLink ?? paxGet(pax, "linkpath") ?? h.linkname;
  const type = entryTypeOf(h.typeflag, rawName);
  const stored = isHeaderOnly(h.typeflag)
    ? 0
    : safeSize(paxSize(pax, "size", offset) ?? h.size, "size", offset);
  let size = HAS_CONTENT[type] ? stored : 0;
  let sparse = false;
  if (h.sparse !== undefined) {
    sparse = true;
    size = safeSize(h.sparse.realSize, "sparse real size", offset);
  } else if (pax !== null) {
    const real = paxSize(pax, "GNU.sparse.realsize", offset) ?? paxSize(pax, "GNU.sparse.size", offset);
    if (real !== undefined) {
      sparse = true;
      size = real;
    }
  }
  const entry: Entry = {
    path: normalizePath(rawName),
    type,
    mode: h.mode & 0o7777,
    size,
    uid: paxInt(pax, "uid") ?? h.uid,
    gid: paxInt(pax, "gid") ?? h.gid,
    mtime: paxTime(pax, "mtime") ?? h.mtime,
    headerOffset,
    compressedOffset,
  };
  const uname = paxGet(pax, "uname") ?? h.uname;
  if (uname !== "") entry.uname = uname;
  const gname = paxGet(pax, "gname") ?? h.gname;
  if (gname !== "") entry.gname = gname;
  if (type === "symlink") entry.linkname = rawLink;
  else if (type === "hardlink") entry.linkname = normalizePath(rawLink);
  if (type === "char" || type === "block") {
    entry.devmajor = paxInt(pax, "SCHILY.devmajor") ?? h.devmajor;
    entry.devminor = paxInt(pax, "SCHILY.devminor") ?? h.devminor;
  }
  if (layer !== undefined) entry.layer = layer;
  return { entry, stored, content: sparse ? 0 : size, sparse };
}
