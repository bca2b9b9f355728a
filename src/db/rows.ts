/**
 * Conversions between the shapes of the program (entries, changes) and the rows both databases
 * store, written once so the two implementations cannot drift apart.
 */
import { normalizeEntryPath } from "../image/paths.ts";
import type { Entry } from "../types.ts";
import { codes, splitPath, type Change, type HitRow, type ImageSummary, type LayerState } from "./database.ts";

/** The path an entry is stored under: normalised ("./etc/" → "etc"); a path climbing out is kept as it is. */
export function storedPath(path: string): string {
  return normalizeEntryPath(path) ?? path;
}

/** A path as stored, split into directory and name. */
export interface PathParts {
  dir: string;
  name: string;
}

export interface EntryRow {
  seq: number;
  dir: string;
  name: string;
  type: number;
  mode: number;
  size: number;
  uid: number;
  gid: number;
  mtime: number;
  linkname: string | null;
}

function int(n: number): number {
  return Number.isFinite(n) ? Math.trunc(n) : 0;
}

export function entryRows(entries: readonly Entry[]): EntryRow[] {
  return entries.map((e, seq) => {
    const { dir, name } = splitPath(storedPath(e.path));
    return {
      seq,
      dir,
      name,
      type: codes.type(e.type),
      mode: int(e.mode),
      size: int(e.size),
      uid: int(e.uid),
      gid: int(e.gid),
      mtime: int(e.mtime),
      linkname: e.linkname ?? null,
    };
  });
}

/** An entry read back (offsets are not stored: -1). */
export function entryFromRow(r: { dir: string; name: string; type: number; mode: number; size: number; uid: number; gid: number; mtime: number; linkname: string | null }): Entry {
  const e: Entry = {
    path: r.dir === "" ? r.name : `${r.dir}/${r.name}`,
    type: codes.typeOf(Number(r.type)),
    mode: Number(r.mode),
    size: Number(r.size),
    uid: Number(r.uid),
    gid: Number(r.gid),
    mtime: Number(r.mtime),
    headerOffset: -1,
    compressedOffset: -1,
  };
  if (r.linkname !== null) e.linkname = r.linkname;
  return e;
}

export interface ChangeRow {
  position: number;
  dir: string;
  name: string;
  action: number;
  fate: number | null;
  fatePosition: number | null;
  type: number | null;
  mode: number | null;
  size: number | null;
}

export function changeRows(changes: readonly Change[]): ChangeRow[] {
  return changes.map((c) => {
    const { dir, name } = splitPath(c.path);
    return {
      position: c.position,
      dir,
      name,
      action: codes.action(c.action),
      fate: c.fate === undefined ? null : codes.fate(c.fate),
      fatePosition: c.fatePosition ?? null,
      type: c.entry ? codes.type(c.entry.type) : null,
      mode: c.entry ? int(c.entry.mode) : null,
      size: c.entry ? int(c.entry.size) : null,
    };
  });
}

/** The distinct directories and names of some rows, sorted (a fixed order keeps concurrent writers from deadlocking). */
export function distinctParts(rows: readonly PathParts[]): { dirs: string[]; names: string[] } {
  const dirs = new Set<string>();
  const names = new Set<string>();
  for (const r of rows) {
    dirs.add(r.dir);
    names.add(r.name);
  }
  const order = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return { dirs: [...dirs].sort(order), names: [...names].sort(order) };
}

/** A raw hit row from either database. */
export function hitFromRow(r: Record<string, unknown>): HitRow {
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    reference: String(r.reference),
    platform: String(r.platform),
    manifestDigest: String(r.manifest_digest),
    position: Number(r.position),
    layerDigest: String(r.layer_digest),
    layerComplete: Number(r.complete) === 1,
    layerToc: r.layer_toc === null || r.layer_toc === undefined ? null : String(r.layer_toc),
    dir: String(r.dir),
    name: String(r.name),
    type: codes.typeOf(Number(r.type)),
    mode: Number(r.mode),
    size: Number(r.size),
    linkname: r.linkname === null || r.linkname === undefined ? null : String(r.linkname),
    action: codes.actionOf(Number(r.action)),
    fate: r.fate === null || r.fate === undefined ? null : codes.fateOf(Number(r.fate)),
    fatePosition: num(r.fate_position),
    seq: Number(r.seq),
  };
}

export function imageFromRow(r: Record<string, unknown>): ImageSummary {
  const text = (v: unknown) => (v === null || v === undefined ? null : String(v));
  return {
    reference: String(r.reference),
    platform: String(r.platform),
    manifestDigest: text(r.manifest_digest),
    layers: Number(r.layers),
    errorCode: text(r.error_code),
    error: text(r.error),
  };
}

/** The columns of `layers` a LayerState is read from. */
export const LAYER_STATE_COLUMNS = "digest, complete, bytes_downloaded, size, entry_count, error, toc";

export function layerStateFromRow(r: Record<string, unknown>): LayerState {
  return {
    digest: String(r.digest),
    complete: Number(r.complete) === 1,
    bytesDownloaded: Number(r.bytes_downloaded),
    layerSize: Number(r.size),
    entries: Number(r.entry_count),
    failed: r.error !== null && r.error !== undefined,
    ...(r.toc === null || r.toc === undefined ? {} : { toc: String(r.toc) }),
  };
}
