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
import { DEFAULT_REGISTRY, formatReference, parseRegistry, type ImageRef } from "../ref/reference.ts";
import { addressPolicy } from "../registry/address-policy.ts";
import { authFileSource } from "../registry/auth-files.ts";
import { RegistryClient } from "../registry/client.ts";
import { RegistrySource } from "../source/registry.ts";
import { openDatabase } from "../db/open.ts";
import { search, type SearchHit, type SearchQuery } from "../scan/search.ts";
import { scanReference } from "../scan/image.ts";
import { Limiter, mapLimited } from "../scan/limit.ts";
import { catalogReferences } from "../scan/targets.ts";
import { allowedHosts, checkRegistry, registryKey, type ServeConfig } from "./config.ts";
import { Jobs, type JobReport } from "./jobs.ts";
import { evaluateRules, type RuleName } from "../analysis/ci-rules.ts";
import { efficiencyOfImage } from "../analysis/efficiency.ts";
import { diffImages } from "../analysis/image-diff.ts";
import { diffPackages } from "../analysis/package-diff.ts";
import { imagePackages } from "../cli/package-view.ts";
import { diffDocument, efficiencyDocument } from "../output/analysis-json.ts";
import { HubClient } from "../hub/client.ts";
import { MAX_JOB_REFERENCES, parseScanRequest, type ScanRequest } from "./scan-request.ts";

/** Images (and layers) one scan job reads at once, as `scan`'s default --concurrency. */
const JOB_CONCURRENCY = 4;

export interface OpenedImage {
  source: RegistrySource;
  img: ResolvedImage;
}

export class ServeCore {
  readonly cache: CacheStore;
  private readonly clients = new Map<string, RegistryClient>();
  private hubClient: HubClient | undefined;
  private readonly checkUrl;
  /** The options the CLI's shared helpers read: JSON, quiet, the cache. */
  private readonly ctx: Context;
  /** Scan jobs running in the background, into the server's database. */
  readonly scans: Jobs<ScanRequest>;

