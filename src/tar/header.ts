/**
 * One 512-byte tar header block: v7, ustar (POSIX), GNU and star layouts.
 *
 * Layout (offsets in bytes):
 *   name 0..100  mode 100..108  uid 108..116  gid 116..124  size 124..136  mtime 136..148
 *   chksum 148..156  typeflag 156  linkname 157..257  magic 257..263  version 263..265
 *   uname 265..297  gname 297..329  devmajor 329..337  devminor 337..345
 *   ustar: prefix 345..500          star: prefix 345..476, trailer "tar\0" at 508
 *   GNU:   atime 345..357, ctime 357..369, offset 369..381, longnames 381..385,
 *          sparse[4] 386..482 (offset 12 + numbytes 12 each), isextended 482, realsize 483..495
 */
import { LayerslayerError } from "../errors.ts";
import type { EntryType } from "../types.ts";
import { decodeName } from "./text.ts";

export const BLOCK = 512;

/** Type flags as byte values. */
export const TF = {
  REG: 0x30, // '0'
  AREG: 0x00, // '\0' (old v7 regular file)
  LINK: 0x31, // '1'
  SYM: 0x32, // '2'
  CHR: 0x33, // '3'
  BLK: 0x34, // '4'
  DIR: 0x35, // '5'
  FIFO: 0x36, // '6'
  CONT: 0x37, // '7'
  PAX: 0x78, // 'x'
  PAX_SOLARIS: 0x58, // 'X' (Solaris/star spelling of 'x')
  PAX_GLOBAL: 0x67, // 'g'
  GNU_LONGNAME: 0x4c, // 'L'
  GNU_LONGLINK: 0x4b, // 'K'
  GNU_SPARSE: 0x53, // 'S'
  GNU_DUMPDIR: 0x44, // 'D'
} as const;

export type HeaderFormat = "v7" | "ustar" | "gnu" | "star";

export interface SparseSegment {
  offset: number;
  numbytes: number;
}

export interface TarHeader {
  /** Full name: for ustar the prefix is already joined with "/". */
  name: string;
  /** Raw mode field (may include file-type bits some writers set). */
  mode: number;
  uid: number;
  gid: number;
  /** Size field: bytes of data following the header (for GNU sparse: bytes stored). May be unsafe: check before use. */
  size: number;
  mtime: number;
  typeflag: number;
  linkname: string;
  format: HeaderFormat;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
  /** Old GNU sparse ('S'): the map in this header, whether extension blocks follow, the real file size. */
  sparse?: { map: SparseSegment[]; extended: boolean; realSize: number };
}

export function corrupt(what: string, offset: number): LayerslayerError {
  return new LayerslayerError("CORRUPT", `${what} at tar offset ${offset}`);
}

/** Decode a NUL-terminated (or field-filling) string field, byte for byte (text.ts). */
export function cString(b: Uint8Array, start: number, len: number): string {
  const limit = start + len;
  let end = start;
  while (end < limit && b[end] !== 0) end++;
  return end === start ? "" : decodeName(b.subarray(start, end));
}

/** Like cString, for fields that repeat from header to header (user and group names): reuses the last string. */
class FieldCache {
  private bytes = new Uint8Array(32);
  private len = -1;
  private value = "";
  get(b: Uint8Array, start: number, len: number): string {
    const limit = start + len;
    let end = start;
    while (end < limit && b[end] !== 0) end++;
    const n = end - start;
    if (n === this.len) {
      let i = 0;
      while (i < n && this.bytes[i] === b[start + i]) i++;
      if (i === n) return this.value;
    }
    this.value = n === 0 ? "" : decodeName(b.subarray(start, end));
    if (n <= this.bytes.length) {
      this.bytes.set(b.subarray(start, end));
      this.len = n;
    } else this.len = -1;
    return this.value;
  }
}
const unameCache = new FieldCache();
const gnameCache = new FieldCache();

/**
 * A numeric header field, as Go's archive/tar reads it: GNU base-256 when the high bit of the
 * first byte is set (bit 0x40 set means negative, two's complement; the value must fit in 63
 * bits), else octal text: spaces and NULs trimmed from both ends, cut at the first NUL left, then
 * nothing but octal digits ("" is 0). Values beyond 2^53 come back inexact: callers that need
 * exactness check Number.isSafeInteger. Anything else is CORRUPT.
 */
