/**
 * `search` over everything the database holds: a substring (or a regular expression) of the
 * path, in every recorded image. The database narrows the candidates by directory and name; the
 * exact test, the filters and the order are applied here, so both databases give the same answer.
 */
import type { Candidates, ChangeAction, Fate, HitRow, ScanDatabase } from "../db/database.ts";
import type { EntryType } from "../types.ts";
import { requiredLiteral } from "./literal.ts";

export interface SearchQuery {
  pattern: string;
  regex?: RegExp;
  /** Only images whose reference matches. */
  image?: RegExp;
  types?: readonly EntryType[];
  minSize?: number;
  maxSize?: number;
}

export interface SearchHit {
  reference: string;
  manifestDigest: string;
  platform: string;
  /** Layer index in the image, bottom = 0. */
  layer: number;
  layerDigest: string;
  action: ChangeAction;
  /** For added/modified entries: what became of them by the top of the image. */
  fate?: Fate;
  fateLayer?: number;
  type: EntryType;
  mode: number;
  size: number;
  /** Absolute path in the image ("/etc/shadow"). */
  path: string;
  linkname?: string;
  /** The layer's listing is partial (budgeted): the path is real, the merged-view facts may be incomplete. */
  partial: boolean;
  /** Where the layer's listing came from: "toc" (what its TOC declares, the tar stream unread) or "stream". */
  source: "toc" | "stream";
}

const WHITEOUT = ".wh.";

function fullPath(dir: string, name: string): string {
  return dir === "" ? `/${name}` : `/${dir}/${name}`;
}

/** Candidate ids for a substring: in a directory, in a name, or across the "/" between them. */
async function substringCandidates(db: ScanDatabase, s: string): Promise<Candidates> {
  const c: Candidates = { dirs: await db.dirsContaining(s), names: [], splitDirs: [], splitNames: [] };
  const slash = s.lastIndexOf("/");
  if (slash < 0) {
    c.names = await db.namesContaining(s);
    return c;
  }
  const [x, y] = [s.slice(0, slash), s.slice(slash + 1)];
  const dirs: number[] = [];
  for (const [id, d] of await db.directories()) if ((d === "" ? "" : `/${d}`).endsWith(x)) dirs.push(id);
  if (y === "") {
    c.dirs.push(...dirs);
    return c;
  }
  c.splitDirs = dirs;
  for (const [id, n] of await db.names()) if (n.startsWith(y)) c.splitNames.push(id);
  return c;
}

/** Candidate ids for a regular expression: the names of the recorded paths it matches. */
async function regexCandidates(db: ScanDatabase, re: RegExp): Promise<Candidates> {
  const [dirs, names, paths] = await Promise.all([db.directories(), db.names(), db.paths()]);
  const hit = new Set<number>();
  for (const [d, n] of paths) {
    if (hit.has(n)) continue;
    if (re.test(fullPath(dirs.get(d) ?? "", names.get(n) ?? ""))) hit.add(n);
  }
  return { dirs: [], names: [...hit], splitDirs: [], splitNames: [] };
}

function toHit(r: HitRow): SearchHit {
  return {
    reference: r.reference,
    manifestDigest: r.manifestDigest,
    platform: r.platform,
    layer: r.position,
    layerDigest: r.layerDigest,
    action: r.action,
    ...(r.action === "added" || r.action === "modified" ? { fate: r.fate ?? "present" } : {}),
    ...(r.fatePosition !== null ? { fateLayer: r.fatePosition } : {}),
    type: r.type,
    mode: r.mode,
    size: r.size,
    path: fullPath(r.dir, r.name),
    ...(r.linkname !== null ? { linkname: r.linkname } : {}),
    partial: !r.layerComplete,
    source: r.layerToc ? "toc" : "stream",
  };
}

function compare(a: SearchHit, b: SearchHit): number {
  const keys: [string | number, string | number][] = [
    [a.reference, b.reference],
    [a.platform, b.platform],
    [a.path, b.path],
    [a.layer, b.layer],
    [a.action, b.action],
  ];
  for (const [x, y] of keys) if (x !== y) return x < y ? -1 : 1;
  return 0;
}

export async function search(db: ScanDatabase, q: SearchQuery): Promise<SearchHit[]> {
  // A regex with a literal every match contains is narrowed like a substring search first.
  const literal = q.regex ? requiredLiteral(q.regex.source) : q.pattern;
  const candidates = literal !== undefined ? await substringCandidates(db, literal) : await regexCandidates(db, q.regex!);
  const test = q.regex ? (p: string) => q.regex!.test(p) : (p: string) => p.includes(q.pattern);
  // The same path twice in one layer (a tar may repeat a member) is one hit: the last one, as in the merged view.
  const rows = (await db.hits(candidates)).sort((a, b) => b.seq - a.seq);
  const seen = new Set<string>();
  const out: SearchHit[] = [];
  for (const row of rows) {
    if (row.name.startsWith(WHITEOUT) && row.action !== "deleted" && row.action !== "hidden") continue;
    const hit = toHit(row);
    if (!test(hit.path)) continue;
    if (q.image && !q.image.test(hit.reference)) continue;
    if (q.types && !q.types.includes(hit.type)) continue;
    if (q.minSize !== undefined && hit.size < q.minSize) continue;
    if (q.maxSize !== undefined && hit.size > q.maxSize) continue;
    const key = `${hit.reference}\0${hit.platform}\0${hit.layer}\0${hit.action}\0${hit.path}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(hit);
  }
  return out.sort(compare);
}
