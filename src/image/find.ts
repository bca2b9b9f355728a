import { LayerslayerError } from "../errors.ts";
import { escapeName } from "../names.ts";
import { globMatcher, TYPE_LETTERS, userRegExp } from "./glob.ts";
import type { Entry } from "../types.ts";
import type { HistoryEvent, MergedTree } from "./merge.ts";

export interface FindOptions {
  /** The pattern is a regular expression searched in "/path" (else a glob). */
  regex?: boolean;
  /** Letters match either case. */
  ignoreCase?: boolean;
  /** Only entries whose size passes (find's --min-size/--max-size). */
  sizeOk?: (size: number) => boolean;
  /** One of f, d, l, c, b, p. */
  type?: string;
  /** Only paths the final image has. */
  present?: boolean;
}

/** A checked `find` query: the path test and the types wanted. */
export interface FindQuery {
  test: (path: string) => boolean;
  types: Entry["type"][] | undefined;
  present: boolean;
  sizeOk: ((size: number) => boolean) | undefined;
}

/** Checks the pattern and the type letter (USAGE when wrong) before anything is downloaded. */
export function findQuery(pattern: string, opts: FindOptions = {}): FindQuery {
  const types = opts.type === undefined ? undefined : TYPE_LETTERS[opts.type];
  if (opts.type !== undefined && !types) throw new LayerslayerError("USAGE", `--type ${escapeName(opts.type)}: expected one of f, d, l, c, b, p`);
  const ignoreCase = !!opts.ignoreCase;
  const re = opts.regex ? userRegExp(pattern, { ignoreCase }) : undefined;
  const test = re ? (p: string) => re.test(`/${p}`) : globMatcher(pattern, { ignoreCase });
  return { test, types, present: !!opts.present, sizeOk: opts.sizeOk };
}

/**
 * What `find` reports: every layer's event (added, modified, deleted, hidden) at a path the query
 * matches, sorted by path then layer.
 */
export function findEvents(tree: MergedTree, q: FindQuery): HistoryEvent[] {
  const hits: HistoryEvent[] = [];
  for (const e of tree.events()) {
    if (!e.implied && q.test(e.path) && (!q.types || q.types.includes(e.entry.type)) && (!q.sizeOk || q.sizeOk(e.entry.size)) && (!q.present || tree.has(e.path))) hits.push(e);
  }
  hits.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.layer - b.layer));
  return hits;
}
