import { LayerslayerError } from "../errors.ts";
import { escapeName } from "../names.ts";
import { globToRegExp, TYPE_LETTERS, userRegExp } from "./glob.ts";
import type { Entry } from "../types.ts";
import type { HistoryEvent, MergedTree } from "./merge.ts";

export interface FindOptions {
  /** The pattern is a regular expression searched in "/path" (else a glob). */
  regex?: boolean;
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
}

/** Checks the pattern and the type letter (USAGE when wrong) before anything is downloaded. */
export function findQuery(pattern: string, opts: FindOptions = {}): FindQuery {
  const types = opts.type === undefined ? undefined : TYPE_LETTERS[opts.type];
  if (opts.type !== undefined && !types) throw new LayerslayerError("USAGE", `--type ${escapeName(opts.type)}: expected one of f, d, l, c, b, p`);
  const re = opts.regex ? userRegExp(pattern) : globToRegExp(pattern);
  const test = opts.regex ? (p: string) => re.test(`/${p}`) : (p: string) => re.test(p);
  return { test, types, present: !!opts.present };
}

/**
 * What `find` reports: every layer's event (added, modified, deleted, hidden) at a path the query
 * matches, sorted by path then layer.
 */
export function findEvents(tree: MergedTree, q: FindQuery): HistoryEvent[] {
  const hits: HistoryEvent[] = [];
  for (const e of tree.events()) {
    if (!e.implied && q.test(e.path) && (!q.types || q.types.includes(e.entry.type)) && (!q.present || tree.has(e.path))) hits.push(e);
  }
  hits.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.layer - b.layer));
  return hits;
}