export function parseNumeric(b: Uint8Array, start: number, len: number, field: string, offset: number): number {
  const first = b[start]!;
  if (first & 0x80) {
    const inv = first & 0x40 ? 0xff : 0;
    let x = 0;
    let high = 0; // bits above the low 63 (exact, unlike x)
    for (let i = 0; i < len; i++) {
      let c = b[start + i]! ^ inv;
      if (i === 0) c &= 0x7f;
      if (i < len - 8) high |= c;
      else if (i === len - 8) high |= c & 0x80;
      x = x * 256 + c;
    }
    if (high !== 0) throw corrupt(`numeric ${field} field out of range in tar header`, offset);
    return inv ? -x - 1 : x;
  }
  let i = start;
  let end = start + len;
  while (i < end && (b[i] === 0x20 || b[i] === 0)) i++;
  while (end > i && (b[end - 1] === 0x20 || b[end - 1] === 0)) end--;
  let v = 0;
  for (; i < end; i++) {
    const c = b[i]!;
    if (c === 0) break;
    if (c < 0x30 || c > 0x37) throw corrupt(`invalid numeric ${field} field in tar header`, offset);
    v = v * 8 + (c - 0x30);
  }
  return v;
}

/** True when all 512 bytes are zero (the end-of-archive marker). */
export function isZeroBlock(b: Uint8Array, start = 0): boolean {
  for (let i = start, end = start + BLOCK; i < end; i++) if (b[i] !== 0) return false;
  return true;
}

// An aligned copy of the block being parsed, so the byte sum can read 32-bit words.
const scratch32 = new Uint32Array(BLOCK / 4);
const scratch = new Uint8Array(scratch32.buffer);

/** Sum of the 512 bytes in `scratch`, four at a time (two 16-bit lanes never overflow: 128 × 2 × 255 < 2^16). */
function scratchSum(): number {
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < BLOCK / 4; i++) {
    const w = scratch32[i]!;
    lo += w & 0x00ff00ff;
    hi += (w >>> 8) & 0x00ff00ff;
  }
  return (lo & 0xffff) + Math.floor(lo / 0x10000) + (hi & 0xffff) + Math.floor(hi / 0x10000);
}

/**
 * Check the checksum of the block in `scratch` given the sum of all its bytes. GNU tar accepts
 * both the unsigned byte sum (POSIX) and the signed one (historic Sun writers), with the
 * checksum field itself counted as eight spaces.
 */
function scratchChecksumOk(total: number, offset: number): boolean {
  if (scratch[148]! & 0x80) return false; // the checksum is octal text only
  let field = 0;
  for (let i = 148; i < 156; i++) field += scratch[i]!;
  const unsigned = total - field + 8 * 0x20;
  const stored = parseNumeric(scratch, 148, 8, "chksum", offset);
  if (stored === unsigned) return true;
  let high = 0;
  for (let i = 0; i < BLOCK; i++) if (i < 148 || i >= 156) high += scratch[i]! >> 7;
  return stored === unsigned - 256 * high;
}

/** Verify the checksum of the block at b[start..start+512] (for tests and tools). */
export function checksumOk(b: Uint8Array, start: number, offset: number): boolean {
  scratch.set(b.subarray(start, start + BLOCK));
  return scratchChecksumOk(scratchSum(), offset);
}

function matches(b: Uint8Array, at: number, s: string): boolean {
  for (let i = 0; i < s.length; i++) if (b[at + i] !== s.charCodeAt(i)) return false;
  return true;
}

export function detectFormat(b: Uint8Array, start: number): HeaderFormat {
  if (matches(b, start + 257, "ustar  \0")) return "gnu";
  if (matches(b, start + 257, "ustar\0")) {
    return matches(b, start + 508, "tar\0") ? "star" : "ustar";
  }
  return "v7";
}

/** GNU atime/ctime (345..357, 357..369): each either unset (first byte NUL) or a number. */
function gnuTimesParse(b: Uint8Array, offset: number): boolean {
  try {
    if (b[345] !== 0) parseNumeric(b, 345, 12, "atime", offset);
    if (b[357] !== 0) parseNumeric(b, 357, 12, "ctime", offset);
    return true;
  } catch {
    return false;
  }
}

/**
 * Parse the header block at b[start..start+512] found at tar offset `offset`.
 * Returns null for an all-zero block (end-of-archive marker). Throws CORRUPT on a bad checksum
 * or an unreadable numeric field.
 */
