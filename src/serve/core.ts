/**
 * The one place `serve` calls the library core: every route goes through these functions, so when
 * the core's listing path (progress events, AbortSignal) changes, only this file follows. Nothing
 * here knows HTTP; everything here obeys the server's policy: registries outside the allow-list
 * are refused, every URL fetched passes the address policy, and the server's own logins are given
 * only to allowed registries.
 */
import type { CacheStore } from "../cache/cache.ts";
import { openCache } from "../cache/open.ts";
import type { Context } from "../cli/common.ts";
import { openImageView, type ImageView } from "../cli/image-view.ts";
import { peekLayerText } from "../cli/peek-layer.ts";
import { LayerslayerError } from "../errors.ts";
import { extractFile, type ExtractResult } from "../image/extract.ts";
import { selectLayers } from "../image/select.ts";
import { BlobReader } from "../blob/reader.ts";
import { escapeName } from "../names.ts";
import { alignHistory } from "../oci/config.ts";
import type { Descriptor, Platform } from "../oci/manifest.ts";
import { parsePlatform } from "../oci/platform.ts";
import { resolveImage, type ResolvedImage } from "../oci/resolve.ts";
import { parseImageName } from "../ref/name.ts";
import { formatReference, parseRegistry, type ImageRef } from "../ref/reference.ts";
import { addressPolicy } from "../registry/address-policy.ts";
import { authFileSource } from "../registry/auth-files.ts";
import { RegistryClient } from "../registry/client.ts";
import { RegistrySource } from "../source/registry.ts";
import { openDatabase } from "../db/open.ts";
import { search, type SearchHit, type SearchQuery } from "../scan/search.ts";
import { allowedHosts, checkRegistry, registryKey, type ServeConfig } from "./config.ts";

export interface OpenedImage {
  source: RegistrySource;
  img: ResolvedImage;
}

export class ServeCore {
  readonly cache: CacheStore;
  private readonly clients = new Map<string, RegistryClient>();
  private readonly checkUrl;
  /** The options the CLI's shared helpers read: JSON, quiet, the cache. */
  private readonly ctx: Context;

  constructor(private readonly cfg: ServeConfig) {
    this.cache = openCache({ enabled: cfg.useCache, warn: () => {} });
    this.checkUrl = addressPolicy({ allowedHosts: allowedHosts(cfg) });
    const silent = () => {};
    // No run-wide signal: each request passes its own (a client that leaves, the time limit).
    this.ctx = { json: true, quiet: true, verbose: false, useCache: cfg.useCache, cache: this.cache, note: silent, warn: silent, signal: new AbortController().signal };
  }

  /** One client per registry: its tokens are reused; a login only for an allowed registry. */
  private client(registry: string): RegistryClient {
    const key = registryKey(registry);
    let c = this.clients.get(key);
    if (!c) {
      const allowed = this.cfg.allowRegistries.has(key);
      c = new RegistryClient({
        checkUrl: this.checkUrl,
        retries: 2,
        ...(allowed ? { credentials: authFileSource(registry) } : {}),
        ...(this.cfg.useCache ? { blobCache: this.cache } : {}),
      });
      this.clients.set(key, c);
    }
    return c;
  }

  /** A registry reference a caller gave: never a local image (oci:, archives), and an allowed registry. */
  reference(text: string, opts: { allowBare?: boolean } = {}): ImageRef {
    const name = parseImageName(text, opts);
    if (name.transport !== "registry") throw new LayerslayerError("USAGE", `${escapeName(text)}: only registry references are served (not ${name.transport}:)`);
    checkRegistry(this.cfg, name.ref.registry);
    return name.ref;
  }

  platform(text: string | undefined): Platform | undefined {
    return text === undefined ? undefined : parsePlatform(text);
  }

  source(ref: ImageRef): RegistrySource {
    return new RegistrySource(this.client(ref.registry), ref);
  }

