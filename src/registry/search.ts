/**
 * The registry search protocol that `docker search` and `podman search` speak to a registry other
 * than Docker Hub: `GET /v1/search?q=TERM&n=N` on the registry's host, answered with
 * `{query, num_results, results: [{name, description, star_count, is_official, is_automated}]}`
 * (docs/docker-hub.md). Many registries, CNCF distribution among them, do not implement it: a 404
 * (or 405, 501) there is "this registry offers no search" (UNSUPPORTED, exit 8).
 */
import { LayerslayerError } from "../errors.ts";
import { escapeName } from "../names.ts";
import { countField, flagField, jsonObject, objectField, readFields, resultsOf, textField, type FieldSpec } from "./api-json.ts";
import { responseError } from "./errors.ts";
import type { Transport } from "./transport.ts";

/** One repository found by a search, on Docker Hub or a registry; absent fields were not sent (or not usable). */
export interface SearchResult {
  name: string;
  description?: string;
  stars?: number;
  pulls?: number;
  official?: boolean;
  automated?: boolean;
  /** ISO 8601 time of the last push, when the server says. */
  updated?: string;
}

/** A search answer is small JSON; this holds thousands of results. */
const MAX_SEARCH_BYTES = 4 * 1024 * 1024;
/** Results asked of /v1/search at most (docker's own limit). */
export const MAX_V1_RESULTS = 100;

const V1_FIELDS: FieldSpec<SearchResult> = {
  description: ["description", textField],
  stars: ["star_count", countField],
  official: ["is_official", flagField],
  automated: ["is_automated", flagField],
};

/** One result of /v1/search; undefined when it has no name. */
function v1Result(raw: unknown): SearchResult | undefined {
  const r = objectField(raw);
  const name = textField(r?.name);
  return r && name ? { name, ...readFields(r, V1_FIELDS) } : undefined;
}

/**
 * Searches a registry for `term` with the registry search protocol: one request (the protocol's
 * `n` caps the answer), through the registry's transport (login, retries, redirects). `skipped`
 * counts results without a name.
 */
export async function registrySearch(transport: Transport, registry: string, term: string, n: number): Promise<{ results: SearchResult[]; skipped: number }> {
  const what = `${registry} search`;
  const path = `/v1/search?q=${encodeURIComponent(term)}&n=${Math.min(Math.max(1, n), MAX_V1_RESULTS)}`;
  const { res, bytes } = await transport.fetchBytes(path, { headers: { Accept: "application/json" } }, MAX_SEARCH_BYTES, what);
  if (res.status === 404 || res.status === 405 || res.status === 501) {
    throw new LayerslayerError(
      "UNSUPPORTED",
      `${registry} offers no search (GET /v1/search answered ${res.status}); its catalog lists every repository: layerslayer catalog ${escapeName(registry)}`,
    );
  }
  if (!res.ok) throw await responseError(res, what);
  const raw = resultsOf(jsonObject(res, bytes, what), what);
  const results: SearchResult[] = [];
  let skipped = 0;
  for (const r of raw) {
    const one = v1Result(r);
    if (one) results.push(one);
    else skipped++;
  }
  return { results, skipped };
}

export type SearchOrder = "updated" | "pulls" | "stars";
export const SEARCH_ORDERS: readonly SearchOrder[] = ["updated", "pulls", "stars"];

/** Results by `order`, highest (newest) first; results without the value last, in the order the server sent them. */
export function sortResults(results: readonly SearchResult[], order: SearchOrder): SearchResult[] {
  const key = (r: SearchResult): number => {
    const v = order === "updated" ? (r.updated ? Date.parse(r.updated) : undefined) : order === "pulls" ? r.pulls : r.stars;
    return v ?? -Infinity;
  };
  return results
    .map((r, i) => ({ r, i, k: key(r) }))
    .sort((a, b) => b.k - a.k || a.i - b.i)
    .map((x) => x.r);
}
