import { LayerslayerError } from "../errors.ts";
import { responseError } from "./errors.ts";
import type { Transport } from "./transport.ts";
import { fetchableUrl, showUrl } from "./url-policy.ts";

/** A page of a list is small JSON: 4 MiB holds far more than the 1000 names a page may carry. */
const MAX_PAGE_BYTES = 4 * 1024 * 1024;
/** Pages of one list followed at most (a million names at the usual 1000 a page). */
export const MAX_PAGES = 1000;

/** What one walk of a registry's lists may cost, all lists together (see ListWalk). */
export interface WalkLimits {
  /** Pages asked for. */
  requests: number;
  /** Distinct names taken (repositories and tags). */
  names: number;
  /** Time from the walk's start, in ms. */
  ms: number;
}

/**
 * Bounds for a walk: `catalog --tags` of a registry with 50,000 repositories of a page of tags
 * each fits; a registry whose lists never end (a `Link` that keeps changing, names invented on
 * every page) is stopped after at most this much work instead of running for ever.
 */
export const DEFAULT_WALK_LIMITS: WalkLimits = { requests: 100_000, names: 2_000_000, ms: 30 * 60_000 };

/**
 * The budget of one walk over a registry's lists: the catalog and every tag list it leads to share
 * it, so the bound is on the whole walk, not on each list. Once spent, every further page fails
 * at once with the same one-line error (CORRUPT: a list that does not end within these bounds is
 * what a broken or hostile registry sends), which `stopped` keeps for the caller.
 */
export class ListWalk {
  requests = 0;
  names = 0;
  stopped: LayerslayerError | undefined;
  private readonly deadline: number;
  constructor(
    /** The walk in messages, e.g. "127.0.0.1:5000 catalog". */
    private readonly what: string,
    readonly limits: WalkLimits = DEFAULT_WALK_LIMITS,
    private readonly now: () => number = Date.now,
  ) {
    this.deadline = now() + limits.ms;
  }

  /** Called before each page is asked for: throws once a bound is reached. */
  request(): void {
    if (this.stopped) throw this.stopped;
    if (this.requests >= this.limits.requests) this.stop(`${this.limits.requests} requests`);
    if (this.now() > this.deadline) this.stop(`${Math.round(this.limits.ms / 1000)} s`);
    this.requests++;
  }

  /** Counts names taken: throws once there are more than the bound. */
  took(n: number): void {
    if (this.stopped) throw this.stopped;
    this.names += n;
    if (this.names > this.limits.names) this.stop(`${this.limits.names} names`);
  }

  private stop(bound: string): never {
    this.stopped = new LayerslayerError("CORRUPT", `${this.what}: the registry's lists did not end within ${bound}; stopped there (the listing is incomplete)`);
    throw this.stopped;
  }
}

export interface PageOptions {
  /** Authorization scope of every page. */
  scope: string;
  /** The list's name in messages, e.g. "127.0.0.1:5000/a/b tags". */
  what: string;
  /** The member holding the names: "tags", "repositories". */
  field: string;
  /** What a name of this list must be (a repository name, a tag); others are never yielded. */
  valid: (name: string) => boolean;
  /** Told of each name (once) that is not valid, to report it; it is skipped. */
  onInvalid?: ((name: string) => void) | undefined;
  /** The walk this list is part of (default: a walk of its own). */
  walk?: ListWalk | undefined;
}

/**
 * The names of a paginated registry list (`tags/list`, `_catalog`), one page at a time, following
 * `Link: <…>; rel="next"` on the same origin (a Link elsewhere is refused). Only valid names are
 * yielded (the others go to `onInvalid`, to be reported, escaped). Each name comes once: a name a
 * page repeats is dropped, and a page that brings no new name, or a Link back to a page already
 * read, ends the list (a Link that loops or keeps changing). At most MAX_PAGES pages, and within
 * the walk's bounds; past them the list fails (CORRUPT). A failure on a later page comes after the
 * earlier pages were yielded, so nothing found before it is lost.
 */
export async function* namePages(transport: Transport, firstPath: string, opts: PageOptions): AsyncGenerator<string[]> {
  const walk = opts.walk ?? new ListWalk(opts.what);
  const seen = new Set<string>();
  const visited = new Set<string>();
  let path: string | undefined = firstPath;
  for (let page = 0; path && !visited.has(path); page++) {
    visited.add(path);
    if (page >= MAX_PAGES) throw new LayerslayerError("CORRUPT", `${opts.what}: the list goes on past ${MAX_PAGES} pages; stopped there (the listing is incomplete)`);
    walk.request();
    const { res, bytes: body } = await transport.fetchBytes(path, { headers: { Accept: "application/json" }, scope: opts.scope }, MAX_PAGE_BYTES, opts.what);
    if (!res.ok) throw await responseError(res, opts.what);
    let doc: Record<string, unknown>;
    try {
      doc = JSON.parse(new TextDecoder().decode(body)) as Record<string, unknown>;
    } catch {
      throw new LayerslayerError("CORRUPT", `${opts.what}: a page of the list is not valid JSON`);
    }
    const names = doc?.[opts.field];
    const fresh: string[] = [];
    let taken = 0;
    for (const n of Array.isArray(names) ? names : []) {
      if (typeof n !== "string" || seen.has(n)) continue;
      seen.add(n);
      taken++;
      if (opts.valid(n)) fresh.push(n);
      else opts.onInvalid?.(n);
    }
    walk.took(taken);
    yield fresh;
    path = page > 0 && taken === 0 ? undefined : nextLink(res.headers.get("link"), transport.baseUrl, opts.what);
  }
}

/**
 * The path of a `rel="next"` Link, made relative to the registry's base URL. A Link to another
 * scheme, host or port is refused (NETWORK, as a redirect there would be): the list's pages come
 * from the registry asked, under its credentials, or not at all.
 */
export function nextLink(header: string | null, baseUrl: string, what: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(/,(?=\s*<)/)) {
    const m = /<([^>]*)>\s*;(.*)/.exec(part);
    if (!m || !/rel="?next"?/.test(m[2]!)) continue;
    const url = fetchableUrl(m[1]!, `${what}: next page`, "NETWORK", baseUrl);
    if (url.origin !== new URL(baseUrl).origin) {
      throw new LayerslayerError("NETWORK", `${what}: next page: refusing a Link to another host or scheme (${showUrl(url.origin)}); a list is read from the registry only`);
    }
    return `${url.pathname}${url.search}`;
  }
  return undefined;
}
