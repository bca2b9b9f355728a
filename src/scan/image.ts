/**
 * Scanning one reference: resolve it (one platform, or every platform of an index), read the
 * listing of every layer the database does not already hold at the same or better completeness,
 * and record the image with the facts of its merged view. Nothing is downloaded for a layer that
 * is recorded well enough (or held complete in the listing cache).
 */
import type { ListingCache } from "../cache/cache.ts";
import { changesOf } from "../db/changes.ts";
import { satisfies, type ScanDatabase } from "../db/database.ts";
import { LayerslayerError } from "../errors.ts";
import { MergedTree } from "../image/merge.ts";
import { listLayer } from "../image/listing.ts";
import type { Progress } from "../layer/progress.ts";
import type { RegistryClient } from "../registry/client.ts";
import { imageEntries, parseManifest, type Descriptor, type Platform } from "../oci/manifest.ts";
import { formatPlatform } from "../oci/platform.ts";
import { openSource } from "../source/open.ts";
import { imagePlatform, resolveImage, type ResolvedImage } from "../oci/resolve.ts";
import type { ImageSource } from "../source/source.ts";
import type { Entry, LayerStats } from "../types.ts";
import type { Limiter } from "./limit.ts";

export interface ScanImageOptions {
  /** The client for a registry (each with that registry's own credentials). */
  clientFor: (registry: string) => Promise<RegistryClient>;
  db: ScanDatabase;
  /** Compressed bytes per layer; undefined = whole layers. */
  budget: number | undefined;
  /** Whole layers: read each tar stream even when the layer has a TOC, and check the TOC against it. */
  verify?: boolean;
  /** A platform, "all", or undefined for the default choice. */
  platform: Platform | "all" | undefined;
  /** Shared by every image of the scan: layers read at once. */
  layers: Limiter;
  /** Shared by every image of the scan: reads under way, by layer digest (a layer two images share is read once). */
  reading: Map<string, Promise<LayerRead>>;
  cache?: ListingCache;
  onBytes?: (n: number) => void;
  /** Stops the scan: layer reads end, and nothing is recorded as a failure for being cancelled. */
  signal?: AbortSignal;
}

/** The outcome of one image (one platform of a reference). */
export interface ImageOutcome {
  reference: string;
  platform: string;
  digest?: string;
  layers: number;
  /** Layers read now / already recorded (nothing downloaded). */
  layersRead: number;
  layersSkipped: number;
  partialLayers: number;
  bytesDownloaded: number;
  entries: number;
  error?: { code: string; message: string };
}

export interface LayerRead {
  stats: LayerStats;
  entries: Entry[];
  error?: LayerslayerError;
}

/** One layer by the listing path (cache first, else streamed within the budget), its entries in memory for the database. */
async function readLayer(o: ScanImageOptions, source: ImageSource, desc: Descriptor, index: number): Promise<LayerRead> {
  const entries: Entry[] = [];
  let seen = 0;
  const onBytes = o.onBytes;
  const onProgress = onBytes
    ? (p: Progress) => {
        onBytes(p.downloaded - seen);
        seen = p.downloaded;
      }
    : undefined;
  // --verify: a TOC's listing is what it declares, so the stream is read and the TOC checked against it.
  const read = o.verify ? { checkToc: "always" as const } : undefined;
  const r = await listLayer(source, desc, index, { budget: o.budget, cache: o.cache, onProgress, read, signal: o.signal }).finish((e) => void entries.push(e));
  return { stats: r.stats, entries, ...(r.error ? { error: r.error } : {}) };
}