  constructor(private readonly cfg: ServeConfig) {
    this.cache = openCache({ enabled: cfg.useCache, warn: () => {} });
    this.scans = new Jobs(
      { maxRunning: cfg.caps.scanJobs, maxPerClient: cfg.caps.downloadsPerClient, maxKept: cfg.caps.scanJobsKept, timeoutMs: cfg.caps.scanJobTimeoutMs },
      (r, signal, report) => this.scan(r, signal, report),
    );
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
        ...(this.cfg.connections !== undefined ? { connections: this.cfg.connections } : {}),
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

  /** A scan request from a caller's body, every name in it checked against the server's policy. */
  scanRequest(body: unknown): ScanRequest {
    return parseScanRequest(body, this.cfg.caps.maxBudget, {
      checkReference: (text) => void this.reference(text),
      checkRegistry: (text) => {
        const registry = parseRegistry(text);
        checkRegistry(this.cfg, registry);
        return registry;
      },
    });
  }

  /**
   * A scan job's work: what `scan` does (src/scan/), into the server's database: the references
   * named and those of a catalog, each scanned by `scanReference` at most JOB_CONCURRENCY at once.
   */
  private async scan(r: ScanRequest, signal: AbortSignal, report: JobReport): Promise<void> {
    const named = [...r.references];
    if (r.catalog) {
      const { registry, match, allTags } = r.catalog;
      named.push(...(await catalogReferences(this.client(registry), registry, { ...(match ? { match } : {}), allTags })));
      if (named.length > MAX_JOB_REFERENCES)
        throw new LayerslayerError("USAGE", `the catalog names ${named.length} references: more than the ${MAX_JOB_REFERENCES} a scan job takes (narrow it with match)`);
    }
    signal.throwIfAborted();
    report.total(named.length);
    const db = await openDatabase(this.cfg.db);
    try {
      const options = {
        // Every reference was checked when the job was asked for; a catalog's are on its (allowed) registry.
        clientFor: async (registry: string) => {
          checkRegistry(this.cfg, registry);
          return this.client(registry);
        },
        db,
        budget: r.budget,
        ...(r.verify ? { verify: true } : {}),
        platform: r.platform,
        layers: new Limiter(JOB_CONCURRENCY),
        reading: new Map(),
        ...(this.cfg.useCache ? { cache: this.cache } : {}),
        onBytes: report.bytes,
        signal,
      };
      await mapLimited(named, JOB_CONCURRENCY, async (text) => {
        if (signal.aborted) return;
        report.scanned(await scanReference(options, text));
      });
    } finally {
      await db.close();
    }
  }

  /** Stops the background work (the server is stopping). */
  stop(): void {
    this.scans.stop();
  }

  /** `diff --json` of two images, or of one layer of each (`layerB` defaults to `layerA`), as the `diff` command compares them. */
  async diff(
    a: OpenedImage,
    b: OpenedImage,
    opts: { layerA?: string; layerB?: string; ignoreMtime: boolean; content: boolean; packages: boolean; platform?: string; signal: AbortSignal },
  ): Promise<Record<string, unknown>> {
    const la = opts.layerA !== undefined ? this.layer(a.img, opts.layerA).index : undefined;
    const lbSpec = opts.layerB ?? opts.layerA;
    const lb = lbSpec !== undefined ? this.layer(b.img, lbSpec).index : undefined;
    const d = await diffImages(
      { img: a.img, ...(la !== undefined ? { layer: la } : {}) },
      { img: b.img, ...(lb !== undefined ? { layer: lb } : {}) },
      { ...(this.cfg.useCache ? { cache: this.cache } : {}), ignoreMtime: opts.ignoreMtime, content: opts.content, signal: opts.signal },
    );
    let packages;
    if (opts.packages) {
      const ctx = { ...this.ctx, ...(opts.platform !== undefined ? { platform: parsePlatform(opts.platform) } : {}) };
      packages = diffPackages((await imagePackages(ctx, a.source)).packages, (await imagePackages(ctx, b.source)).packages);
    }
    return diffDocument({ img: a.img, layer: la }, { img: b.img, layer: lb }, d, { ...(packages ? { packages } : {}), content: opts.content });
  }

  /** `efficiency --json`: dive's waste figures from every layer's listing, the `top` most wasteful paths (0: all), and the rules' verdicts when given. */
  async efficiency(opened: OpenedImage, opts: { top: number; rules?: Record<RuleName, string>; signal: AbortSignal }): Promise<Record<string, unknown>> {
    const { listings, ...report } = await efficiencyOfImage(opened.img, { ...(this.cfg.useCache ? { cache: this.cache } : {}), signal: opts.signal });
    const shown = opts.top === 0 ? report.inefficiencies : report.inefficiencies.slice(0, opts.top);
    return efficiencyDocument(opened.img.source.reference, report, shown, listings, opts.rules ? { rules: evaluateRules(report, opts.rules) } : undefined);
  }

  /** Docker Hub's API client (LAYERSLAYER_HUB_URL, else hub.docker.com), once Docker Hub passes the policy. */
  hub(): HubClient {
    checkRegistry(this.cfg, DEFAULT_REGISTRY);
    return (this.hubClient ??= new HubClient({ retries: 2 }));
  }

  /** A Docker Hub repository as `tags --details` takes it ("alpine" is library/alpine): its name and two parts. */
  hubRepository(text: string): { repository: string; namespace: string; name: string } {
    const ref = this.reference(text, { allowBare: true });
    if (ref.registry !== DEFAULT_REGISTRY) throw new LayerslayerError("UNSUPPORTED", `${escapeName(ref.registry)} is not Docker Hub (/v1/tags lists its tags)`);
    const parts = ref.repository.split("/");
    if (ref.digest) throw new LayerslayerError("USAGE", "tags takes a repository, not a digest reference");
    if (parts.length !== 2) throw new LayerslayerError("USAGE", `${escapeName(text)} is not a Docker Hub repository (NAMESPACE/NAME)`);
    return { repository: formatReference({ registry: ref.registry, repository: ref.repository }), namespace: parts[0]!, name: parts[1]! };
  }
}
