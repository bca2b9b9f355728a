/**
 * The image pane's layer listings, in two passes through the library's one listing path
 * (src/image/listing.ts: cache first, progress events, one AbortSignal):
 *
 *   1. Budgeted: every layer's first FIRST_PASS_BUDGET compressed bytes, so the tree has something
 *      of every layer within the first second. A layer that fits in the budget (or that the cache
 *      holds) is complete here already.
 *   2. Complete: the layers still partial, read whole (and stored in the cache). Their entries
 *      are handed over as they arrive, so the tree grows entry by entry, not only layer by layer.
 *
 * A few layers are read at a time, first passes before second ones. Errors of one layer are told
 * through its state; the others go on. Aborting the signal stops the reads under way and the
 * layers not started.
 */
import { DEFAULT_BUDGET } from "../cli/budget.ts";
import type { Context } from "../cli/common.ts";
import { LayerslayerError } from "../errors.ts";
import type { LayerListing } from "../image/load.ts";
import { listLayer } from "../image/listing.ts";
import { completeStats } from "../layer/stream.ts";
import type { Entry } from "../types.ts";
import type { LayerInfo, OpenedImage } from "./core.ts";

/** Compressed bytes of each layer read in the first pass (peek's default budget). */
export const FIRST_PASS_BUDGET = DEFAULT_BUDGET;
/** Entries of a layer held for the growing tree while its complete read is under way, at most. */
const MAX_STREAMED = 250_000;
/** A layer's growing entries are handed over at most this often. */
const PARTIAL_EVERY_MS = 100;
/** A layer's gauge is redrawn at most this often while it is read. */
const PROGRESS_EVERY_MS = 100;
/** The read gives way to timers and keys at least this often. */
const YIELD_EVERY_MS = 20;

export interface ListingEvents {
  /** A layer changed state (the same LayerInfo object, updated). */
  onState(layer: LayerInfo): void;
  /** Part of a layer's listing (the first pass, or the complete read so far): the entries in archive order. */
  onPartial(index: number, entries: readonly Entry[]): void;
  /** A layer's complete listing, in any order. */
  onListing(listing: LayerListing): void;
}

export async function readListings(ctx: Context, image: OpenedImage, events: ListingEvents, signal: AbortSignal, concurrency = 3): Promise<void> {
  const cache = ctx.useCache ? ctx.cache : undefined;
  // Layers not started yet stop at once; those being read stop through the signal.
  const stopWaiting = () => {
    for (const layer of image.layers) {
      if (layer.state !== "waiting" && layer.state !== "partial") continue;
      layer.state = "stopped";
      events.onState(layer);
    }
  };
  if (signal.aborted) stopWaiting();
  else signal.addEventListener("abort", stopWaiting, { once: true });
  const jobs: { layer: LayerInfo; budget: number | undefined }[] = [
    ...image.layers.map((layer) => ({ layer, budget: FIRST_PASS_BUDGET })),
    ...image.layers.map((layer) => ({ layer, budget: undefined })),
  ];
  let next = 0;
  const read = async (layer: LayerInfo, budget: number | undefined) => {
    const before = layer.state;
    layer.state = "reading";
    events.onState(layer);
    let last = 0;
    let handed = 0;
    let shownAt = 0;
    let yieldedAt = Date.now();
    let toldAt = 0;
    const seen: Entry[] = [];
    const r = await listLayer(image.img.source, image.img.manifest.image.layers[layer.index]!, layer.index, {
      budget,
      cache,
      signal,
      keep: true,
      onWarning: ctx.warn,
      onProgress: (p) => {
        layer.downloaded = p.downloaded;
        layer.entries = Math.max(layer.entries ?? 0, p.entries);
        // A redraw per 1 % of the layer and per PROGRESS_EVERY_MS at most (events come per chunk;
        // each redraw is time the read does not have).
        const pct = Math.floor((100 * p.downloaded) / Math.max(1, p.size));
        const now = Date.now();
        if (p.done || (pct !== last && now - toldAt >= PROGRESS_EVERY_MS)) {
          events.onState(layer);
          last = pct;
          toldAt = now;
        }
      },
    }).finish((e) => {
      // Entries decoded from bytes already received come through promises alone, which would hold
      // back timers and keys (the redraw, the tree's build) until the read waits for the network.
      const now = Date.now();
      const pause = now - yieldedAt >= YIELD_EVERY_MS ? new Promise<void>((resolve) => setImmediate(resolve)).then(() => void (yieldedAt = Date.now())) : undefined;
      if (seen.length >= MAX_STREAMED) return pause;
      seen.push(e);
      // The complete read hands over what it has once it has more than the first pass gave.
      if (seen.length > handed && now - shownAt >= PARTIAL_EVERY_MS && (budget !== undefined || seen.length > (layer.firstPass ?? 0))) {
        shownAt = now;
        handed = seen.length;
        events.onPartial(layer.index, seen);
      }
      return pause;
    });
    if (r.cached || (r.stats.complete && !r.error)) {
      const listing: LayerListing = { index: layer.index, entries: r.entries!, stats: completeStats(layer.index, r), cached: r.cached };
      layer.state = r.cached ? "cache" : "complete";
      layer.entries = listing.stats.entries;
      if (listing.stats.toc) layer.toc = listing.stats.toc;
      events.onState(layer);
      events.onListing(listing);
      return;
    }
    if (budget === undefined || r.error) {
      // A complete read that ended early, or a first pass that failed: the layer's error.
      completeStats(layer.index, r);
    }
    events.onPartial(layer.index, seen);
    layer.state = before === "waiting" ? "partial" : before;
    layer.entries = r.stats.entries;
    layer.firstPass = r.stats.entries;
    events.onState(layer);
  };
  // The end of each layer's first pass: its complete read waits for it.
  const firstDone = image.layers.map(() => Promise.withResolvers<void>());
  const worker = async () => {
    while (next < jobs.length) {
      const { layer, budget } = jobs[next++]!;
      if (budget === undefined) await firstDone[layer.index]!.promise;
      try {
        if (budget !== undefined ? layer.state === "waiting" : layer.state === "partial") await read(layer, budget);
      } catch (e) {
        const aborted = signal.aborted || (e instanceof LayerslayerError && e.code === "ABORTED");
        layer.state = aborted ? "stopped" : "failed";
        if (!aborted) layer.error = e instanceof Error ? e.message : String(e);
        events.onState(layer);
      } finally {
        if (budget !== undefined) firstDone[layer.index]!.resolve();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, image.layers.length)) }, worker));
}
