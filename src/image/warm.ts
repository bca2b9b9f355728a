/**
 * `cache warm`: one pass over each layer that leaves in the cache everything later reads need, its
 * complete listing and, for a gzip layer, its checkpoints, so `cat` of any file later starts at
 * most one checkpoint span before it. The listing is always the tar stream's: a layer with a TOC is
 * read whole too, and its TOC checked against the stream (a difference is CORRUPT); a listing only
 * taken from a TOC in the cache is replaced.
 */
import type { ListingCache } from "../cache/cache.ts";
import { CheckpointSet } from "../codec/checkpoint.ts";
import { LayerslayerError } from "../errors.ts";
import { completeStats, streamLayer } from "../layer/stream.ts";
import type { ResolvedImage } from "../oci/resolve.ts";

export interface WarmResult {
  index: number;
  digest: string;
  /** "warmed" (read now), "cached" (listing and checkpoints were there already). */
  status: "warmed" | "cached";
  entries: number;
  bytesDownloaded: number;
  checkpoints: number;
  /** Where the listing came from: always "stream" (the layer itself), kept for scripts. */
  from: "stream";
  /** The layer's TOC format, when it has one and it matched the stream. */
  tocMatched?: "estargz" | "zstd:chunked";
}

export interface WarmOptions {
  signal?: AbortSignal;
  onProgress?: (downloaded: number, total: number | undefined) => void;
  onWarning?: (message: string) => void;
}

/** Warms layer `index`: complete listing plus checkpoints, unless the cache has them already. */
export async function warmLayer(img: ResolvedImage, index: number, store: ListingCache, opts: WarmOptions = {}): Promise<WarmResult> {
  const desc = img.manifest.image.layers[index];
  if (!desc) throw new LayerslayerError("USAGE", `the image has no layer ${index}`);
  const have = store.readListing(desc.digest);
  const indexed = store.getLayerIndex(desc.digest);
  if (have && !have.stats.toc && indexed && !indexed.prefix) {
    return { index, digest: desc.digest, status: "cached", entries: have.stats.entries, bytesDownloaded: 0, checkpoints: indexed.checkpoints.length, from: "stream", ...(have.stats.tocMatched ? { tocMatched: have.stats.tocMatched } : {}) };
  }
  const set = new CheckpointSet();
  const writer = store.beginListing(desc.digest);
  const gen = streamLayer(img.source, desc, index, {
    offsets: "exact",
    checkpoints: set,
    checkToc: "always",
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    ...(opts.onWarning ? { onWarning: opts.onWarning } : {}),
  });
  try {
    for (;;) {
      const next = await gen.next();
      if (next.done) {
        const stats = completeStats(index, next.value);
        writer.finish(stats);
        if (set.list.length > 0) store.putLayerIndex(desc.digest, { checkpoints: set.list }, desc.size);
        return { index, digest: desc.digest, status: "warmed", entries: stats.entries, bytesDownloaded: stats.bytesDownloaded, checkpoints: set.list.length, from: "stream", ...(stats.tocMatched ? { tocMatched: stats.tocMatched } : {}) };
      }
      if (next.value.kind === "entry") writer.add(next.value.entry);
    }
  } catch (e) {
    writer.abort();
    throw e;
  }
}
