/**
 * The database: what `scan` records about many images and what `search` reads back. Named so to
 * keep it apart from OCI image indexes (and from the listing cache in src/cache). Two
 * implementations with the same schema and the same answers: SQLite (bun:sqlite, one file, the
 * default) and PostgreSQL (Bun's SQL client, for many workers at once). Nothing above this
 * interface knows which one it has.
 *
 * Layers are keyed by digest and shared by every image that has them; a path is stored as a
 * directory id and a name id (both de-duplicated across the whole database). An image keeps its
 * layer list and the few facts of its merged view that are not "added and still there" (see
 * changes.ts).
 */
import { LayerslayerError } from "../errors.ts";
import { ENTRY_TYPES, type Entry, type EntryType, type LayerStats } from "../types.ts";

/** How much of a layer is recorded: complete, or the compressed bytes a budgeted read covered. */
export interface LayerState {
  digest: string;
  complete: boolean;
  bytesDownloaded: number;
  layerSize: number;
  entries: number;
  /** The read ended in an error (corrupt data, a cut connection): never final, read again next time. */
  failed: boolean;
  /** The listing is what the layer's TOC declares (its format); the tar stream was not read. */
  toc?: string;
}

/** What happened to a path in one layer of an image's merged view. */
export type ChangeAction = "added" | "modified" | "deleted" | "hidden";
/** What became of an added/modified entry by the top of the image. */
export type Fate = "present" | "replaced" | "deleted" | "hidden";

/**
 * One fact of an image's merged view that a plain layer listing does not say: an entry that
 * modified a lower one or did not survive to the top, or a path a whiteout/opaque dir removed.
 */
export interface Change {
  position: number;
  path: string;
  action: ChangeAction;
  /** added/modified only. */
  fate?: Fate;
  /** The layer of the fate (replaced/deleted/hidden). */
  fatePosition?: number;
  /** deleted/hidden: the entry that went away. */
  entry?: Pick<Entry, "type" | "mode" | "size">;
}

export interface ImageRecord {
  /** The reference as scanned (canonical form). */
  reference: string;
  /** os/arch[/variant], "" when nothing says. */
  platform: string;
  indexDigest?: string;
  manifestDigest: string;
  configDigest: string;
  configBytes: Uint8Array;
  /** Layer digests, bottom first (each recorded with putLayer before). */
  layers: string[];
  changes: Change[];
}

export interface FailureRecord {
  reference: string;
  platform: string;
  code: string;
  message: string;
}

/** Path candidates for a search: entries whose dir or name id is listed (a superset; callers filter). */
export interface Candidates {
  dirs: number[];
  names: number[];
  /** Entries whose dir is in `splitDirs` AND name in `splitNames`. */
  splitDirs: number[];
  splitNames: number[];
}

/** One candidate hit as stored; presentation and exact filtering happen above the interface. */
export interface HitRow {
  reference: string;
  platform: string;
  manifestDigest: string;
  position: number;
  layerDigest: string;
  layerComplete: boolean;
  /** The layer's listing is what its TOC declares (its format), null when it is the tar stream's. */
  layerToc: string | null;
  dir: string;
  name: string;
  type: EntryType;
  mode: number;
  size: number;
  linkname: string | null;
  action: ChangeAction;
  fate: Fate | null;
  fatePosition: number | null;
  /** Order of the entry in its layer's tar (0 for removals). */
  seq: number;
}

export interface ImageSummary {
  reference: string;
  platform: string;
  manifestDigest: string | null;
  layers: number;
  errorCode: string | null;
  error: string | null;
}

