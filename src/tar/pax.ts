/**
 * PAX extended headers ('x' per entry, 'g' global) and GNU long names ('L', 'K').
 *
 * A PAX record is "%d %s=%s\n": the decimal length counts the whole record including itself and
 * the newline; the value runs to the newline that the length points at, so it may contain '='
 * and newlines. Keys and values are UTF-8.
 */
import { corrupt, utf8Decode } from "./header.ts";

/** Largest meta header (PAX 'x'/'g', GNU 'L'/'K') we agree to buffer, and the bound on all meta data for one entry. */
export const MAX_META_SIZE = 1 << 20;

export type PaxRecords = Map<string, string>;

/** Parse the records of one PAX header's data. Trailing NUL padding is tolerated. */
export function parsePax(data: Uint8Array, offset: number): PaxRecords {
  const out: PaxRecords = new Map();
  const n = data.length;
  let pos = 0;
  while (pos < n) {
    if (data[pos] === 0) {
      for (let i = pos; i < n; i++) if (data[i] !== 0) throw corrupt("garbage after PAX records", offset);
      break;
    }
    let len = 0;
    let i = pos;
    while (i < n && data[i]! >= 0x30 && data[i]! <= 0x39 && i - pos < 16) {
      len = len * 10 + (data[i]! - 0x30);
      i++;
    }
    if (i === pos || i >= n || data[i] !== 0x20) throw corrupt("malformed PAX record length", offset);
    const end = pos + len; // one past the '\n'
    if (len <= i + 1 - pos || end > n || data[end - 1] !== 0x0a) {
      throw corrupt("malformed PAX record", offset);
    }
    const body = data.subarray(i + 1, end - 1);
    const eq = body.indexOf(0x3d);
    if (eq <= 0) throw corrupt("malformed PAX record (no key)", offset);
    out.set(utf8Decode(body.subarray(0, eq)), utf8Decode(body.subarray(eq + 1)));
    pos = end;
  }
  return out;
}

/** Text of a GNU 'L'/'K' header's data: up to the first NUL. */
export function gnuLongName(data: Uint8Array): string {
  const nul = data.indexOf(0);
  return utf8Decode(nul < 0 ? data : data.subarray(0, nul));
}

/** Bytes a set of records holds (for bounding the global set). */
export function paxWeight(r: PaxRecords): number {
  let w = 0;
  for (const [k, v] of r) w += k.length + v.length;
  return w;
}

/**
 * Merge the global records with an entry's own: the entry's win. An empty value means "no
 * override": the ustar header's own value is used (POSIX; Go's archive/tar does the same).
 */
export function mergePax(global: PaxRecords | null, local: PaxRecords | null): PaxRecords | null {
  if (global === null || global.size === 0) return local;
  if (local === null || local.size === 0) return global;
  const m = new Map(global);
  for (const [k, v] of local) m.set(k, v);
  return m;
}

/** A value from the records, or undefined when absent or empty. */
export function paxGet(r: PaxRecords | null, key: string): string | undefined {
  if (r === null) return undefined;
  const v = r.get(key);
  return v === undefined || v === "" ? undefined : v;
}

const INT_RE = /^-?[0-9]+$/;
const TIME_RE = /^-?[0-9]+(\.[0-9]*)?$/;

/** A PAX decimal integer, or undefined when absent or not a safe integer. */
export function paxInt(r: PaxRecords | null, key: string): number | undefined {
  const v = paxGet(r, key);
  if (v === undefined || !INT_RE.test(v)) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** A PAX size: absent → undefined, malformed/negative/too big → CORRUPT (we could not find the next header). */
export function paxSize(r: PaxRecords | null, key: string, offset: number): number | undefined {
  const v = paxGet(r, key);
  if (v === undefined) return undefined;
  const n = INT_RE.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < 0) throw corrupt(`invalid PAX ${key} "${v.slice(0, 40)}"`, offset);
  return n;
}

/** A PAX time (seconds, optional fraction), or undefined when absent or malformed. */
export function paxTime(r: PaxRecords | null, key: string): number | undefined {
  const v = paxGet(r, key);
  if (v === undefined || !TIME_RE.test(v)) return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}
