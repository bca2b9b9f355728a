/**
 * Docker Hub's answers turned into our records (docs/docker-hub.md has the shapes and where they
 * come from). Every field is untrusted: unknown ones are ignored, missing or mistyped ones are
 * absent, and an item without its name cannot be shown, so it is skipped (and counted).
 */
import { countField, flagField, objectField, readFields, textField, timeField, type FieldSpec } from "../registry/api-json.ts";
import type { SearchResult } from "../registry/search.ts";

/** A repository of a namespace (`/v2/namespaces/NS/repositories`). */
export interface HubRepository {
  /** namespace/name */
  name: string;
  description?: string;
  stars?: number;
  pulls?: number;
  /** ISO 8601 */
  updated?: string;
  private?: boolean;
}

/** One platform's image of a tag. */
export interface HubImage {
  /** os/architecture[/variant], "unknown" for a part the server left out. */
  platform: string;
  digest?: string;
  size?: number;
  pushed?: string;
}

/** A tag with its images (`/v2/namespaces/NS/repositories/REPO/tags`). */
export interface HubTag {
  name: string;
  /** When the tag was last pushed (`tag_last_pushed`, else `last_updated`), ISO 8601. */
  pushed?: string;
  /** Compressed size of the tag's images together (`full_size`). */
  size?: number;
  /** The digest the tag points at (a manifest or an index). */
  digest?: string;
  images: HubImage[];
}

/** Digests as a registry names them; anything else from the server is not shown as one. */
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,256}$/;

function digestField(v: unknown): string | undefined {
  return typeof v === "string" && DIGEST.test(v) ? v : undefined;
}

const SEARCH_FIELDS: FieldSpec<SearchResult> = {
  description: ["short_description", textField],
  stars: ["star_count", countField],
  pulls: ["pull_count", countField],
  official: ["is_official", flagField],
  automated: ["is_automated", flagField],
  // Not in the documented shape: shown when a server sends it.
  updated: ["last_updated", timeField],
};

/** A result of `/v2/search/repositories/`. */
export function searchResult(raw: unknown): SearchResult | undefined {
  const r = objectField(raw);
  const name = textField(r?.repo_name, 256);
  return r && name ? { name, ...readFields(r, SEARCH_FIELDS) } : undefined;
}

const REPOSITORY_FIELDS: FieldSpec<HubRepository> = {
  description: ["description", textField],
  stars: ["star_count", countField],
  pulls: ["pull_count", countField],
  updated: ["last_updated", timeField],
  private: ["is_private", flagField],
};

/** A repository of a namespace; its own `namespace` field, else the one asked for. */
export function hubRepository(raw: unknown, namespace: string): HubRepository | undefined {
  const r = objectField(raw);
  const name = textField(r?.name, 256);
  return r && name ? { name: `${textField(r.namespace, 256) ?? namespace}/${name}`, ...readFields(r, REPOSITORY_FIELDS) } : undefined;
}

const IMAGE_FIELDS: FieldSpec<HubImage> = { digest: ["digest", digestField], size: ["size", countField], pushed: ["last_pushed", timeField] };

function hubImage(raw: unknown): HubImage | undefined {
  const r = objectField(raw);
  if (!r) return undefined;
  const variant = textField(r.variant, 64);
  const platform = `${textField(r.os, 64) ?? "unknown"}/${textField(r.architecture, 64) ?? "unknown"}${variant ? `/${variant}` : ""}`;
  return { platform, ...readFields(r, IMAGE_FIELDS) };
}

const TAG_FIELDS: FieldSpec<HubTag> = { size: ["full_size", countField], digest: ["digest", digestField] };

/** A tag with its images (images that are not objects are dropped). */
export function hubTag(raw: unknown): HubTag | undefined {
  const r = objectField(raw);
  const name = textField(r?.name, 256);
  if (!r || !name) return undefined;
  const images = Array.isArray(r.images)
    ? r.images
        .slice(0, 1000)
        .map(hubImage)
        .filter((i): i is HubImage => i !== undefined)
    : [];
  const pushed = timeField(r.tag_last_pushed) ?? timeField(r.last_updated);
  return { name, images, ...(pushed ? { pushed } : {}), ...readFields(r, TAG_FIELDS) };
}

/** Newest first by `pushed` (tags without one last), keeping the server's order otherwise. */
export function newestFirst(tags: HubTag[]): HubTag[] {
  return tags
    .map((t, i) => ({ t, i, at: t.pushed ? Date.parse(t.pushed) : -Infinity }))
    .sort((a, b) => b.at - a.at || a.i - b.i)
    .map((x) => x.t);
}
