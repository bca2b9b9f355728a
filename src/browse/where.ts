/**
 * Where the browser's images come from, before one is open: a registry's repositories (its
 * catalog), a search provider's results (Docker Hub's, through src/hub), a repository's tags, and
 * the platforms of a multi-platform index. Each list is read through the library (the registry
 * client's bounded walks, the hub client) and comes back as plain items; nothing here draws.
 * Every value is untrusted: the list pane escapes it before it reaches the terminal.
 */
import { LayerslayerError } from "../errors.ts";
import type { HubClient } from "../hub/client.ts";
import { imageEntries, parseManifest, type Platform } from "../oci/manifest.ts";
import { formatPlatform, hostPlatform } from "../oci/platform.ts";
import type { RegistryClient } from "../registry/client.ts";
import { ListWalk, type WalkLimits } from "../registry/pages.ts";
import type { ImageSource } from "../source/source.ts";
import { humanSize } from "../output/format.ts";

/** One row of a list pane: what is shown and what choosing it means. */
export interface ListItem {
  /** The name (untrusted: escaped when drawn). */
  label: string;
  /** A second column: description, size, digest (untrusted too). */
  detail?: string;
  value: string;
}

/** What a list gave, and the error that ended it early (what came before it is kept). */
export interface ListResult {
  items: ListItem[];
  error?: string;
}

/**
 * The bounds of one list in the browser: a person waits for it, so far tighter than `catalog`'s
 * (a registry with more repositories than this shows the first ones and says the list is cut).
 */
export const PANE_WALK_LIMITS: WalkLimits = { requests: 50, names: 50_000, ms: 30_000 };

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** A registry's repositories, page by page within PANE_WALK_LIMITS. */
export async function catalogItems(client: RegistryClient, registry: string): Promise<ListResult> {
  const items: ListItem[] = [];
  const walk = new ListWalk(`${registry} catalog`, PANE_WALK_LIMITS);
  try {
    for await (const page of client.catalog(registry, undefined, { walk })) items.push(...page.map((name) => ({ label: name, value: name })));
  } catch (e) {
    const err = e instanceof LayerslayerError && e.code === "NOT_FOUND" && items.length === 0 ? `${registry} does not offer a catalog (GET /v2/_catalog answered 404)` : message(e);
    if (items.length === 0) throw new LayerslayerError(e instanceof LayerslayerError ? e.code : "NETWORK", err);
    return { items, error: err };
  }
  return { items };
}

/** A repository's tags (the registry's tag list), within PANE_WALK_LIMITS. */
export async function tagItems(client: RegistryClient, registry: string, repository: string): Promise<ListResult> {
  const walk = new ListWalk(`${registry}/${repository} tags`, PANE_WALK_LIMITS);
  const tags = await client.listTags({ registry, repository, tag: "latest" }, { walk });
  return { items: tags.map((t) => ({ label: t, value: t })) };
}

/**
 * The platforms of the image a source names, when it is an index of more than one image (the
 * attestations left out); undefined for a single image. The host's platform comes first.
 */
export async function platformChoices(source: ImageSource): Promise<Platform[] | undefined> {
  const top = await source.manifest();
  const parsed = parseManifest(top.bytes, top.mediaType, source.reference);
  if (parsed.kind !== "index") return undefined;
  const images = imageEntries(parsed.index).filter((d) => d.platform);
  if (images.length <= 1) return undefined;
  const host = formatPlatform(hostPlatform());
  const platforms = images.map((d) => d.platform!);
  return [...platforms.filter((p) => formatPlatform(p) === host), ...platforms.filter((p) => formatPlatform(p) !== host)];
}

/**
 * A search the browser's search pane runs: any provider plugs in (Docker Hub's is below). Picking
 * a result opens its tags: the provider's own list when it has one, else the registry's.
 */
export interface SearchProvider {
  /** Shown in the pane's heading, e.g. "Docker Hub". */
  name: string;
  /** The registry the results' repositories are pulled from. */
  registry: string;
  search(term: string): Promise<ListResult>;
  tags?(repository: string): Promise<ListResult>;
}

/** Results of a search at most. */
const SEARCH_LIMIT = 100;
/** Tags of a repository at most (newest first). */
const HUB_TAGS_LIMIT = 200;

/** Docker Hub's search and tag lists (the `discover` and `tags --details` client) as a provider. */
export function hubSearchProvider(hub: HubClient): SearchProvider {
  const ended = (list: { error?: LayerslayerError }) => (list.error ? { error: list.error.message } : {});
  return {
    name: "Docker Hub",
    registry: "docker.io",
    async search(term) {
      const list = await hub.search(term, { limit: SEARCH_LIMIT });
      const items = list.items.map((r) => ({
        label: r.name,
        value: r.name,
        detail: [r.official ? "official" : "", r.stars !== undefined ? `★${r.stars}` : "", r.description ?? ""].filter(Boolean).join("  "),
      }));
      return { items, ...ended(list) };
    },
    async tags(repository) {
      const [ns, repo] = repository.includes("/") ? repository.split("/", 2) : ["library", repository];
      const list = await hub.tags(ns!, repo!, HUB_TAGS_LIMIT);
      const items = list.items.map((t) => ({
        label: t.name,
        value: t.name,
        detail: [t.size !== undefined ? humanSize(t.size) : "", t.images.map((i) => i.platform).join(" ")].filter(Boolean).join("  "),
      }));
      return { items, ...ended(list) };
    },
  };
}
