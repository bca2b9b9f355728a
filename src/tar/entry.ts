/** Turn a parsed header plus its meta headers (PAX, GNU long names) into an `Entry`, as Go's archive/tar does. */
import type { Entry, EntryType } from "../types.ts";
import { corrupt, entryTypeOf, isHeaderOnly, TF, type SparseSegment, type TarHeader } from "./header.ts";
import { goInt, paxGet, paxInt, paxTime, SPARSE_MAP, type PaxRecords } from "./pax.ts";
import { parseSparseMapPax } from "./sparse.ts";

/**
 * Normalise an archive member name for `Entry.path`:
 * - leading "./" and "/" are removed (repeatedly: ".//./etc" → "etc"),
 * - trailing "/" is removed ("usr/" → "usr"),
 * - the root ("", ".", "./", "/") becomes ".": root entries are listed, with path ".".
 * Nothing else is touched: "a//b", "a/./b" and ".." components stay as the archive has them
 * (image/paths.ts decides what they mean in the image; never trust them for filesystem writes).
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

/** How a sparse entry's stored data maps onto its content. */
export interface SparseInfo {
  /** Data fragments (offset and length in the file), in order; absent until read from the data (PAX 1.0). */
  map?: SparseSegment[];
  /** GNU PAX 1.0: the map is at the start of the stored data, in 512-byte blocks. */
  mapInData: boolean;
}

export interface BuiltEntry {
  entry: Entry;
  /** Bytes of data blocks following the header (before padding to 512). */
  stored: number;
  /** Bytes of those that are the entry's content (`entry.size`, or 0 for non-files); 0 for sparse files. */
  content: number;
  /** The stored data is a GNU sparse encoding, not the plain content. */
  sparse?: SparseInfo;
}

export interface MetaState {
  /** The records of the last PAX 'x' (or 'X') header before the entry: a later one replaces an earlier one. */
  pax: PaxRecords | null;
  longName: string | null;
  longLink: string | null;
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
  "pax-global": false,
};

/** A sparse map must be in order, without overlaps, inside the file (Go's validateSparseEntries). */
export function validSparseMap(map: readonly SparseSegment[], size: number): boolean {
  let end = 0;
  for (const s of map) {
    if (!Number.isSafeInteger(s.offset) || !Number.isSafeInteger(s.numbytes) || s.offset < 0 || s.numbytes < 0) return false;
    if (s.offset < end || s.offset + s.numbytes > size) return false;
    end = s.offset + s.numbytes;
  }
  return true;
}

/** The GNU sparse records of a PAX header: undefined when the entry is not sparse (Go's readGNUSparsePAXHeaders). */
function paxSparse(pax: PaxRecords, offset: number): { version: "0.x" | "1.0"; name?: string; size?: number } | undefined {
  const major = pax.get("GNU.sparse.major") ?? "";
  const minor = pax.get("GNU.sparse.minor") ?? "";
  let version: "0.x" | "1.0";
  if (major === "0" && (minor === "0" || minor === "1")) version = "0.x";
  else if (major === "1" && minor === "0") version = "1.0";
  else if (major !== "" || minor !== "")
    return undefined; // an unknown version: a plain file
  else if ((pax.get(SPARSE_MAP) ?? "") !== "") version = "0.x";
  else return undefined;
  const out: { version: "0.x" | "1.0"; name?: string; size?: number } = { version };
  const name = paxGet(pax, "GNU.sparse.name");
  if (name !== undefined) out.name = name;
  const size = paxGet(pax, "GNU.sparse.size") ?? paxGet(pax, "GNU.sparse.realsize");
  if (size !== undefined) {
    const n = goInt(size);
    if (n === undefined) throw corrupt("invalid GNU sparse size", offset);
    out.size = n;
  }
  return out;
}

function safeSize(n: number, what: string, offset: number): number {
  if (!Number.isSafeInteger(n) || n < 0) throw corrupt(`invalid ${what} in tar header`, offset);
  return n;
}