export interface ScanDatabase {
  /** "sqlite:PATH" or the PostgreSQL URL without its password. */
  readonly location: string;
  /** What is recorded for these layer digests. */
  layerStates(digests: readonly string[]): Promise<Map<string, LayerState>>;
  /**
   * Records a layer's listing unless one at the same or better completeness is there already
   * (checked again under a lock, so concurrent writers keep the best). Returns whether it wrote.
   */
  putLayer(stats: LayerStats, entries: readonly Entry[], error?: string): Promise<boolean>;
  /** The recorded entries of a layer, in tar order (path, type, mode, size, uid, gid, mtime, linkname). */
  layerEntries(digest: string): Promise<Entry[]>;
  /** Records (or replaces) an image for its reference and platform. */
  putImage(image: ImageRecord): Promise<void>;
  /** Records (or replaces) a failed image. */
  putFailure(failure: FailureRecord): Promise<void>;
  /** Every distinct directory ("" for the root, else "a/b") and name, with their ids. */
  directories(): Promise<Map<number, string>>;
  names(): Promise<Map<number, string>>;
  /** Ids of names containing `text` (exact substring, case-sensitive). */
  namesContaining(text: string): Promise<number[]>;
  /** Ids of directories whose path with a leading "/" contains `text`. */
  dirsContaining(text: string): Promise<number[]>;
  /** Every distinct (directory id, name id) of recorded entries. */
  paths(): Promise<[number, number][]>;
  /** Entries (and deleted/hidden changes) of recorded images that match the candidates. */
  hits(c: Candidates): Promise<HitRow[]>;
  images(): Promise<ImageSummary[]>;
  close(): Promise<void>;
}

const ACTIONS: readonly ChangeAction[] = ["added", "modified", "deleted", "hidden"];
const FATES: readonly Fate[] = ["present", "replaced", "deleted", "hidden"];

/** The code of a word in its list (the list's own order: append only). */
function codeOf<T>(list: readonly T[], what: string, word: T): number {
  const n = list.indexOf(word);
  if (n < 0) throw new LayerslayerError("USAGE", `the database cannot store the ${what} ${JSON.stringify(word)}`);
  return n;
}

/** The word of a code read back: a code this version does not know is an error, never a guess. */
function wordOf<T>(list: readonly T[], what: string, n: number): T {
  const word = Number.isInteger(n) ? list[n] : undefined;
  if (word === undefined)
    throw new LayerslayerError("CORRUPT", `the database holds ${what} code ${n}, which this version of layerslayer does not know (written by a newer version, or damaged)`);
  return word;
}

/**
 * Small integer codes stored for the words above (the same in both databases). Entry types are
 * the codes of src/types.ts (`ENTRY_TYPES`), shared with the cache and the merged tree.
 */
export const codes = {
  type: (t: EntryType) => codeOf(ENTRY_TYPES, "entry type", t),
  typeOf: (n: number) => wordOf(ENTRY_TYPES, "entry type", n),
  action: (a: ChangeAction) => codeOf(ACTIONS, "change", a),
  actionOf: (n: number) => wordOf(ACTIONS, "change", n),
  fate: (f: Fate) => codeOf(FATES, "fate", f),
  fateOf: (n: number) => wordOf(FATES, "fate", n),
};

/** A path split the way the database stores it: "a/b/c" → dir "a/b", name "c"; "c" → dir "", name "c". */
export function splitPath(path: string): { dir: string; name: string } {
  const i = path.lastIndexOf("/");
  return i < 0 ? { dir: "", name: path } : { dir: path.slice(0, i), name: path.slice(i + 1) };
}

export function joinPath(dir: string, name: string): string {
  return dir === "" ? name : `${dir}/${name}`;
}

/**
 * Is the recorded state at least as good as what a read with `budget` (undefined = full) would
 * give? With `stream`, a listing only taken from a TOC is not: the tar stream is to be read.
 */
export function satisfies(state: LayerState | undefined, budget: number | undefined, stream = false): boolean {
  if (!state) return false;
  if (state.complete) return !(stream && state.toc);
  if (state.failed) return false;
  // A read that covered the whole blob cannot get better by reading again.
  if (state.bytesDownloaded >= state.layerSize) return true;
  return budget !== undefined && state.bytesDownloaded >= Math.min(budget, state.layerSize);
}

/** Does a new read (`next`) improve on what is recorded (`prev`)? */
export function improves(prev: LayerState | undefined, next: Pick<LayerState, "complete" | "bytesDownloaded" | "failed" | "toc">): boolean {
  if (!prev) return true;
  // The tar stream's complete listing replaces one a TOC declared, never the other way round.
  if (prev.complete) return prev.toc !== undefined && next.complete && next.toc === undefined;
  if (next.complete) return true;
  if (prev.failed !== next.failed) return prev.failed;
  return next.bytesDownloaded > prev.bytesDownloaded;
}
