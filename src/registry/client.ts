import type { BlobCache } from "../cache/cache.ts";
import { LayerslayerError } from "../errors.ts";
import { escapeName } from "../names.ts";
import { isRepositoryName, isTagName, manifestReference, type ImageRef } from "../ref/reference.ts";
import { digestAlgorithm, digestOf } from "../oci/digest.ts";
import { responseError } from "./errors.ts";
import { MAX_MANIFEST_BYTES } from "../oci/manifest.ts";
import { MANIFEST_ACCEPT } from "../oci/mediatypes.ts";
import { namePages, type ListWalk } from "./pages.ts";
import type { Attempts } from "./retry.ts";
import { Transport, type TransportOptions } from "./transport.ts";

export interface ClientOptions extends TransportOptions {
  /** Tags asked for per page of the tag list (the registry may send fewer and a Link to the next page). */
  tagPageSize?: number;
  /** Consulted for manifests asked for by digest and for configs; fed with everything fetched (by its digest). */
  blobCache?: BlobCache;
  /** Told once per registry when it answers a range request with the whole blob. */
  warn?: (message: string) => void;
  /** Ranged requests a whole-blob read may have in flight at once (default DEFAULT_CONNECTIONS; 1: one stream). */
  connections?: number;
}

export interface FetchedManifest {
  digest: string;
  mediaType: string;
  bytes: Uint8Array;
}

/** How a document (manifest, index, config) is read: cancelled by `signal` (ABORTED), its bytes counted to `onBytes` as they arrive. */
export interface DocumentReadOptions {
  signal?: AbortSignal | undefined;
  onBytes?: ((received: number) => void) | undefined;
}

/** How a list is walked: the walk it is part of, and who hears of names that are not valid (skipped). */
export interface ListOptions {
  walk?: ListWalk | undefined;
  onInvalid?: ((name: string) => void) | undefined;
}

/**
 * Connections a whole-blob read uses by default (src/blob/parallel.ts): registries serve blobs from
 * object stores and CDNs that cap each connection's speed, and eight 2 MiB ranges at once read a
 * blob 4.8× as fast as one stream through a 16 MB/s-per-connection link with 20 ms added latency,
 * six 4.4× (DEFAULT_RANGE_BYTES has the figures; docs/performance.md). 1 turns it off.
 */
export const DEFAULT_CONNECTIONS = 8;
/** The most connections one read may use (`--connections`). */
export const MAX_CONNECTIONS = 16;

/** The most names distribution sends in one page of `_catalog`. */
export const CATALOG_PAGE_SIZE = 1000;
export const CATALOG_SCOPE = "registry:catalog:*";

function scopeOf(ref: ImageRef): string {
  return `repository:${ref.repository}:pull`;
}

/** The small registry API the rest of layerslayer uses. */
export class RegistryClient {
  private readonly transports = new Map<string, Transport>();
  /** Registries already named as ignoring Range. */
  private readonly rangeIgnored = new Set<string>();
  /** Ranged requests a whole-blob read from this client's registries may have in flight at once. */
  readonly connections: number;
  constructor(private readonly options: ClientOptions = {}) {
    const n = options.connections ?? DEFAULT_CONNECTIONS;
    if (!Number.isSafeInteger(n) || n < 1 || n > MAX_CONNECTIONS)
      throw new LayerslayerError("USAGE", `connections ${String(n)}: expected a whole number from 1 to ${MAX_CONNECTIONS}`);
    this.connections = n;
  }

  transport(registry: string): Transport {
    let t = this.transports.get(registry);
    if (!t) {
      t = new Transport(registry, this.options);
      this.transports.set(registry, t);
    }
    return t;
  }

  /** GET a manifest by tag or digest; verifies its digest against the one asked for and the one the registry claims. */
  async fetchManifest(ref: ImageRef, reference = manifestReference(ref), opts: DocumentReadOptions = {}): Promise<FetchedManifest> {
    const what = `${ref.registry}/${ref.repository}${reference.includes(":") ? "@" : ":"}${reference}`;
    // A digest names immutable bytes (the cache checks them against it); a tag may move: never cached by tag.
    const cached = reference.includes(":") ? this.options.blobCache?.getBlob(reference) : undefined;
    if (cached && cached.bytes.byteLength <= MAX_MANIFEST_BYTES) return { digest: reference, mediaType: cached.mediaType, bytes: cached.bytes };
    const path = `/v2/${ref.repository}/manifests/${reference}`;
    const fetched = this.transport(ref.registry).fetchBytes(
      path,
      { headers: { Accept: MANIFEST_ACCEPT }, scope: scopeOf(ref), ...(opts.signal ? { signal: opts.signal } : {}) },
      MAX_MANIFEST_BYTES,
      `${what} manifest`,
      opts.onBytes,
    );
    // The cache the manifest is kept in (and the config read from) opens while the request is out:
    // a tag is resolved at the registry, and opening the SQLite cache took a cached `ls IMAGE:TAG`
    // 2.5 ms more after the answer (docs/performance.md). setImmediate runs once the promises that
    // send the request have, so the open never holds the request back.
    const cache = this.options.blobCache;
    if (cache?.prepare) setImmediate(() => cache.prepare?.());
    const { res, bytes } = await fetched;
    if (!res.ok) throw await responseError(res, what);
    const claimed = res.headers.get("docker-content-digest");
    const expected = reference.includes(":") ? reference : undefined;
    const algo = expected ? digestAlgorithm(expected) : "sha256";
    const digest = digestOf(bytes, algo);
    if (expected && digest !== expected) {
      throw new LayerslayerError("CORRUPT", `${what}: the manifest's bytes hash to ${digest}, not the digest asked for`);
    }
    if (claimed && claimed.startsWith(`${algo}:`) && claimed !== digest) {
      throw new LayerslayerError("CORRUPT", `${what}: the manifest's bytes hash to ${digest}, but the registry says ${escapeName(claimed.slice(0, 200))}`);
    }
    const mediaType = (res.headers.get("content-type") ?? "").split(";")[0]!.trim();
    this.options.blobCache?.putBlob(digest, mediaType, bytes);
    return { digest, mediaType, bytes };
  }

