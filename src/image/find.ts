import { LayerslayerError } from "../errors.ts";
import { escapeName } from "../names.ts";
import { globToRegExp, TYPE_LETTERS, userRegExp } from "./glob.ts";
import type { HistoryEvent, MergedTree } from "./merge.ts";

export interface FindOptions {
  /** The pattern is a regular expression searched in "/path" (else a glob). */
  regex?: boolean;
  /** One of f, d, l, c, b, p. */
  type?: string;
  /** Only paths the final image has. */
  present?: boolean;
}

/**
 * What `find` reports: every layer's event (added, modified, deleted, hidden) at a path the pattern
 * matches, sorted by path then layer.
 */
export function findEvents(tree: MergedTree, pattern: string, opts: FindOptions = {}): HistoryEvent[] {
  const types = opts.type === undefined ? undefined : TYPE_LETTERS[opts.type];
  if (opts.type !== undefined && !types) throw new LayerslayerError("USAGE", `--type ${escapeName(opts.type)}: expected one of f, d, l, c, b, p`);
  const re = opts.regex ? userRegExp(pattern) : globToRegExp(pattern);
  const test = opts.regex ? (p: string) => re.test(`/${p}`) : (p: string) => re.test(p);
  const hits: HistoryEvent[] = [];
  for (const e of tree.events()) {
    if (!e.implied && test(e.path) && (!types || types.includes(e.entry.type)) && (!opts.present || tree.has(e.path))) hits.push(e);
  }
  hits.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.layer - b.layer));
  return hits;
}
