/**
 * Docker Hub's API pages its lists with a `next` URL in the body (`{count, next, previous,
 * results}`). Following them is bounded like every loop that talks to a server: at most
 * `maxPages` pages, a total time, a page that links back to one already read ends the list, and a
 * `next` on another scheme, host or port than the endpoint is refused (a hostile or misconfigured
 * server must not send us, or the user's proxy, elsewhere).
 */
import { LayerslayerError } from "../errors.ts";
import { jsonObject, resultsOf } from "../registry/api-json.ts";
import { responseError } from "../registry/errors.ts";
import type { Transport } from "../registry/transport.ts";
import { fetchableUrl, showUrl } from "../registry/url-policy.ts";

/** A page of a list is small JSON: 100 results with long descriptions fit many times over. */
const MAX_PAGE_BYTES = 4 * 1024 * 1024;

export interface HubPageOptions {
  /** The list's name in messages, e.g. "Docker Hub search". */
  what: string;
  maxPages: number;
  /** At maxPages, end the list quietly (a search read far enough) instead of failing. */
  endAtMaxPages?: boolean;
  /** Aborted when the whole list has taken too long. */
  deadline: AbortSignal;
  timeoutMs: number;
}

/**
 * The `results` of each page from `first` on, one page at a time. A failure on a later page comes
 * after the earlier pages were yielded, so nothing found before it is lost.
 */
export async function* hubPages(transport: Transport, first: URL, opts: HubPageOptions): AsyncGenerator<unknown[]> {
  const origin = first.origin;
  const seen = new Set<string>();
  let url: string | undefined = first.href;
  for (let page = 0; url !== undefined && !seen.has(url); page++) {
    if (page >= opts.maxPages && opts.endAtMaxPages) return;
    if (page >= opts.maxPages) throw new LayerslayerError("CORRUPT", `${opts.what}: more than ${opts.maxPages} pages; stopped`);
    seen.add(url);
    let got: { res: Response; bytes: Uint8Array };
    try {
      got = await transport.fetchUrl(url, { Accept: "application/json" }, MAX_PAGE_BYTES, opts.what, opts.deadline);
    } catch (e) {
      if (opts.deadline.aborted) throw new LayerslayerError("NETWORK", `${opts.what}: no complete answer within ${Math.round(opts.timeoutMs / 1000)} s`, { cause: e });
      throw e;
    }
    if (!got.res.ok) throw await responseError(got.res, opts.what);
    const doc = jsonObject(got.res, got.bytes, opts.what);
    yield resultsOf(doc, opts.what);
    url = nextPage(doc.next, url, origin, opts.what);
  }
}

/** The URL of the next page: none for a missing, null or empty `next`; refused on another origin or scheme. */
export function nextPage(next: unknown, current: string, origin: string, what: string): string | undefined {
  if (typeof next !== "string" || next === "") return undefined;
  const url = fetchableUrl(next, `${what}: next page`, "NETWORK", current);
  if (url.origin !== origin) {
    throw new LayerslayerError("NETWORK", `${what}: the next page link leads to ${showUrl(url.origin)}, not ${showUrl(origin)}; refused`);
  }
  return url.href;
}