/** Records one resolved image; returns its outcome (layer errors become the image's error, after recording what was found). */
async function scanResolved(o: ScanImageOptions, source: ImageSource, img: ResolvedImage): Promise<ImageOutcome> {
  const reference = source.reference;
  const layers = img.manifest.image.layers;
  const p = imagePlatform(img);
  const platform = p ? formatPlatform(p) : "";
  const states = await o.db.layerStates(layers.map((l) => l.digest));
  const out: ImageOutcome = {
    reference,
    platform,
    digest: img.manifest.digest,
    layers: layers.length,
    layersRead: 0,
    layersSkipped: 0,
    partialLayers: 0,
    bytesDownloaded: 0,
    entries: 0,
  };
  let firstError: LayerslayerError | undefined;
  const fresh = await Promise.all(
    layers.map((desc, i) => {
      if (satisfies(states.get(desc.digest), o.budget, o.verify)) return undefined;
      const other = o.reading.get(desc.digest);
      if (other) return other.then((r) => ({ ...r, shared: true }));
      const read = o.layers.run(async () => {
        const r = await readLayer(o, source, desc, i);
        await o.db.putLayer(r.stats, r.entries, r.error?.message);
        return r;
      });
      o.reading.set(desc.digest, read);
      // Once recorded, later images find it in the database.
      read.finally(() => o.reading.delete(desc.digest)).catch(() => {});
      return read.then((r) => ({ ...r, shared: false }));
    }),
  );
  const tree = new MergedTree();
  for (let i = 0; i < layers.length; i++) {
    const read = fresh[i];
    let entries: Entry[];
    if (read && !read.shared) {
      out.layersRead++;
      out.bytesDownloaded += read.stats.bytesDownloaded;
      if (!read.stats.complete) out.partialLayers++;
      if (read.error) firstError ??= new LayerslayerError(read.error.code, `layer ${i}: ${read.error.message}`);
      entries = read.entries;
    } else if (read) {
      // Read for another image of this scan at the same time.
      out.layersSkipped++;
      if (!read.stats.complete) out.partialLayers++;
      entries = read.entries;
    } else {
      out.layersSkipped++;
      if (!states.get(layers[i]!.digest)!.complete) out.partialLayers++;
      entries = await o.db.layerEntries(layers[i]!.digest);
    }
    out.entries += entries.length;
    tree.addLayer(entries, i);
  }
  await o.db.putImage({
    reference,
    platform,
    ...(img.index ? { indexDigest: img.index.digest } : {}),
    manifestDigest: img.manifest.digest,
    configDigest: img.manifest.image.config.digest,
    configBytes: img.configBytes,
    layers: layers.map((l) => l.digest),
    changes: changesOf(tree.events()),
  });
  if (firstError) {
    out.error = { code: firstError.code, message: firstError.message };
    await o.db.putFailure({ reference, platform, code: firstError.code, message: firstError.message });
  }
  return out;
}

/** The platforms to scan for a reference: the one asked for (or the default), or every image of an index. */
async function platformsOf(o: ScanImageOptions, source: ImageSource): Promise<(Platform | undefined)[]> {
  if (o.platform !== "all") return [o.platform];
  const top = await source.manifest(undefined, { signal: o.signal });
  const parsed = parseManifest(top.bytes, top.mediaType, source.reference);
  if (parsed.kind !== "index") return [undefined];
  return imageEntries(parsed.index).map((d) => d.platform);
}

function failure(reference: string, platform: string, e: LayerslayerError): ImageOutcome {
  return { reference, platform, layers: 0, layersRead: 0, layersSkipped: 0, partialLayers: 0, bytesDownloaded: 0, entries: 0, error: { code: e.code, message: e.message } };
}

/** Scans every asked platform of one reference; failures are recorded and returned, never thrown. */
export async function scanReference(o: ScanImageOptions, text: string): Promise<ImageOutcome[]> {
  let reference = text;
  const asked = o.platform && o.platform !== "all" ? formatPlatform(o.platform) : "";
  try {
    const source = await openSource(text, o.clientFor);
    reference = source.reference;
    const platforms = await platformsOf(o, source);
    const outcomes: ImageOutcome[] = [];
    for (const p of platforms) {
      try {
        outcomes.push(await scanResolved(o, source, await resolveImage(source, p, { signal: o.signal })));
      } catch (e) {
        if (!(e instanceof LayerslayerError) || o.signal?.aborted) throw e;
        const platform = p ? formatPlatform(p) : asked;
        await o.db.putFailure({ reference, platform, code: e.code, message: e.message });
        outcomes.push(failure(reference, platform, e));
      }
    }
    return outcomes;
  } catch (e) {
    if (!(e instanceof LayerslayerError) || o.signal?.aborted) throw e;
    if (e.code !== "USAGE") await o.db.putFailure({ reference, platform: asked, code: e.code, message: e.message });
    return [failure(reference, asked, e)];
  }
}