export function parseHeader(block: Uint8Array, blockStart: number, offset: number): TarHeader | null {
  scratch.set(block.subarray(blockStart, blockStart + BLOCK));
  const total = scratchSum();
  if (total === 0) return null; // all bytes zero
  if (!scratchChecksumOk(total, offset)) throw corrupt("tar header checksum mismatch", offset);
  const b = scratch;
  const start = 0;
  const format = detectFormat(b, start);
  const typeflag = b[start + 156]!;
  let name = cString(b, start, 100);
  let prefix = "";
  if (format === "ustar" || format === "star") {
    prefix = cString(b, start + 345, format === "star" ? 131 : 155);
  } else if (format === "gnu" && !gnuTimesParse(b, offset)) {
    // Go before 1.8 wrote a ustar prefix into GNU headers (over atime/ctime); Go still reads it
    // back when those fields are not numbers and the prefix is ASCII.
    const p = cString(b, start + 345, 155);
    if (!/[^\x00-\x7f]/.test(p)) prefix = p;
  }
  if (prefix !== "") name = `${prefix}/${name}`;
  const h: TarHeader = {
    name,
    mode: parseNumeric(b, start + 100, 8, "mode", offset),
    uid: parseNumeric(b, start + 108, 8, "uid", offset),
    gid: parseNumeric(b, start + 116, 8, "gid", offset),
    size: parseNumeric(b, start + 124, 12, "size", offset),
    mtime: parseNumeric(b, start + 136, 12, "mtime", offset),
    typeflag,
    linkname: cString(b, start + 157, 100),
    format,
    uname: "",
    gname: "",
    devmajor: 0,
    devminor: 0,
  };
  if (format !== "v7") {
    h.uname = unameCache.get(b, start + 265, 32);
    h.gname = gnameCache.get(b, start + 297, 32);
    // Go reads the device numbers (and star's times) of every entry: garbage there is an error.
    h.devmajor = parseNumeric(b, start + 329, 8, "devmajor", offset);
    h.devminor = parseNumeric(b, start + 337, 8, "devminor", offset);
    if (format === "star") {
      parseNumeric(b, start + 476, 12, "atime", offset);
      parseNumeric(b, start + 488, 12, "ctime", offset);
    }
  }
  if (typeflag === TF.GNU_SPARSE) {
    if (format !== "gnu") throw corrupt("old GNU sparse entry in a non-GNU header", offset);
    const map: SparseSegment[] = [];
    readSparseMap(b, start + 386, 4, map, offset);
    h.sparse = {
      map,
      extended: b[start + 482] !== 0,
      realSize: parseNumeric(b, start + 483, 12, "realsize", offset),
    };
  }
  return h;
}

/** Read up to `count` (offset, numbytes) pairs of 12+12 octal bytes; an empty offset field ends the map. */
export function readSparseMap(b: Uint8Array, start: number, count: number, into: SparseSegment[], offset: number): void {
  for (let i = 0; i < count; i++) {
    const at = start + i * 24;
    if (b[at] === 0) return;
    into.push({
      offset: parseNumeric(b, at, 12, "sparse offset", offset),
      numbytes: parseNumeric(b, at + 12, 12, "sparse numbytes", offset),
    });
  }
}

/**
 * Read one old-GNU sparse extension block (21 map entries, isextended at 504).
 * Returns whether another extension block follows. Extension blocks carry no checksum.
 */
export function parseSparseExtension(b: Uint8Array, start: number, into: SparseSegment[], offset: number): boolean {
  readSparseMap(b, start, 21, into, offset);
  return b[start + 504] !== 0;
}

/** Types that never have data blocks after the header, whatever their size field says (as Go's archive/tar). */
export function isHeaderOnly(typeflag: number): boolean {
  return typeflag >= TF.LINK && typeflag <= TF.FIFO;
}

/**
 * Map a type flag to the entry type word. Unknown flags are regular files (POSIX). The old v7
 * flag ('\0') must already be resolved (see entry.ts: a directory when the name ends in "/").
 */
export function entryTypeOf(typeflag: number): EntryType {
  switch (typeflag) {
    case TF.LINK:
      return "hardlink";
    case TF.SYM:
      return "symlink";
    case TF.CHR:
      return "char";
    case TF.BLK:
      return "block";
    case TF.DIR:
    case TF.GNU_DUMPDIR:
      return "dir";
    case TF.FIFO:
      return "fifo";
    case TF.CONT:
      return "contiguous";
    default:
      return "file";
  }
}
