/**
 * Text formatting for people: ls-style modes, sizes, times, escaping of untrusted names.
 * Everything here is pure; nothing writes to a stream.
 */
import { LayerslayerError } from "../errors.ts";
import { escapeName } from "../names.ts";
import type { EntryType } from "../types.ts";

// ---------------------------------------------------------------- modes

const TYPE_LETTER: Record<EntryType, string> = {
  file: "-",
  hardlink: "-", // ls shows the data's type; the line gets a "link to TARGET" suffix instead
  contiguous: "-", // GNU tar extracts 'C' members as regular files
  dir: "d",
  symlink: "l",
  char: "c",
  block: "b",
  fifo: "p",
  "pax-global": "g", // a PAX global header, listed as the archive has it (GNU tar -tv shows "g" too)
};

/** ls -l mode column: "drwxr-xr-x", "-rwsr-xr-x", "drwxrwxrwt", "-rwSr--r--" ... */
export function modeString(type: EntryType, mode: number): string {
  const letter = TYPE_LETTER[type] ?? "?";
  // A listing has a handful of distinct modes: each string is made once (at most 9 letters × 4096 modes).
  const key = letter + (mode & 0o7777);
  let s = MODES.get(key);
  if (s === undefined) {
    s = letter + modeBits(mode & 0o7777);
    MODES.set(key, s);
  }
  return s;
}

const MODES = new Map<string, string>();

function modeBits(m: number): string {
  const bit = (mask: number, ch: string): string => (m & mask ? ch : "-");
  const exec = (xMask: number, special: number, on: string, off: string): string => {
    if (m & special) return m & xMask ? on : off;
    return m & xMask ? "x" : "-";
  };
  return (
    bit(0o400, "r") +
    bit(0o200, "w") +
    exec(0o100, 0o4000, "s", "S") +
    bit(0o040, "r") +
    bit(0o020, "w") +
    exec(0o010, 0o2000, "s", "S") +
    bit(0o004, "r") +
    bit(0o002, "w") +
    exec(0o001, 0o1000, "t", "T")
  );
}

// ---------------------------------------------------------------- sizes

const UNITS = ["K", "M", "G", "T", "P", "E", "Z", "Y"];

/**
 * Human size like GNU `ls -h`: 1024-based, rounded up, one decimal below 10:
 * 0 → "0", 1023 → "1023", 1024 → "1.0K", 1536 → "1.5K", 1025 → "1.1K", 10240 → "10K", 23 MiB → "23M".
 */
export function humanSize(n: number): string {
  if (!Number.isFinite(n) || n < 0) return "?";
  if (n < 1024) return String(Math.ceil(n));
  let value = n;
  let unit = -1;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  if (value < 10) {
    const tenths = Math.ceil(value * 10 - 1e-9) / 10;
    if (tenths < 10) return `${tenths.toFixed(1)}${UNITS[unit]}`;
    return `10${UNITS[unit]}`;
  }
  const whole = Math.ceil(value - 1e-9);
  if (whole >= 1024 && unit < UNITS.length - 1) return `1.0${UNITS[unit + 1]}`;
  return `${whole}${UNITS[unit]}`;
}

const SIZE_RE = /^(\d+(?:\.\d+)?|\.\d+)[ ]?(?:([kmgtp])(?:i?b)?|(b))?$/i;
const MULTIPLIER: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/**
 * Parse a size option: "1000", "64K", "64k", "256KB", "1MiB", "1.5M", "2 G", "100B".
 * K, KB and KiB all mean 1024 (like most CLI tools: docker, curl, dd's K); M = 1024², etc.
 * Fractions need a unit and are rounded down to whole bytes; a bare number must be whole.
 * Throws LayerslayerError("USAGE") naming the bad value.
 */
export function parseSize(text: string, what = "size"): number {
  const s = text.trim();
  const m = SIZE_RE.exec(s);
  const bad = (why: string): LayerslayerError => new LayerslayerError("USAGE", `invalid ${what} "${escapeName(text)}": ${why}`);
  if (!m) throw bad("expected a number with an optional K, M, G, T or P suffix (1024-based), e.g. 64K, 1.5M, 1MiB");
  const num = Number(m[1]);
  const unit = m[2]?.toLowerCase();
  if (!unit && !Number.isInteger(num)) throw bad("a size in bytes must be a whole number (or use a unit, e.g. 1.5K)");
  const bytes = Math.floor(num * (unit ? MULTIPLIER[unit]! : 1));
  if (!Number.isSafeInteger(bytes)) throw bad("too large");
  return bytes;
}

// ---------------------------------------------------------------- escaping

// Defined below every stage that prints names (names.ts); here for the output code.

// ---------------------------------------------------------------- times

const pad2 = (n: number): string => String(n).padStart(2, "0");

/** "YYYY-MM-DD HH:MM" in UTC; "????-??-?? ??:??" (same width) for a time a Date cannot hold. */
export function formatTime(mtimeSeconds: number): string {
  if (!Number.isFinite(mtimeSeconds)) return UNKNOWN_TIME;
  // Files of a layer share a few thousand distinct minutes at most: each string is made once
  // (the cache starts over past TIMES_MAX, so it stays small whatever the layer holds).
  const minute = Math.floor(mtimeSeconds / 60);
  let s = TIMES.get(minute);
  if (s === undefined) {
    if (TIMES.size >= TIMES_MAX) TIMES.clear();
    s = timeOfMinute(minute);
    TIMES.set(minute, s);
  }
  return s;
}

const UNKNOWN_TIME = "????-??-?? ??:??";
const TIMES = new Map<number, string>();
const TIMES_MAX = 8192;

function timeOfMinute(minute: number): string {
  const d = new Date(minute * 60_000);
  if (Number.isNaN(d.getTime())) return UNKNOWN_TIME;
  const y = d.getUTCFullYear();
  const year = y >= 0 && y <= 9999 ? String(y).padStart(4, "0") : String(y);
  return `${year}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}`;
}

// ---------------------------------------------------------------- tables

export type Align = "left" | "right";

const SURROGATE = /[\uD800-\uDFFF]/;

/** Display width in code points (names are the last column and never padded). */
export function width(s: string): number {
  // UTF-16 units are code points unless there are surrogates: one regex test first (the common
  // case), then a count without the string iterator, which took most of a `peek`'s time.
  if (!SURROGATE.test(s)) return s.length;
  // Code points as `for…of` counts them: a high surrogate followed by a low one is one.
  let n = s.length;
  for (let i = 0; i < s.length - 1; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

const SPACES = " ".repeat(64);

/** `cell` padded with spaces to `w` code points, on the right (left-aligned) or the left. */
export function pad(cell: string, w: number, align: Align = "left"): string {
  const n = w - width(cell);
  if (n <= 0) return cell;
  const padding = n <= SPACES.length ? SPACES.slice(0, n) : " ".repeat(n);
  return align === "right" ? padding + cell : cell + padding;
}

/** Column widths of a table: the widest cell of each column. */
export function columnWidths(rows: readonly (readonly string[])[]): number[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      const w = width(cell);
      if (w > (widths[i] ?? 0)) widths[i] = w;
    });
  }
  return widths;
}

/**
 * Align rows into lines: cells padded to `widths` (default: computed from the rows), joined by one
 * space. The last cell of a row is never padded (no trailing spaces). `align[i]` defaults to left.
 */
export function formatTable(rows: readonly (readonly string[])[], align: readonly Align[] = [], widths?: readonly number[]): string[] {
  const w = widths ?? columnWidths(rows);
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 && align[i] !== "right" ? cell : pad(cell, w[i] ?? 0, align[i]))).join(" "));
}
