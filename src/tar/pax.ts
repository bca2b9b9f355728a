/**
 * PAX extended headers ('x' per entry, 'X' the Solaris/star spelling of it, 'g' global) and GNU
 * long names ('L', 'K'), read the way Go's archive/tar reads them (docs/tar-semantics.md).
 *
 * A PAX record is "%d %s=%s\n": the decimal length counts the whole record including itself and
 * the newline; the value runs to the newline that the length points at, so it may contain '='
 * and newlines. The data is records and nothing else: no padding, no partial record. A key is
 * never empty; `path`, `linkpath`, `uname` and `gname` values hold no NUL, and no other key does.
 * Keys and values are bytes; they are decoded losslessly (text.ts).
 */
import { corrupt } from "./header.ts";
import { decodeName } from "./text.ts";

/** Largest meta header (PAX 'x'/'g', GNU 'L'/'K') we agree to buffer, and the bound on all meta data for one entry. */
export const MAX_META_SIZE = 1 << 20;

export type PaxRecords = Map<string, string>;

/** GNU sparse 0.0 writes the map as repeated offset/numbytes records; they are joined into this key (as in 0.1). */
export const SPARSE_MAP = "GNU.sparse.map";
const SPARSE_OFFSET = "GNU.sparse.offset";
const SPARSE_NUMBYTES = "GNU.sparse.numbytes";

const NUL_FREE_VALUES = new Set(["path", "linkpath", "uname", "gname"]);

/** Parse the records of one PAX header's data. Any malformed record is CORRUPT. */
export function parsePax(data: Uint8Array, offset: number): PaxRecords {
  const out: PaxRecords = new Map();
  const sparse: string[] = [];
  const n = data.length;
  let pos = 0;
  while (pos < n) {
    // The length: decimal digits (an optional sign, as strconv.ParseInt takes it) up to a space.
    let i = pos;
    let sign = 1;
    if (data[i] === 0x2b || data[i] === 0x2d) {
      if (data[i] === 0x2d) sign = -1;
      i++;
    }
    const digits = i;
    let len = 0;
    while (i < n && data[i]! >= 0x30 && data[i]! <= 0x39 && i - digits < 16) {
      len = len * 10 + (data[i]! - 0x30);
      i++;
    }
    if (i === digits || i >= n || data[i] !== 0x20) throw corrupt("malformed PAX record length", offset);
    len *= sign;
    const end = pos + len; // one past the '\n'
    if (len < 5 || end > n || end <= i + 1 || data[end - 1] !== 0x0a) throw corrupt("malformed PAX record", offset);
    const body = data.subarray(i + 1, end - 1);
    const eq = body.indexOf(0x3d);
    if (eq < 0) throw corrupt("malformed PAX record (no '=')", offset);
    if (eq === 0) throw corrupt("malformed PAX record (empty key)", offset);
    const keyBytes = body.subarray(0, eq);
    const valueBytes = body.subarray(eq + 1);
    const key = decodeName(keyBytes);
    if (NUL_FREE_VALUES.has(key)) {
      if (valueBytes.includes(0)) throw corrupt(`PAX ${key} holds a NUL byte`, offset);
    } else if (keyBytes.includes(0)) throw corrupt("PAX record key holds a NUL byte", offset);
    const value = decodeName(valueBytes);
    if (key === SPARSE_OFFSET || key === SPARSE_NUMBYTES) {
      const wanted = sparse.length % 2 === 0 ? SPARSE_OFFSET : SPARSE_NUMBYTES;
      if (key !== wanted || value.includes(",")) throw corrupt("malformed GNU sparse 0.0 map", offset);
      sparse.push(value);
    } else out.set(key, value);
    pos = end;
  }
  if (sparse.length > 0) out.set(SPARSE_MAP, sparse.join(","));
  return out;
}

/** Text of a GNU 'L'/'K' header's data: up to the first NUL. */
export function gnuLongName(data: Uint8Array): string {
  const nul = data.indexOf(0);
  return decodeName(nul < 0 ? data : data.subarray(0, nul));
}

/** A value from the records, or undefined when absent or empty (an empty value keeps the header's own). */
export function paxGet(r: PaxRecords | null, key: string): string | undefined {
  if (r === null) return undefined;
  const v = r.get(key);
  return v === undefined || v === "" ? undefined : v;
}

const INT_RE = /^[+-]?[0-9]+$/;
const INT64_MAX = 9223372036854775807n;

/** A decimal integer as Go's strconv.ParseInt(s, 10, 64) reads it, or undefined when it would fail. */
export function goInt(s: string): number | undefined {
  if (!INT_RE.test(s)) return undefined;
  if (s.length > 15) {
    const big = BigInt(s);
    if (big > INT64_MAX || big < -INT64_MAX - 1n) return undefined;
  }
  return Number(s);
}

/** A PAX time ("secs[.frac]") as Go reads it, in seconds, or undefined when Go would reject it. */
export function goPaxTime(s: string): number | undefined {
  const dot = s.indexOf(".");
  const secs = goInt(dot < 0 ? s : s.slice(0, dot));
  if (secs === undefined) return undefined;
  if (dot < 0) return secs;
  const frac = s.slice(dot + 1);
  if (!/^[0-9]*$/.test(frac)) return undefined;
  if (frac === "") return secs;
  const f = Number(`0.${frac.slice(0, 9)}`);
  return s.startsWith("-") ? secs - f : secs + f;
}

/** An integer record ("uid", "gid", "size", …): absent/empty → undefined; malformed → CORRUPT. */
export function paxInt(r: PaxRecords | null, key: string, offset: number): number | undefined {
  const v = paxGet(r, key);
  if (v === undefined) return undefined;
  const n = goInt(v);
  if (n === undefined) throw corrupt(`invalid PAX ${key} record`, offset);
  return n;
}

/** A time record ("mtime", "atime", "ctime"): absent/empty → undefined; malformed → CORRUPT. */
export function paxTime(r: PaxRecords | null, key: string, offset: number): number | undefined {
  const v = paxGet(r, key);
  if (v === undefined) return undefined;
  const t = goPaxTime(v);
  if (t === undefined) throw corrupt(`invalid PAX ${key} record`, offset);
  return t;
}