/**
 * @param offset tar offset of the entry's last header block (for error messages)
 */
export function buildEntry(h: TarHeader, meta: MetaState, headerOffset: number, compressedOffset: number, offset: number, layer: number | undefined): BuiltEntry {
  const pax = meta.pax;
  // PAX records first (an empty value keeps the header's own), then GNU long names over them.
  let name = paxGet(pax, "path") ?? h.name;
  let link = paxGet(pax, "linkpath") ?? h.linkname;
  const uid = paxInt(pax, "uid", offset) ?? h.uid;
  const gid = paxInt(pax, "gid", offset) ?? h.gid;
  const mtime = paxTime(pax, "mtime", offset) ?? h.mtime;
  paxTime(pax, "atime", offset);
  paxTime(pax, "ctime", offset);
  let size = paxInt(pax, "size", offset) ?? h.size;
  if (meta.longName) name = meta.longName;
  if (meta.longLink) link = meta.longLink;
  let typeflag = h.typeflag;
  // Old v7 archives mark directories only by a trailing slash on a '\0' entry.
  if (typeflag === TF.AREG) typeflag = name.endsWith("/") ? TF.DIR : TF.REG;
  const headerOnly = isHeaderOnly(typeflag);
  const stored = headerOnly ? 0 : safeSize(size, "size", offset);

  let sparse: SparseInfo | undefined;
  if (h.sparse !== undefined) {
    size = h.sparse.realSize;
    sparse = { map: h.sparse.map, mapInData: false };
  } else if (pax !== null) {
    const s = paxSparse(pax, offset);
    if (s) {
      if (s.name !== undefined) name = s.name;
      if (s.size !== undefined) size = s.size;
      sparse = s.version === "1.0" ? { mapInData: true } : { map: parseSparseMapPax(pax, offset), mapInData: false };
    }
  }
  if (sparse) {
    if (headerOnly) throw corrupt("a header-only entry cannot be sparse", offset);
    safeSize(size, "sparse file size", offset);
    if (sparse.map && !validSparseMap(sparse.map, size)) throw corrupt("invalid GNU sparse map", offset);
  }

  const type = entryTypeOf(typeflag);
  const entry: Entry = {
    path: normalizePath(name),
    type,
    mode: h.mode & 0o7777,
    size: HAS_CONTENT[type] ? size : 0,
    uid,
    gid,
    mtime,
    headerOffset,
    compressedOffset,
  };
  const uname = paxGet(pax, "uname") ?? h.uname;
  if (uname !== "") entry.uname = uname;
  const gname = paxGet(pax, "gname") ?? h.gname;
  if (gname !== "") entry.gname = gname;
  if (type === "symlink") entry.linkname = link;
  else if (type === "hardlink") entry.linkname = normalizePath(link);
  if (type === "char" || type === "block") {
    entry.devmajor = h.devmajor;
    entry.devminor = h.devminor;
  }
  if (layer !== undefined) entry.layer = layer;
  const built: BuiltEntry = { entry, stored, content: sparse ? 0 : entry.size };
  if (sparse) built.sparse = sparse;
  return built;
}

/**
 * A PAX global header as an entry of its own (Go returns it from Next and applies it to nothing):
 * type "pax-global", named by its `path` record or else its header's name, no content.
 */
export function globalEntry(h: TarHeader, records: PaxRecords, headerOffset: number, compressedOffset: number, layer: number | undefined): Entry {
  const entry: Entry = {
    path: normalizePath(paxGet(records, "path") ?? h.name),
    type: "pax-global",
    mode: h.mode & 0o7777,
    size: 0,
    uid: h.uid,
    gid: h.gid,
    mtime: h.mtime,
    headerOffset,
    compressedOffset,
  };
  if (layer !== undefined) entry.layer = layer;
  return entry;
}
