import { LayerslayerError } from "../errors.ts";
import { responseError } from "./errors.ts";
import type { Transport } from "./transport.ts";

/** A page of a list is small JSON: 4 MiB holds far more than the 1000 names a page may carry. */
const MAX_PAGE_BYTES = 4 * 1024 * 1024;
/** Pages followed at most (a million names at the usual 1000 a page). */
export const MAX_PAGES = 1000;

export interface PageOptions {
  /** Authorization scope of every page. */
  scope: string;
  /** The list's name in messages, e.g. "127.0.0.1:5000/a/b tags". */
  what: string;
  /** The member holding the names: "tags", "repositories". */
  field: string;
}

/**
 * The names of a paginated registry list (`tags/list`, `_catalog`), one page at a time, following
 * `Link: <…>; rel="next"` on the same origin. Bounded: at most MAX_PAGES pages, and a page that
 * links back to one already read ends the list. A failure on a later page comes after the earlier
 * pages were yielded, so nothing found before it is lost.
 */
export async function* namePages(transport: Transport, firstPath: string, opts: PageOptions): AsyncGenerator<string[]> {
  const seen = new Set<string>();
  let path: string | undefined = firstPath;
  for (let page = 0; path && page < MAX_PAGES && !seen.has(path); page++) {
    seen.add(path);
    const { res, bytes: body } = await transport.fetchBytes(path, { headers: { Accept: "application/json" }, scope: opts.scope }, MAX_PAGE_BYTES, opts.what);
    if (!res.ok) throw await responseError(res, opts.what);
    let doc: Record<string, unknown>;
    try {
      doc = JSON.parse(new TextDecoder().decode(body)) as Record<string, unknown>;
    } catch {
      throw new LayerslayerError("CORRUPT", `${opts.what}: a page of the list is not valid JSON`);
    }
    const names = doc?.[opts.field];
    yield Array.isArray(names) ? names.filter((n): n is string => typeof n === "string") : [];
    path = nextLink(res.headers.get("link"), transport.baseUrl);
  }
}

/** The path of a `rel="next"` Link, made relative to the registry's base URL. */
export function nextLink(header: string | null, baseUrl: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(/,(?=\s*<)/)) {
    const m = /<([^>]*)>\s*;(.*)/.exec(part);
    if (!m || !/rel="?next"?/.test(m[2]!)) continue;
    const url = new URL(m[1]!, baseUrl);
    if (url.origin !== new URL(baseUrl).origin) return undefined;
    return `${url.pathname}${url.search}`;
  }
  return undefined;
}
