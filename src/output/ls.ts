/**
 * `ls -l`-style lines for entries:
 *   [layer] [marker] MODE OWNER GROUP SIZE YYYY-MM-DD HH:MM NAME[ -> TARGET | link to TARGET]
 * Owner/group are the tar names when present, else the numeric ids. Device files show
 * "MAJOR, MINOR" in the size column, like ls. All untrusted text is escaped.
 */
import type { Entry } from "../types.ts";
import { escapeName } from "../names.ts";
import { formatTable, formatTime, humanSize, modeString, pad, width, type Align } from "./format.ts";

export interface LsOptions {
  /** Sizes like `ls -lh`. */
  human?: boolean;
  /** Numeric uid/gid even when names are known (`ls -n`). */
  numeric?: boolean;
  /** Append "/" to directory names (`ls -p`, `tar -tv` style). */
  classify?: boolean;
}

export interface LsRow {
  entry: Entry;
  /** Name to show instead of entry.path (e.g. the base name inside a directory listing). */
  name?: string;
  /** Shown as a first column "L3" when any row has one (the layer that gave the entry). */
  layer?: number;
  /** Shown as a column before the mode when any row has one, e.g. "D" deleted, "O" overridden. */
  marker?: string;
}

function sizeCell(entry: Entry, human: boolean): string {
  if (entry.type === "char" || entry.type === "block") return `${entry.devmajor ?? 0}, ${entry.devminor ?? 0}`;
  return human ? humanSize(entry.size) : String(entry.size);
}

function nameCell(entry: Entry, name: string | undefined, classify: boolean): string {
  let out = escapeName(name ?? entry.path);
  if (classify && entry.type === "dir" && !out.endsWith("/")) out += "/";
  if (entry.type === "symlink") out += ` -> ${escapeName(entry.linkname ?? "")}`;
  else if (entry.type === "hardlink") out += ` link to ${escapeName(entry.linkname ?? "")}`;
  else if (entry.type === "pax-global") out += " (PAX global header)";
  return out;
}

/** The cells of one line, unaligned: mode, owner, group, size, time, name. */
export function lsCells(entry: Entry, opts: LsOptions = {}, name?: string): string[] {
  const owner = !opts.numeric && entry.uname ? escapeName(entry.uname) : String(entry.uid);
  const group = !opts.numeric && entry.gname ? escapeName(entry.gname) : String(entry.gid);
  return [modeString(entry.type, entry.mode), owner, group, sizeCell(entry, opts.human ?? false), formatTime(entry.mtime), nameCell(entry, name, opts.classify ?? false)];
}

const LS_ALIGN: Align[] = ["left", "left", "left", "right", "left", "left"];

/**
 * One line, for streaming output where the whole listing is not known in advance. `widths`
 * (mode, owner, group, size, time) pads the columns; without it cells are joined by one space.
 * Made without a table (peek prints one per entry): the line `formatTable` would make of `lsCells`.
 */
export function lsLine(entry: Entry, opts: LsOptions & { name?: string; widths?: readonly number[] } = {}): string {
  const w = opts.widths;
  const mode = modeString(entry.type, entry.mode);
  const owner = !opts.numeric && entry.uname ? escapeName(entry.uname) : String(entry.uid);
  const group = !opts.numeric && entry.gname ? escapeName(entry.gname) : String(entry.gid);
  const size = sizeCell(entry, opts.human ?? false);
  const time = formatTime(entry.mtime);
  const name = nameCell(entry, opts.name, opts.classify ?? false);
  if (!w) return `${mode} ${owner} ${group} ${size} ${time} ${name}`;
  return `${pad(mode, w[0] ?? 0)} ${pad(owner, w[1] ?? 0)} ${pad(group, w[2] ?? 0)} ${pad(size, w[3] ?? 0, "right")} ${pad(time, w[4] ?? 0)} ${name}`;
}

/** The long-format columns before the name (mode, owner, group, size, time), padded to `streamWidths`: `ls --tree -l`. */
export function lsInfo(entry: Entry, opts: LsOptions = {}): string {
  return formatTable([lsCells(entry, opts).slice(0, 5)], LS_ALIGN, streamWidths(opts))[0]!;
}

/** Sensible fixed widths for streamed lines (owner/group 8, size 8 or 5 with -h). */
export function streamWidths(opts: LsOptions = {}): number[] {
  return [10, 8, 8, opts.human ? 5 : 8, 16];
}

/** Aligned lines for a whole listing (columns sized to fit every row, sizes right-aligned). */
export function lsLines(rows: readonly (LsRow | Entry)[], opts: LsOptions = {}): string[] {
  const norm: LsRow[] = rows.map((r) => ("entry" in r ? r : { entry: r }));
  return [...alignedLsLines(() => norm, opts)];
}

/**
 * `lsLines` for a listing too big to hold as a table: `rows()` is walked twice, once to size the
 * columns, once to make the lines, one at a time.
 */
export function* alignedLsLines(rows: () => Iterable<LsRow>, opts: LsOptions = {}): Generator<string> {
  // Every row's cells with both optional columns (layer, marker); a column no row has is dropped.
  const cellsOf = (r: LsRow): string[] => [r.layer === undefined ? "" : `L${r.layer}`, escapeName(r.marker ?? ""), ...lsCells(r.entry, opts, r.name)];
  let withLayer = false;
  let withMarker = false;
  // Widths of every column but the name (the last, never padded).
  const widths = [0, 0, 0, 0, 0, 0, 0];
  for (const r of rows()) {
    withLayer ||= r.layer !== undefined;
    withMarker ||= r.marker !== undefined;
    const cells = cellsOf(r);
    for (let i = 0; i < widths.length; i++) {
      const w = width(cells[i]!);
      if (w > widths[i]!) widths[i] = w;
    }
  }
  const align: Align[] = ["right", "left", ...LS_ALIGN];
  for (const r of rows()) {
    const cells = cellsOf(r);
    let line = "";
    for (let i = 0; i < widths.length; i++) {
      if ((i === 0 && !withLayer) || (i === 1 && !withMarker)) continue;
      line += `${pad(cells[i]!, widths[i]!, align[i])} `;
    }
    yield line + cells[widths.length]!;
  }
}