  async open(text: string, platform?: string): Promise<OpenedImage> {
    const source = this.source(this.reference(text));
    return { source, img: await resolveImage(source, this.platform(platform)) };
  }

  async tags(text: string): Promise<{ repository: string; tags: string[] }> {
    const ref = this.reference(text, { allowBare: true });
    if (ref.digest) throw new LayerslayerError("USAGE", "tags takes a repository, not a digest reference");
    return { repository: formatReference({ registry: ref.registry, repository: ref.repository }), tags: await this.client(ref.registry).listTags(ref) };
  }

  /** The catalog, at most `limit` names (`truncated` when there were more). */
  async catalog(text: string, limit: number): Promise<{ registry: string; repositories: string[]; truncated?: true }> {
    const registry = parseRegistry(text);
    checkRegistry(this.cfg, registry);
    const names: string[] = [];
    for await (const page of this.client(registry).catalog(registry)) {
      names.push(...page);
      if (names.length >= limit) return { registry, repositories: names.slice(0, limit), truncated: true };
    }
    return { registry, repositories: names };
  }

  /** The layers a selector names (index, -1, 0,2, 1-3, a digest, all). */
  layers(img: ResolvedImage, selector: string | undefined): number[] {
    return selectLayers(selector, img.manifest.image.layers);
  }

  /**
   * `peek --json` of the chosen layers, one after the other: NDJSON text handed to `write` as it is
   * decoded (awaiting it pauses the listing), stopped by `signal`.
   */
  async peek(opened: OpenedImage, indexes: number[], budget: number | undefined, write: (text: string) => unknown, signal: AbortSignal): Promise<void> {
    const layers = opened.img.manifest.image.layers;
    const { stepOfLayer } = alignHistory(opened.img.config, layers.length);
    for (const i of indexes) {
      signal.throwIfAborted();
      await peekLayerText(this.ctx, opened.source, layers, i, { budget, step: stepOfLayer[i]?.createdBy, write, signal });
    }
  }

  /** The merged tree (every layer, or the one `layer` names), cache first. */
  view(opened: OpenedImage, layer: string | undefined, signal: AbortSignal): Promise<ImageView> {
    return openImageView(this.ctx, opened.source, { image: opened.img, signal, ...(layer !== undefined ? { layer, single: true } : {}) });
  }

  /** One file's bytes to `sink`, as `cat` reads it. */
  cat(opened: OpenedImage, path: string, sink: (chunk: Uint8Array) => void | Promise<void>, opts: { verify: boolean; signal: AbortSignal }): Promise<ExtractResult> {
    const cache = this.cfg.useCache ? this.cache : undefined;
    return extractFile(opened.img, path, sink, { ...(cache ? { cache, indexes: cache } : {}), signal: opts.signal, ...(opts.verify ? { verify: true } : {}) });
  }

  /** What `search` finds in the scan database (opened for the query, closed after). */
  async search(query: SearchQuery): Promise<SearchHit[]> {
    const db = await openDatabase(this.cfg.db);
    try {
      return await search(db, query);
    } finally {
      await db.close();
    }
  }

  /** One layer's descriptor, by a selector that names exactly one. */
  layer(img: ResolvedImage, selector: string): { index: number; desc: Descriptor } {
    const picked = this.layers(img, selector);
    if (picked.length !== 1) throw new LayerslayerError("USAGE", `layer ${escapeName(selector)}: names ${picked.length} layers; give one`);
    return { index: picked[0]!, desc: img.manifest.image.layers[picked[0]!]! };
  }

  /** A whole layer blob, chunk by chunk, hashed as it goes: CORRUPT at the end when it does not match its digest. */
  blob(opened: OpenedImage, desc: Descriptor, signal: AbortSignal): AsyncGenerator<Uint8Array, void> {
    return new BlobReader({ source: opened.source, digest: desc.digest, size: desc.size }, { verify: true, signal }).chunks();
  }
}
