/**
 * Docker Hub's answers turned into our records (docs/docker-hub.md has the shapes and where they
 * come from). Every field is untrusted: unknown ones are ignored, missing or mistyped ones are
 * absent, and an item without its name cannot be shown, so it is skipped (and counted).
 */
import { countField, flagField, objectField, textField, timeField } from "../registry/api-json.ts";
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

/** Sets `out[key]` when `value` is defined (absent fields stay absent). */
function put<T, K extends keyof T>(out: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined) out[key] = value;
}

/** A result of `/v2/search/repositories/`. */
export function searchResult(raw: unknown): SearchResult | undefined {
  const r = objectField(raw);
  const name = textField(r?.repo_name, 256);
  if (!r || !name) return undefined;
  const out: SearchResult = { name };
  put(out, "description", textField(r.short_description));
  put(out, "stars", countField(r.star_count));
  put(out, "pulls", countField(r.pull_count));
  put(out, "official", flagField(r.is_official));
  put(out, "automated", flagField(r.is_automated));
  // Not in the documented shape: shown when a server sends it.
  put(out, "updated", timeField(r.last_updated));
  return out;
}

/** A repository of a namespace; its own `namespace` field, else the one asked for. */
export function hubRepository(raw: unknown, namespace: string): HubRepository | undefined {
  const r = objectField(raw);
  const name = textField(r?.name, 256);
  if (!r || !name) return undefined;
  const out: HubRepository = { name: `${textField(r.namespace, 256) ?? namespace}/${name}` };
  put(out, "description", textField(r.description));
  put(out, "stars", countField(r.star_count));
  put(out, "pulls", countField(r.pull_count));
  put(out, "updated", timeField(r.last_updated));
  put(out, "private", flagField(r.is_private));
  return out;
}

function hubImage(raw: unknown): HubImage | undefined {
  const r = objectField(raw);
  if (!r) return undefined;
  const variant = textField(r.variant, 64);
  const platform = `${textField(r.os, 64) ?? "unknown"}/${textField(r.architecture, 64) ?? "unknown"}${variant ? `/${variant}` : ""}`;
  const out: HubImage = { platform };
  put(out, "digest", digestField(r.digest));
  put(out, "size", countField(r.size));
  put(out, "pushed", timeField(r.last_pushed));
  return out;
}

/** A tag with its images (images that are not objects are dropped). */
export function hubTag(raw: unknown): HubTag | undefined {
  const r = objectField(raw);
  const name = textField(r?.name, 256);
  if (!r || !name) return undefined;
  const images = Array.isArray(r.images) ? r.images.slice(0, 1000).map(hubImage).filter((i): i is HubImage => i !== undefined) : [];
  const out: HubTag = { name, images };
  put(out, "pushed", timeField(r.tag_last_pushed) ?? timeField(r.last_updated));
  put(out, "size", countField(r.full_size));
  put(out, "digest", digestField(r.digest));
  return out;
}

/** Newest first by `pushed` (tags without one last), keeping the server's order otherwise. */
export function newestFirst(tags: HubTag[]): HubTag[] {
  return tags
    .map((t, i) => ({ t, i, at: t.pushed ? Date.parse(t.pushed) : -Infinity }))
    .sort((a, b) => b.at - a.at || a.i - b.i)
    .map((x) => x.t);
}
