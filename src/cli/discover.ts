import { defineCommand } from "citty";
import { LayerslayerError } from "../errors.ts";
import type { HubList } from "../hub/client.ts";
import { escapeName } from "../names.ts";
import { searchTable } from "../output/hub.ts";
import { DEFAULT_REGISTRY, parseRegistry } from "../ref/reference.ts";
import { registrySearch, SEARCH_ORDERS, sortResults, type SearchOrder, type SearchResult } from "../registry/search.ts";
import { globalArgs, printJson, registryContext, wholeNumber, writeOut, type GlobalArgs } from "./common.ts";
import { endOfList, hubArgs, hubClient } from "./hub-args.ts";
import { log } from "./log.ts";

/** Results shown by default, as docker and podman do; at most MAX_LIMIT. */
const DEFAULT_LIMIT = 25;
const MAX_LIMIT = 1000;

/**
 * `[REGISTRY/]TERM` as podman reads it: a first component that looks like a host (a dot, a colon,
 * or localhost) names the registry; anything else is a term for Docker Hub.
 */
export function splitTerm(input: string): { registry: string; term: string } {
  const slash = input.indexOf("/");
  const first = slash < 0 ? "" : input.slice(0, slash);
  if (first && (/[.:]/.test(first) || first === "localhost")) return { registry: parseRegistry(first), term: input.slice(slash + 1) };
  return { registry: DEFAULT_REGISTRY, term: input };
}

function orderFrom(value: string | undefined): SearchOrder | undefined {
  if (value === undefined) return undefined;
  if (!(SEARCH_ORDERS as readonly string[]).includes(value)) throw new LayerslayerError("USAGE", `--sort ${escapeName(value)}: expected one of ${SEARCH_ORDERS.join(", ")}`);
  return value as SearchOrder;
}

export default defineCommand({
  meta: { name: "discover", description: "Search Docker Hub (or a registry that offers search) for repositories matching TERM" },
  args: {
    term: { type: "positional", required: true, description: "What to look for, e.g. nginx; REGISTRY/TERM searches that registry (/v1/search), e.g. localhost:5000/app" },
    sort: { type: "string", valueHint: "updated|pulls|stars", description: "Order the results found by last update, pulls or stars, highest first (default: the server's order)" },
    official: { type: "boolean", description: "Only official images" },
    limit: { type: "string", valueHint: "N", description: `Results to show at most (default ${DEFAULT_LIMIT}, at most ${MAX_LIMIT})` },
    ...hubArgs,
    username: globalArgs.username,
    "password-stdin": globalArgs["password-stdin"],
    authfile: globalArgs.authfile,
    "plain-http": globalArgs["plain-http"],
  },
  async run({ args }) {
    const { registry, term } = splitTerm(args.term as string);
    if (term.trim() === "") throw new LayerslayerError("USAGE", "the search term is empty");
    const order = orderFrom(args.sort);
    const limit = wholeNumber(args.limit, "--limit", DEFAULT_LIMIT, 1, MAX_LIMIT);
    let list: HubList<SearchResult>;
    if (registry === DEFAULT_REGISTRY) {
      list = await hubClient(args).search(term, { limit, ...(args.official ? { official: true } : {}) });
    } else {
      const { client } = await registryContext({ ...(args as GlobalArgs), cache: false }, registry);
      const found = await registrySearch(client.transport(registry), registry, term, limit);
      list = { items: found.results.filter((r) => !args.official || r.official === true).slice(0, limit), skipped: found.skipped };
    }
    const results = order ? sortResults(list.items, order) : list.items;
    if (args.json) printJson({ registry, query: term, results, ...(list.error ? { complete: false } : {}) });
    else if (results.length)
      writeOut(
        searchTable(results)
          .slice(args.quiet ? 1 : 0)
          .join("\n"),
      );
    else log.info(`no repository matches "${escapeName(term)}"`);
    endOfList(list);
  },
});
