/**
 * JSON shapes for `--json` (NDJSON: one object per line). Strings are raw (not terminal-escaped):
 * JSON.stringify escapes control characters, and consumers are programs.
 */
import type { Entry } from "../types.ts";

export interface EntryJson {
  layer?: number;
  path: string;
  type: Entry["type"];
  mode: number;
  size: number;
  uid: number;
  gid: number;
  uname?: string;
  gname?: string;
  /** ISO-8601 UTC; fractions only when the entry has them (µs precision); null if unrepresentable. */
  mtime: string | null;
  linkname?: string;
  /** Only for char/block devices. */
  devmajor?: number;
  devminor?: number;
}

/**
 * ISO-8601 for seconds since the epoch: 1700000000 → "2023-11-14T22:13:20Z",
 * 1700000000.5 → "2023-11-14T22:13:20.5Z". Fractions are rounded to microseconds (a double
 * holds no more near today's epoch values) and trailing zeros are dropped.
 * Returns null when the time is outside what a Date can hold.
 */
export function isoTime(seconds: number): string | null {
  if (!Number.isFinite(seconds)) return null;
  let whole = Math.floor(seconds);
  let micros = Math.round((seconds - whole) * 1e6);
  if (micros >= 1e6) {
    whole += 1;
    micros -= 1e6;
  }
  const d = new Date(whole * 1000);
  if (Number.isNaN(d.getTime())) return null;
  const base = d.toISOString().replace(/\.\d{3}Z$/, "");
  if (micros === 0) return `${base}Z`;
  return `${base}.${String(micros).padStart(6, "0").replace(/0+$/, "")}Z`;
}

/** The NDJSON object of an entry; undefined fields are left out. Key order is stable. */
export function entryJson(entry: Entry): EntryJson {
  const out: Partial<EntryJson> = {};
  if (entry.layer !== undefined) out.layer = entry.layer;
  out.path = entry.path;
  out.type = entry.type;
  out.mode = entry.mode;
  out.size = entry.size;
  out.uid = entry.uid;
  out.gid = entry.gid;
  if (entry.uname !== undefined) out.uname = entry.uname;
  if (entry.gname !== undefined) out.gname = entry.gname;
  out.mtime = isoTime(entry.mtime);
  if (entry.linkname !== undefined) out.linkname = entry.linkname;
  if (entry.type === "char" || entry.type === "block") {
    if (entry.devmajor !== undefined) out.devmajor = entry.devmajor;
    if (entry.devminor !== undefined) out.devminor = entry.devminor;
  }
  return out as EntryJson;
}

/** One NDJSON line (with its "\n"). */
export function ndjsonLine(value: unknown): string {
  return `${JSON.stringify(value)}\n`;
}
