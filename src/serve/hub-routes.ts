/**
 * Docker Hub's lists over HTTP: search, a namespace's repositories, a repository's tags with their
 * images, answered as `discover --json`, `repos --json` and `tags --details --json` print them, by
 * the same client (src/hub/). Docker Hub is a registry like any other to the policy: refused beyond
 * loopback unless `docker.io` is allow-listed. Its endpoint is the server's own
 * (LAYERSLAYER_HUB_URL, else https://hub.docker.com): callers name what to list, never where.
 */
import { LayerslayerError } from "../errors.ts";
import { escapeName } from "../names.ts";
import { hubListDocument } from "../output/hub.ts";
import { SEARCH_ORDERS, sortResults, type SearchOrder } from "../registry/search.ts";
import { jsonResponse } from "./http.ts";
import type { RouteDef } from "./route-def.ts";
import * as S from "./schemas.ts";

/** `complete: false` when the list was cut short by an error after some items were read. */
const listed = (properties: Record<string, unknown>, key: string, item: S.JsonSchema) =>
  S.versioned({ ...properties, [key]: { type: "array", items: item }, complete: S.bool }, [...Object.keys(properties), key]);

export const HUB_SEARCH = listed(
  { registry: S.str, query: S.str },
  "results",
  S.obj({ name: S.str, description: S.str, stars: S.int, pulls: S.int, official: S.bool, automated: S.bool, updated: S.str }, ["name"]),
);
export const HUB_REPOSITORIES = listed(
  { namespace: S.str },
  "repositories",
  S.obj({ name: S.str, description: S.str, stars: S.int, pulls: S.int, updated: S.str, private: S.bool }, ["name"]),
);
export const HUB_TAGS = listed(
  { repository: S.str },
  "tags",
  S.obj(
    {
      name: S.str,
      pushed: S.str,
      size: S.int,
      digest: S.digest,
      images: { type: "array", items: S.obj({ platform: S.str, digest: S.digest, size: S.int, pushed: S.str }, ["platform"]) },
    },
    ["name", "images"],
  ),
);

const limit = (fallback: number, max: number) => ({ type: "integer" as const, minimum: 1, maximum: max, description: `How many at most (default ${fallback}, at most ${max})` });

export const HUB_ROUTES: RouteDef[] = [
  {
    path: "/v1/hub/search",
    operationId: "hubSearch",
    summary: "Search Docker Hub for repositories, as `discover` does",
    params: {
      query: { type: "string", required: true, description: "What to look for, e.g. nginx" },
      official: { type: "boolean", description: "Only official images" },
      sort: { type: "string", description: `Order the results found: ${SEARCH_ORDERS.join(", ")}, highest first (default: Docker Hub's order)` },
      limit: limit(25, 1000),
    },
    response: { contentType: "application/json", description: "as `discover --json`", schema: HUB_SEARCH },
    handle: async (q, call) => {
      const sort = q.sort === undefined ? undefined : String(q.sort);
      if (sort !== undefined && !(SEARCH_ORDERS as readonly string[]).includes(sort))
        throw new LayerslayerError("USAGE", `sort ${escapeName(sort)}: expected one of ${SEARCH_ORDERS.join(", ")}`);
      const query = String(q.query);
      const list = await call.core.hub().search(query, { limit: (q.limit as number | undefined) ?? 25, ...(q.official === true ? { official: true } : {}) });
      const results = sort ? sortResults(list.items, sort as SearchOrder) : list.items;
      return jsonResponse(hubListDocument({ registry: "docker.io", query }, "results", { ...list, items: results }));
    },
  },
  {
    path: "/v1/hub/repositories",
    operationId: "hubRepositories",
    summary: "The repositories of a Docker Hub user or organisation, as `repos` lists them",
    params: { namespace: { type: "string", required: true, description: "A user or organisation, e.g. library" }, limit: limit(100, 10_000) },
    response: { contentType: "application/json", description: "as `repos --json`", schema: HUB_REPOSITORIES },
    handle: async (q, call) => {
      const namespace = String(q.namespace);
      const list = await call.core.hub().repositories(namespace, (q.limit as number | undefined) ?? 100);
      return jsonResponse(hubListDocument({ namespace: namespace.toLowerCase() }, "repositories", list));
    },
  },
  {
    path: "/v1/hub/tags",
    operationId: "hubTags",
    summary: "The tags of a Docker Hub repository with each one's push time, size and platform images, newest first, as `tags --details`",
    params: { repository: { type: "string", required: true, description: "A Docker Hub repository, e.g. alpine or bitnami/redis" }, limit: limit(50, 10_000) },
    response: { contentType: "application/json", description: "as `tags --details --json`", schema: HUB_TAGS },
    handle: async (q, call) => {
      const { repository, namespace, name } = call.core.hubRepository(String(q.repository));
      const list = await call.core.hub().tags(namespace, name, (q.limit as number | undefined) ?? 50);
      return jsonResponse(hubListDocument({ repository }, "tags", list));
    },
  },
];
