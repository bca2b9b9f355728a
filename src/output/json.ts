/**
 * JSON shapes for `--json` (NDJSON: one object per line). Strings are raw (not terminal-escaped):
 * JSON.stringify escapes C0 control characters, and terminalSafeJson the others that could act on
 * a terminal (as \uXXXX, the same value), so a document is safe wherever it is printed. Every shape is
 * documented in docs/json.md.
 */
import { normalizeEntryPath, ROOT } from "../image/paths.ts";
import { encodeName, hasRawBytes } from "../tar/text.ts";
import type { Entry } from "../types.ts";
import { escapeName } from "../names.ts";

/**
 * The version of every JSON document and NDJSON record we print (its `schema` field). It changes
 * only when a field is removed or changes meaning; new fields may appear without it.
 */
export const JSON_SCHEMA = 1;

/** A clean image path ("etc/passwd", "." for the root) as JSON shows it: absolute ("/etc/passwd", "/"). */
export function absolutePath(clean: string): string {
  return clean === ROOT ? "/" : `/${clean}`;
}

/**
 * A layer member's own name as JSON shows it: normalized like the merged view normalizes it, and
 * absolute ("./usr//bin/" → "/usr/bin"). A name that climbs above the root ("../x") has no place
 * in the image and is shown as it is.
 */
export function layerPath(raw: string): string {
  const clean = normalizeEntryPath(raw);
  return clean === undefined ? raw : absolutePath(clean);
}

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

/**
 * The JSON object of an entry; undefined fields are left out. Key order is stable. `path` is the
 * absolute path to show (merged views pass the entry's place in the image); by default the
 * entry's own name, normalized (layerPath).
 */
export function entryJson(entry: Entry, path = layerPath(entry.path)): EntryJson {
  const out: Partial<EntryJson> = {};
  if (entry.layer !== undefined) out.layer = entry.layer;
  out.path = path;
  out.type = entry.type;
  out.mode = entry.mode;
  out.size = entry.size;
  out.uid = entry.uid;
  out.gid = entry.gid;
  if (entry.uname !== undefined) out.uname = entry.uname;
  if (entry.gname !== undefined) out.gname = entry.gname;
  out.mtime = isoTime(entry.mtime);
  // A hard link names another member (a path in the image, shown like `path`); a symlink's target is its own text.
  if (entry.linkname !== undefined) out.linkname = entry.type === "hardlink" ? layerPath(entry.linkname) : entry.linkname;
  if (entry.type === "char" || entry.type === "block") {
    if (entry.devmajor !== undefined) out.devmajor = entry.devmajor;
    if (entry.devminor !== undefined) out.devminor = entry.devminor;
  }
  return out as EntryJson;
}

/** Marks where `jsonDocumentParts` puts the streamed array (a string no document holds). */
const ARRAY_MARK = "\u0000items of the streamed array\u0000";

/**
 * `jsonDocument(value)` with `value[key]` = the items, written a piece at a time: the same text,
 * byte for byte, without the whole array (or its text) in memory at once.
 */
export function* jsonDocumentParts(value: object, key: string, items: Iterable<object>): Generator<string> {
  const whole = jsonDocument({ ...value, [key]: ARRAY_MARK });
  const mark = JSON.stringify(ARRAY_MARK);
  const at = whole.indexOf(mark);
  yield whole.slice(0, at);
  let first = true;
  for (const item of items) {
    const text = terminalSafeJson(JSON.stringify(item, rawNames, 2)).replaceAll("\n", "\n    ");
    yield `${first ? "[\n" : ",\n"}    ${text}`;
    first = false;
  }
  yield first ? "[]" : "\n  ]";
  yield whole.slice(at + mark.length);
}

/**
 * Characters JSON.stringify leaves raw that act on a terminal or reorder what it shows: DEL, C1
 * controls, line/paragraph separators, bidi marks, overrides and isolates, BOM.
 */
const TERMINAL_UNSAFE = /[\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff]/g;

/**
 * JSON text with the characters of TERMINAL_UNSAFE written as \uXXXX escapes: the same document
 * (they can only stand inside strings, where the escape means the same character), safe on a terminal.
 */
export function terminalSafeJson(text: string): string {
  TERMINAL_UNSAFE.lastIndex = 0;
  if (!TERMINAL_UNSAFE.test(text)) return text;
  return text.replace(TERMINAL_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/**
 * A server's JSON document (manifest, config) for `manifest` and `config`: byte for byte into a
 * pipe or file; on a terminal, decoded (bytes that are not UTF-8 become U+FFFD) and made safe with
 * terminalSafeJson, which keeps it the same JSON.
 */
export function rawJsonFor(bytes: Uint8Array, isTTY: boolean | undefined): Uint8Array | string {
  return isTTY ? terminalSafeJson(new TextDecoder().decode(bytes)) : bytes;
}

/** One NDJSON record (with its "\n"), versioned like every document. */
export function ndjsonLine(value: object): string {
  return `${terminalSafeJson(JSON.stringify({ schema: JSON_SCHEMA, ...value }, rawNames))}\n`;
}

/** One JSON document, versioned, pretty-printed (with its "\n"). */
export function jsonDocument(value: object): string {
  return `${terminalSafeJson(JSON.stringify({ schema: JSON_SCHEMA, ...value }, rawNames, 2))}\n`;
}

/**
 * Names that are not UTF-8 (a path, a link target, a user name with bytes kept as U+DC80..U+DCFF,
 * see tar/text.ts) cannot be JSON text as they are. Such a string `k` is written in the escaped
 * form `ls` prints (which `cat`, `find` and `ls PATH` accept), and `kRaw` beside it holds its
 * exact bytes in base64. Names that are UTF-8 are written as they are, with no `kRaw`.
 */
function rawNames(this: unknown, _key: string, value: unknown): unknown {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== "string" || !hasRawBytes(v)) continue;
    out ??= {};
    out[k] = escapeName(v);
    out[`${k}Raw`] = Buffer.from(encodeName(v)).toString("base64");
  }
  if (!out) return value;
  const merged: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    merged[k] = k in out ? out[k] : v;
    if (`${k}Raw` in out) merged[`${k}Raw`] = out[`${k}Raw`];
  }
  return merged;
}
