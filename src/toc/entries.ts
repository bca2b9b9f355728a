/**
 * TOC JSON → listing entries and each regular file's chunks. eStargz (`stargz.index.json`) and
 * zstd:chunked write the same entry shape: name, type ("reg", "dir", "symlink", "hardlink", "char",
 * "block", "fifo", and "chunk" for a file's later pieces), size, modtime (RFC 3339), linkName, mode,
 * uid, gid, userName, groupName, devMajor, devMinor, offset, chunkOffset, chunkSize, chunkDigest,
 * digest; zstd:chunked adds endOffset. eStargz writes userName/groupName only when they change for
 * an id, so a name is carried over to later entries with the same id.
 */
import { LayerslayerError } from "../errors.ts";
import { normalizePath } from "../tar/entry.ts";
import type { Entry, EntryType } from "../types.ts";
import type { LayerToc, TocChunk, TocContent, TocFormat } from "./types.ts";

/** Entries the eStargz format adds to a layer for itself (not the image's files). */
export const ESTARGZ_OWN = new Set(["stargz.index.json", ".prefetch.landmark", ".no.prefetch.landmark"]);

const TYPES: Record<string, EntryType> = {
  reg: "file",
  dir: "dir",
  symlink: "symlink",
  hardlink: "hardlink",
  char: "char",
  block: "block",
  fifo: "fifo",
};

interface RawEntry {
  name?: unknown;
  type?: unknown;
  size?: unknown;
  modtime?: unknown;
  linkName?: unknown;
  mode?: unknown;
  uid?: unknown;
  gid?: unknown;
  userName?: unknown;
  groupName?: unknown;
  devMajor?: unknown;
  devMinor?: unknown;
  offset?: unknown;
  endOffset?: unknown;
  chunkOffset?: unknown;
  chunkSize?: unknown;
  chunkDigest?: unknown;
  digest?: unknown;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/**
 * The most bytes a piece can decode to for each compressed byte: deflate's limit is 1032 to 1; a
 * zstd block of at most 128 KiB takes at least 4 bytes (an RLE block), so 32768 to 1, doubled for
 * safety. A chunk size past this (2^53 bytes from a 100-byte chunk) is a lie, refused before use.
 */
const MAX_RATIO: Record<TocFormat, number> = { estargz: 1032, "zstd:chunked": 65536 };

function bad(why: string): LayerslayerError {
  return new LayerslayerError("CORRUPT", `the TOC ${why}`);
}

function int(v: unknown, what: string, name: string): number {
  if (v === undefined) return 0;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) throw bad(`gives ${name} an invalid ${what}`);
  return v;
}

