/**
 * Docker Hub's web API (hub.docker.com, or LAYERSLAYER_HUB_URL for a mirror or a test): search,
 * a namespace's repositories, a repository's tags with their images. Public data needs no login.
 * Requests go through the registry transport (retries with Retry-After, redirects, timeouts,
 * proxies, http(s) only); lists are followed page by page within the bounds of hub/pages.ts.
 */
import { LayerslayerError } from "../errors.ts";
import { escapeName } from "../names.ts";
import type { SearchResult } from "../registry/search.ts";
import { Transport, type TransportOptions } from "../registry/transport.ts";
import { fetchableUrl } from "../registry/url-policy.ts";
import { hubPages } from "./pages.ts";
import { hubRepository, hubTag, newestFirst, searchResult, type HubRepository, type HubTag } from "./shapes.ts";

export const DEFAULT_HUB_URL = "https://hub.docker.com";
/** The most results Docker Hub sends in one page. */
export const HUB_PAGE_SIZE = 100;
/** Pages followed at most for one list (10 000 repositories or tags at 100 a page). */
export const HUB_MAX_PAGES = 100;
/** Pages of search results read at most (1000 results): `--official` filters them, and stops there. */
export const HUB_SEARCH_PAGES = 10;
/** Time one whole list may take, retries included. */
export const HUB_TIMEOUT_MS = 120_000;

/** A namespace or repository name as Docker Hub allows them. */
const HUB_NAME = /^[a-z0-9][a-z0-9._-]{0,254}$/;

export interface HubOptions extends Pick<TransportOptions, "insecure" | "log" | "retries" | "retryBaseMs" | "maxRetryAfterMs" | "maxRetryWaitMs" | "proxy"> {
  /** The API's base URL (default: LAYERSLAYER_HUB_URL, else https://hub.docker.com). */
  endpoint?: URL;
  timeoutMs?: number;
  maxPages?: number;
}

/** What a list gave: the items (at most the limit), how many were skipped for lack of a name, and the error that ended it early. */
export interface HubList<T> {
  items: T[];
  skipped: number;
  error?: LayerslayerError;
}

/** The endpoint LAYERSLAYER_HUB_URL names (an http(s) URL, optionally with a path), else Docker Hub's. */
export function hubEndpoint(env: Record<string, string | undefined> = process.env): URL {
  const raw = env.LAYERSLAYER_HUB_URL?.trim() || DEFAULT_HUB_URL;
  const url = fetchableUrl(raw, "LAYERSLAYER_HUB_URL", "USAGE");
  if (url.search || url.hash || url.username || url.password) {
    throw new LayerslayerError("USAGE", "LAYERSLAYER_HUB_URL must be http(s)://host[:port][/path], without a query, fragment or login");
  }
  url.pathname = url.pathname.replace(/\/+$/, "");
  return url;
}

/** A namespace or repository name checked before it goes into a URL. */
export function hubName(value: string, what: string): string {
  const name = value.toLowerCase();
  if (!HUB_NAME.test(name)) throw new LayerslayerError("USAGE", `"${escapeName(value)}" is not a Docker Hub ${what} name (letters, digits, '.', '_', '-')`);
  return name;
}

export class HubClient {
  readonly endpoint: URL;
  private readonly transport: Transport;
  private readonly timeoutMs: number;
  private readonly maxPages: number;

  constructor(opts: HubOptions = {}) {
    this.endpoint = opts.endpoint ?? hubEndpoint();
    const { endpoint: _, timeoutMs, maxPages, ...transport } = opts;
    this.timeoutMs = timeoutMs ?? HUB_TIMEOUT_MS;
    this.maxPages = maxPages ?? HUB_MAX_PAGES;
    this.transport = new Transport(this.endpoint.host, { ...transport, plainHttp: this.endpoint.protocol === "http:" });
  }

  /** Repositories matching `term`, in Docker Hub's order; with `official`, only official images. */
  search(term: string, opts: { limit: number; official?: boolean }): Promise<HubList<SearchResult>> {
    if (term.trim() === "") throw new LayerslayerError("USAGE", "the search term is empty");
    const size = opts.official ? HUB_PAGE_SIZE : Math.min(opts.limit, HUB_PAGE_SIZE);
    const first = this.url("/v2/search/repositories/", { query: term, page: "1", page_size: String(size) });
    const keep = opts.official ? (r: SearchResult) => r.official === true : undefined;
    return this.collect([first], "Docker Hub search", searchResult, opts.limit, keep, Math.min(HUB_SEARCH_PAGES, this.maxPages));
  }

  /** Every repository of a user or an organisation (at most `limit`). */
  repositories(namespace: string, limit: number): Promise<HubList<HubRepository>> {
    const ns = hubName(namespace, "namespace");
    const size = String(Math.min(limit, HUB_PAGE_SIZE));
    const current = this.url(`/v2/namespaces/${ns}/repositories`, { page_size: size });
    const older = this.url(`/v2/repositories/${ns}/`, { page_size: size });
    return this.collect([current, older], `Docker Hub repositories of ${ns}`, (raw) => hubRepository(raw, ns), limit);
  }

  /** The newest `limit` tags of NAMESPACE/REPOSITORY with their images, newest first. */
  async tags(namespace: string, repository: string, limit: number): Promise<HubList<HubTag>> {
    const ns = hubName(namespace, "namespace");
    const repo = hubName(repository, "repository");
    const params = { page_size: String(Math.min(limit, HUB_PAGE_SIZE)), ordering: "last_updated" };
    const current = this.url(`/v2/namespaces/${ns}/repositories/${repo}/tags`, params);
    const older = this.url(`/v2/repositories/${ns}/${repo}/tags/`, params);
    const list = await this.collect([current, older], `Docker Hub tags of ${ns}/${repo}`, hubTag, limit);
    return { ...list, items: newestFirst(list.items) };
  }

  private url(path: string, params: Record<string, string>): URL {
    const url = new URL(this.endpoint.href);
    url.pathname = `${url.pathname.replace(/\/+$/, "")}${path}`;
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    return url;
  }

  /**
   * Items of a paged list up to `limit`, starting at the first of `firsts` that exists (Docker
   * Hub's current path, then its older one); a search ends quietly after `searchPages` pages. An error after some items were read is returned
   * with them (nothing found before it is lost); one before any is thrown.
   */
  private async collect<T>(
    firsts: URL[],
    what: string,
    parse: (raw: unknown) => T | undefined,
    limit: number,
    keep?: (item: T) => boolean,
    searchPages?: number,
  ): Promise<HubList<T>> {
    const items: T[] = [];
    let skipped = 0;
    let pages = 0;
    const deadline = AbortSignal.timeout(this.timeoutMs);
    for (const [i, first] of firsts.entries()) {
      try {
        for await (const page of hubPages(this.transport, first, {
          what,
          maxPages: searchPages ?? this.maxPages,
          endAtMaxPages: searchPages !== undefined,
          deadline,
          timeoutMs: this.timeoutMs,
        })) {
          pages++;
          for (const raw of page) {
            const item = parse(raw);
            if (item === undefined) skipped++;
            else if (!keep || keep(item)) items.push(item);
            if (items.length >= limit) return { items, skipped };
          }
        }
        return { items, skipped };
      } catch (e) {
        const notFound = e instanceof LayerslayerError && e.code === "NOT_FOUND";
        if (pages === 0 && notFound && i < firsts.length - 1) continue;
        if (pages === 0 || !(e instanceof LayerslayerError)) throw e;
        return { items, skipped, error: e };
      }
    }
    return { items, skipped };
  }
}
