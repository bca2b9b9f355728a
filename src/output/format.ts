/**
 * Text formatting for people: ls-style modes, sizes, times, escaping of untrusted names.
 * Everything here is pure; nothing writes to a stream.
 */
import { LayerslayerError } from "../errors.ts";
import { decodeName, encodeName, rawByteOf } from "../tar/text.ts";
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
  const m = mode & 0o7777;
  const bit = (mask: number, ch: string): string => (m & mask ? ch : "-");
  const exec = (xMask: number, special: number, on: string, off: string): string => {
    if (m & special) return m & xMask ? on : off;
    return m & xMask ? "x" : "-";
  };
  return (
    (TYPE_LETTER[type] ?? "?") +
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
  const bad = (why: string): LayerslayerError =>
    new LayerslayerError("USAGE", `invalid ${what} "${escapeName(text)}": ${why}`);
  if (!m) throw bad("expected a number with an optional K, M, G, T or P suffix (1024-based), e.g. 64K, 1.5M, 1MiB");
  const num = Number(m[1]);
  const unit = m[2]?.toLowerCase();
  if (!unit && !Number.isInteger(num)) throw bad("a size in bytes must be a whole number (or use a unit, e.g. 1.5K)");
  const bytes = Math.floor(num * (unit ? MULTIPLIER[unit]! : 1));
  if (!Number.isSafeInteger(bytes)) throw bad("too large");
  return bytes;
}

// ---------------------------------------------------------------- escaping

const SHORT_ESCAPES: Record<string, string> = { "\n": "\\n", "\t": "\\t", "\r": "\\r", "\\": "\\\\" };
/**
 * Characters that must not reach a terminal raw: C0 controls, DEL, C1 controls, line/paragraph
 * separators, bidi overrides/isolates/marks (which can reorder what is shown), lone surrogates,
 * and the backslash (so that every backslash in the output starts an escape).
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\\\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function hex(code: number, width: number): string {
  return code.toString(16).padStart(width, "0");
}

/**
 * Make an untrusted name safe to print: "\x1b[31m" → "\\x1b[31m", newline → "\\n", tab → "\\t",
 * "\\" → "\\\\", U+009B (C1 CSI) → "\\u009b", U+202E → "\\u202e". Printable Unicode is kept.
 * C0 controls and DEL are shown as \xHH (same value as the byte); a byte of a name that is not
 * UTF-8 (kept as U+DC80..U+DCFF, see tar/text.ts) as \xHH too, the byte itself ("\x80");
 * everything else as \uHHHH (a code point, not a byte of the UTF-8 encoding).
 * `unescapeName` reads this form back.
 */
export function escapeName(s: string): string {
  UNSAFE.lastIndex = 0;
  if (!UNSAFE.test(s)) return s;
  return s.replace(UNSAFE, (ch) => {
    const short = SHORT_ESCAPES[ch];
    if (short) return short;
    const code = ch.charCodeAt(0);
    const raw = rawByteOf(code);
    if (raw >= 0) return `\\x${hex(raw, 2)}`;
    return code < 0x80 ? `\\x${hex(code, 2)}` : `\\u${hex(code, 4)}`;
  });
}

const UNESCAPE = /\\(?:x([0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|([\\ntr]))/g;
const SHORT_UNESCAPES: Record<string, string> = { "\\": "\\", n: "\n", t: "\t", r: "\r" };

/**
 * Read a name in the form `escapeName` prints (a path typed by a user after `ls` showed it):
 * \\ \n \t \r, \xHH (a byte) and \uHHHH (a character); a backslash before anything else is
 * itself. Bytes are put together and decoded as the tar stage decodes names, so "\xc3\xa9" is
 * "é" and "\x80" the byte 0x80 of a name that is not UTF-8.
 */
export function unescapeName(s: string): string {
  if (!s.includes("\\")) return s;
  const bytes: number[] = [];
  let last = 0;
  const text = (t: string) => {
    for (const b of encodeName(t)) bytes.push(b);
  };
  UNESCAPE.lastIndex = 0;
  for (let m = UNESCAPE.exec(s); m !== null; m = UNESCAPE.exec(s)) {
    text(s.slice(last, m.index));
    if (m[1] !== undefined) bytes.push(parseInt(m[1], 16));
    else if (m[2] !== undefined) text(String.fromCharCode(parseInt(m[2], 16)));
    else text(SHORT_UNESCAPES[m[3]!]!);
    last = UNESCAPE.lastIndex;
  }
  text(s.slice(last));
  return decodeName(Uint8Array.from(bytes));
}

// ---------------------------------------------------------------- times

const pad2 = (n: number): string => String(n).padStart(2, "0");

/** "YYYY-MM-DD HH:MM" in UTC; "????-??-?? ??:??" (same width) for a time a Date cannot hold. */
export function formatTime(mtimeSeconds: number): string {
  const d = new Date(Math.floor(mtimeSeconds) * 1000);
  if (!Number.isFinite(mtimeSeconds) || Number.isNaN(d.getTime())) return "????-??-?? ??:??";
  const y = d.getUTCFullYear();
  const year = y >= 0 && y <= 9999 ? String(y).padStart(4, "0") : String(y);
  return `${year}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}`;
}

// ---------------------------------------------------------------- tables

export type Align = "left" | "right";

/** Display width in code points (names are the last column and never padded). */
function width(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
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
  return rows.map((row) =>
    row
      .map((cell, i) => {
        if (i === row.length - 1 && align[i] !== "right") return cell;
        const padding = " ".repeat(Math.max(0, (w[i] ?? 0) - width(cell)));
        return align[i] === "right" ? padding + cell : cell + padding;
      })
      .join(" "),
  );
}