function str(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

/** RFC 3339 → seconds since the epoch (fractions kept); 0 when absent. */
export function rfc3339Seconds(v: unknown): number {
  if (typeof v !== "string" || v === "") return 0;
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$/.exec(v);
  if (!m) return 0;
  const whole = Date.parse(`${m[1]}${m[3]}`);
  if (!Number.isFinite(whole)) return 0;
  const seconds = whole / 1000;
  // Go writes the zero time as year 1: treat it as unknown, like an absent modtime.
  if (seconds < -62135596800 + 1) return 0;
  return m[2] ? seconds + Number(`0${m[2]}`) : seconds;
}

interface PendingChunk {
  start: number;
  fileOffset: number;
  size: number;
  digest?: string;
}

/**
 * Builds the listing from a parsed TOC document. `dataEnd` is where the layer's file data ends
 * (the TOC's own start): eStargz chunks run to the next chunk's start, or there.
 */
export function tocListing(doc: unknown, format: TocFormat, dataEnd: number): Pick<LayerToc, "entries" | "content"> {
  const list = (doc as { entries?: unknown } | null)?.entries;
  if (!doc || typeof doc !== "object" || !Array.isArray(list)) throw bad("has no entries list");
  const entries: Entry[] = [];
  const content = new Map<Entry, TocContent>();
  const pieces = new Map<Entry, PendingChunk[]>();
  const fileEnd = new Map<Entry, number>();
  const unames = new Map<number, string>();
  const gnames = new Map<number, string>();
  let current: Entry | undefined; // the regular file later "chunk" entries belong to
  for (const raw of list as RawEntry[]) {
    if (!raw || typeof raw !== "object" || typeof raw.name !== "string") throw bad("has an entry without a name");
    const path = normalizePath(raw.name);
    if (raw.type === "chunk") {
      if (!current || current.path !== path) throw bad(`has a chunk of ${JSON.stringify(raw.name.slice(0, 200))} that follows no file of that name`);
      pieces.get(current)!.push(chunkOf(raw, path));
      continue;
    }
    const type = typeof raw.type === "string" ? TYPES[raw.type] : undefined;
    if (!type) throw bad(`gives ${JSON.stringify(path.slice(0, 200))} the unknown type ${JSON.stringify(String(raw.type).slice(0, 40))}`);
    const uid = int(raw.uid, "uid", path);
    const gid = int(raw.gid, "gid", path);
    const uname = str(raw.userName) ?? (format === "estargz" ? unames.get(uid) : undefined);
    const gname = str(raw.groupName) ?? (format === "estargz" ? gnames.get(gid) : undefined);
    if (uname) unames.set(uid, uname);
    if (gname) gnames.set(gid, gname);
    const entry: Entry = {
      path,
      type,
      mode: int(raw.mode, "mode", path) & 0o7777,
      size: type === "file" ? int(raw.size, "size", path) : 0,
      uid,
      gid,
      ...(uname ? { uname } : {}),
      ...(gname ? { gname } : {}),
      mtime: rfc3339Seconds(raw.modtime),
      ...(type === "symlink" ? { linkname: typeof raw.linkName === "string" ? raw.linkName : "" } : {}),
      // A hard link names another member: normalised like member names (as the tar reader does).
      ...(type === "hardlink" ? { linkname: normalizePath(typeof raw.linkName === "string" ? raw.linkName : "") } : {}),
      ...(type === "char" || type === "block" ? { devmajor: int(raw.devMajor, "devMajor", path), devminor: int(raw.devMinor, "devMinor", path) } : {}),
      headerOffset: -1,
      compressedOffset: -1,
    };
    current = undefined;
    if (format === "estargz" && ESTARGZ_OWN.has(path)) continue;
    entries.push(entry);
    if (type !== "file") continue;
    const digest = typeof raw.digest === "string" && DIGEST.test(raw.digest) ? raw.digest : undefined;
    content.set(entry, { chunks: [], ...(digest ? { digest } : {}) });
    pieces.set(entry, entry.size > 0 ? [chunkOf(raw, path)] : []);
    if (raw.endOffset !== undefined) fileEnd.set(entry, int(raw.endOffset, "endOffset", path));
    entry.compressedOffset = entry.size > 0 ? int(raw.offset, "offset", path) : -1;
    current = entry;
  }
  // Where each piece's compressed bytes end.
  const starts = [...new Set([...pieces.values()].flatMap((ps) => ps.map((p) => p.start)))].sort((a, b) => a - b);
  const nextStart = (s: number): number => {
    let lo = 0;
    let hi = starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid]! <= s) lo = mid + 1;
      else hi = mid;
    }
    return lo < starts.length ? starts[lo]! : dataEnd;
  };
  for (const [entry, ps] of pieces) {
    const chunks: TocChunk[] = [];
    for (let i = 0; i < ps.length; i++) {
      const p = ps[i]!;
      const nextOffset = i + 1 < ps.length ? ps[i + 1]!.fileOffset : entry.size;
      const size = p.size > 0 ? p.size : nextOffset - p.fileOffset;
      const end = i + 1 < ps.length && format === "zstd:chunked" ? ps[i + 1]!.start : (fileEnd.get(entry) ?? nextStart(p.start));
      if (p.fileOffset !== (i === 0 ? 0 : chunks[i - 1]!.fileOffset + chunks[i - 1]!.size) || size <= 0 || p.fileOffset + size > entry.size || end <= p.start || end > dataEnd) {
        throw bad(`describes the content of ${JSON.stringify(entry.path.slice(0, 200))} with chunks that do not add up`);
      }
      if (size > (end - p.start) * MAX_RATIO[format]) {
        throw bad(`gives ${JSON.stringify(entry.path.slice(0, 200))} a chunk of ${size} bytes in ${end - p.start} compressed bytes, more than they can hold`);
      }
      chunks.push({ start: p.start, end, fileOffset: p.fileOffset, size, ...(p.digest ? { digest: p.digest } : {}) });
    }
    const covered = chunks.length ? chunks[chunks.length - 1]!.fileOffset + chunks[chunks.length - 1]!.size : 0;
    if (covered !== entry.size) throw bad(`describes ${covered} of the ${entry.size} bytes of ${JSON.stringify(entry.path.slice(0, 200))}`);
    content.get(entry)!.chunks = chunks;
  }
  return { entries, content };
}

function chunkOf(raw: RawEntry, path: string): PendingChunk {
  const digest = typeof raw.chunkDigest === "string" && DIGEST.test(raw.chunkDigest) ? raw.chunkDigest : undefined;
  return {
    start: int(raw.offset, "offset", path),
    fileOffset: int(raw.chunkOffset, "chunkOffset", path),
    size: int(raw.chunkSize, "chunkSize", path),
    ...(digest ? { digest } : {}),
  };
}