  /** A small blob (config), read whole and checked against its digest. */
  async fetchBlobBytes(ref: ImageRef, digest: string, limit: number, label = "blob", opts: DocumentReadOptions = {}): Promise<Uint8Array> {
    const what = `${ref.registry}/${ref.repository}@${digest} (${label})`;
    const cached = this.options.blobCache?.getBlob(digest);
    if (cached && cached.bytes.byteLength <= limit) return cached.bytes;
    const path = `/v2/${ref.repository}/blobs/${digest}`;
    const { res, bytes } = await this.transport(ref.registry).fetchBytes(path, { scope: scopeOf(ref), ...(opts.signal ? { signal: opts.signal } : {}) }, limit, what, opts.onBytes);
    if (!res.ok) throw await responseError(res, what);
    const got = digestOf(bytes, digestAlgorithm(digest));
    if (got !== digest) throw new LayerslayerError("CORRUPT", `${what}: the bytes hash to ${got}, not ${digest}`);
    this.options.blobCache?.putBlob(digest, (res.headers.get("content-type") ?? "").split(";")[0]!.trim(), bytes);
    return bytes;
  }

  /** A blob request; `range` as [start, endInclusive] or [start] for an open end; `attempts` shared by the read it is part of. */
  async blob(
    ref: ImageRef,
    digest: string,
    opts: { range?: [number, (number | undefined)?]; signal?: AbortSignal | undefined; method?: "GET" | "HEAD"; attempts?: Attempts | undefined } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = {};
    if (opts.range) headers.Range = `bytes=${opts.range[0]}-${opts.range[1] ?? ""}`;
    const res = await this.transport(ref.registry).request(`/v2/${ref.repository}/blobs/${digest}`, {
      method: opts.method ?? "GET",
      headers,
      scope: scopeOf(ref),
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.attempts ? { attempts: opts.attempts } : {}),
    });
    // The whole blob for a range (the blob reader stops reading at the budget and cancels the rest).
    if (res.status === 200 && opts.range && !this.rangeIgnored.has(ref.registry) && this.moreThanAsked(res, opts.range)) {
      this.rangeIgnored.add(ref.registry);
      this.options.warn?.(`${ref.registry} ignores Range requests and sends whole blobs: reading stops at the budget, but every read starts at a blob's first byte`);
    }
    return res;
  }

  /** Whether a 200 to a range request sends more than the range (a 200 for the whole of a small blob does not). */
  private moreThanAsked(res: Response, [start, end]: [number, (number | undefined)?]): boolean {
    const length = Number(res.headers.get("content-length") ?? NaN);
    return start > 0 || !(length <= (end === undefined ? Infinity : end - start + 1));
  }

  /**
   * Every tag of a repository, following `Link: <…>; rel="next"` pagination, within `opts.walk`
   * when it is part of one. A tag that is not a valid tag is skipped and handed to `opts.onInvalid`.
   */
  async listTags(ref: ImageRef, opts: ListOptions = {}): Promise<string[]> {
    const tags: string[] = [];
    const pages = namePages(this.transport(ref.registry), `/v2/${ref.repository}/tags/list?n=${this.options.tagPageSize ?? 1000}`, {
      scope: scopeOf(ref),
      what: `${ref.registry}/${ref.repository} tags`,
      field: "tags",
      valid: isTagName,
      onInvalid: opts.onInvalid,
      walk: opts.walk,
    });
    for await (const page of pages) tags.push(...page);
    return tags;
  }

  /**
   * The registry's repositories (`/v2/_catalog`), a page at a time. Distribution sends at most
   * 1000 names a page and refuses a larger `n`. Pass a `walk` shared with the tag lists that
   * follow, so the bound is on the whole walk. A name that is not a valid repository name is
   * skipped and handed to `opts.onInvalid`.
   */
  catalog(registry: string, pageSize = CATALOG_PAGE_SIZE, opts: ListOptions = {}): AsyncGenerator<string[]> {
    return namePages(this.transport(registry), `/v2/_catalog?n=${pageSize}`, {
      scope: CATALOG_SCOPE,
      what: `${registry} catalog`,
      field: "repositories",
      valid: isRepositoryName,
      onInvalid: opts.onInvalid,
      walk: opts.walk,
    });
  }
}
