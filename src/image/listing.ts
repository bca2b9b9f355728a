/**
 * Listing one layer: the one path every front end (the CLI's peek, ls, find, cat, cache warm and
 * scan; the library API; the browser and server to come) takes to the entries of a layer.
 *
 *   1. Cache first. A complete listing in the cache answers any request (with or without a
 *      budget: nothing is better than complete), read part by part, with nothing downloaded. A
 *      read that needs more than a listing (a file's content, checkpoints, a resume) skips it.
 *   2. Else stream. The layer is read by streamLayer (src/layer/stream.ts), within the budget if
 *      there is one, and its entries are handed over as they are decoded.
 *   3. Store what may be stored. Entries go to the cache writer as they stream; only a complete
 *      listing read to its end and verified, or from a checked TOC, is kept (`storable`; the cache
 *      refuses anything else too); a read that fails, is cancelled or is left early aborts the
 *      writer, so no half-written rows remain.
 *
 * The entries come as an async iterable; the result (stats, whether the cache answered, and the
 * error that cut the listing short, if one did) is there once they end. A broken layer ends the
 * entries with the error in the result, so nothing found before it is lost; a cancelled one
 * (`signal`) ends them by throwing an ABORTED error. Progress events (src/layer/progress.ts) come
 * from here, the last one with `done` and the final counts.
 */
import type { ListingCache, StoredListing } from "../cache/cache.ts";
import { storable } from "../cache/listing-parts.ts";
import { abortError, LayerslayerError } from "../errors.ts";
import type { ProgressListener } from "../layer/progress.ts";
import { streamLayer, type LayerResult, type LayerStreamOptions } from "../layer/stream.ts";
import type { Descriptor } from "../oci/manifest.ts";
import type { ImageSource } from "../source/source.ts";
import type { TarEvent } from "../tar/reader.ts";
import type { LayerToc } from "../toc/index.ts";
import type { Entry, LayerStats } from "../types.ts";
import { PackedEntries } from "./packed-entries.ts";

/** What the listing path needs of the cache (src/cache/cache.ts): listings read and written part by part. */
export type ListingParts = Pick<ListingCache, "readListing" | "beginListing">;

/** A file's content as the layer delivers it (see `ListOptions.onData`). */
export type DataEvent = Extract<TarEvent, { kind: "data" }>;

/** How a layer is read beyond a listing: cat (content, resume, stopping early) and cache warm (checkpoints). */
export type ReadOptions = Pick<
  LayerStreamOptions,
  "offsets" | "checkpoints" | "firstChunk" | "wantContent" | "stopAfterContent" | "stopAfter" | "resume" | "useToc" | "checkToc" | "tail" | "coverage" | "attempts"
>;

/** Every field may be given as undefined (the same as leaving it out), so callers pass theirs through. */
export interface ListOptions {
  /** Compressed bytes allowed; undefined lists the whole layer. */
  budget?: number | undefined;
  /** Where complete listings are kept: read first, and written when a read is complete and verified. */
  cache?: ListingParts | undefined;
  /** Cancels the read: the download stops, the cache writer is aborted, the entries end with ABORTED. */
  signal?: AbortSignal | undefined;
  onProgress?: ProgressListener | undefined;
  /** Told when an announced TOC cannot be used (the layer is then read the ordinary way). */
  onWarning?: ((message: string) => void) | undefined;
  /**
   * Keep the whole listing for reading again (`result.entries`): from the cache part by part, or
   * packed in memory, each part encoded once for both memory and the cache.
   */
  keep?: boolean | undefined;
  read?: ReadOptions | undefined;
  /** Keep the TOC a listing came from (`result.toc`), for what it says of the files' content. */
  keepToc?: boolean | undefined;
  /**
   * Content of the entries `read.wantContent` takes, as it is decoded; awaited (a slow sink pauses
   * the read). Returning true ends the read there (the download stops; the listing is incomplete).
   */
  onData?: ((ev: DataEvent) => unknown) | undefined;
}

export interface ListingResult {
  stats: LayerStats;
  /** What cut the listing short (corrupt data, a network failure, a layer that cannot be read). */
  error?: LayerslayerError;
  /** The cache answered: nothing was downloaded. */
  cached: boolean;
  /** The listing was stored in the cache by this read. */
  stored: boolean;
  /** With `keep`: every entry, in archive order, readable more than once. */
  entries?: Iterable<Entry>;
  /** With `keepToc`: the TOC the listing came from (its content map: chunk and file digests). */
  toc?: LayerToc;
}

/** A layer's entries as they arrive, then the result. Iterable once. */
export interface LayerEntries extends AsyncIterable<Entry> {
  /** Set once the entries ended (read to their end, cut short, or cancelled); not when the reader left early. */
  readonly result: ListingResult | undefined;
  /** Reads the entries, handing each to `each` (awaited), and gives the result; instead of iterating. */
  finish(each?: (e: Entry) => unknown): Promise<ListingResult>;
}

/** The stats of a layer that could not be read at all. */
function unreadStats(layer: Descriptor, entries: number): LayerStats {
  return { digest: layer.digest, mediaType: layer.mediaType, layerSize: layer.size, bytesDownloaded: 0, bytesDecompressed: 0, entries, complete: false, verified: false };
}

/** A cached listing's entries, read part by part each time they are iterated. */
function storedEntries(stored: StoredListing, index: number): Iterable<Entry> {
  return {
    *[Symbol.iterator]() {
      const parts = stored.parts();
      let r = parts.next();
      for (; !r.done; r = parts.next()) {
        for (const e of r.value) {
          e.layer = index;
          yield e;
        }
      }
      if (!r.value) throw new LayerslayerError("IO", `the cached listing of layer ${index} was damaged and has been dropped from the cache: run the command again`);
    },
  };
}

/**
 * The cached listing, when the cache has one and the read may use it: with `checkToc` one that
 * came from the layer's TOC is not (what a TOC declares is to be checked against the stream); a
 * listing of the stream was verified against the digest when it was stored.
 */
function usableListing(cache: ListingParts, digest: string, read: ReadOptions): StoredListing | undefined {
  const stored = cache.readListing(digest);
  return stored && !(read.checkToc && stored.stats.toc) ? stored : undefined;
}

/**
 * Layer `index`'s complete listing from the cache alone, nothing downloaded: undefined when the
 * cache has none the read may use (see `usableListing`). Its entries are read part by part each
 * time they are iterated.
 */
export function cachedLayerListing(cache: ListingParts, layer: Descriptor, index: number, read: ReadOptions = {}): ListingResult | undefined {
  const stored = usableListing(cache, layer.digest, read);
  return stored ? storedResult(stored, index, true) : undefined;
}

/** The result of a listing the cache answers (with its entries when they are to be kept). */
function storedResult(stored: StoredListing, index: number, keep: boolean): ListingResult {
  return { stats: { ...stored.stats, bytesDownloaded: 0 }, cached: true, stored: false, ...(keep ? { entries: storedEntries(stored, index) } : {}) };
}

/**
 * Lists layer `index` (descriptor `layer`) of the image `source` serves. See the comment at the
 * top of this file for the order of things; the listing starts when the entries are first read.
 */
export function listLayer(source: ImageSource, layer: Descriptor, index: number, opts: ListOptions = {}): LayerEntries {
  const { signal, onProgress } = opts;
  const read = opts.read ?? {};
  // A cached listing has no content, checkpoints or resume point to give.
  const cache = opts.cache;
  const cacheFirst = cache && !read.wantContent && !read.resume && !read.checkpoints ? cache : undefined;
  let result: ListingResult | undefined;
  let started = false;

  const done = (r: ListingResult): ListingResult => {
    result = r;
    const s = r.stats;
    onProgress?.({
      layer: index,
      digest: layer.digest,
      size: layer.size,
      downloaded: s.bytesDownloaded,
      decoded: s.bytesDecompressed,
      entries: s.entries,
      cached: r.cached,
      done: true,
    });
    return r;
  };
  // The counts of the read so far: a cancelled read reports them (its stream never returns stats).
  const sofar = { downloaded: 0, decoded: 0 };
  const relay: ProgressListener = (p) => {
    sofar.downloaded = p.downloaded;
    sofar.decoded = p.decoded;
    onProgress?.(p);
  };
  const cancelled = (entries: number): never => {
    const error = abortError(signal!, `the listing of layer ${index}`);
    done({ stats: { ...unreadStats(layer, entries), bytesDownloaded: sofar.downloaded, bytesDecompressed: sofar.decoded }, error, cached: false, stored: false });
    throw error;
  };

  const cachedListing = (): StoredListing | undefined => (cacheFirst ? usableListing(cacheFirst, layer.digest, read) : undefined);
  /** The result of a listing the cache answered. */
  const fromCache = (stored: StoredListing): ListingResult => done(storedResult(stored, index, !!opts.keep));

  async function* entries(): AsyncGenerator<Entry, void> {
    if (signal?.aborted) cancelled(0);
    // Entries already handed over from a cached listing that turned out damaged part way: the
    // stream then starts again at the layer's beginning and skips them.
    let handed = 0;
    const stored = cachedListing();
    if (stored) {
      const parts = stored.parts();
      let r = parts.next();
      for (; !r.done; r = parts.next()) {
        for (const e of r.value) {
          e.layer = index;
          handed++;
          yield e;
        }
        if (signal?.aborted) cancelled(handed);
      }
      if (r.value) {
        fromCache(stored);
        return;
      }
    }
    yield* streamed(handed);
  }

  async function* streamed(skip: number): AsyncGenerator<Entry, void> {
    // Entries go to the cache in parts as they stream: memory does not grow with the layer.
    const writer = cache?.beginListing(layer.digest);
    const packed = opts.keep ? new PackedEntries(writer ? (part, data) => writer.addPart(part, data) : undefined) : undefined;
    let settled = false;
    let seen = 0;
    const gen = streamLayer(source, layer, index, {
      ...read,
      ...(opts.budget !== undefined ? { budget: opts.budget } : {}),
      ...(signal ? { signal } : {}),
      onProgress: relay,
      ...(opts.onWarning ? { onWarning: opts.onWarning } : {}),
    });
    try {
      let end: LayerResult;
      // The one loop in the tree that drives a layer stream to its end.
      for (;;) {
        let next: IteratorResult<TarEvent, LayerResult>;
        try {
          next = await gen.next();
        } catch (e) {
          if (signal?.aborted) cancelled(seen);
          // A layer that cannot be read at all (foreign, refused) ends like one cut short.
          if (!(e instanceof LayerslayerError)) throw e;
          next = { done: true, value: { stats: unreadStats(layer, seen), error: e } };
        }
        if (next.done) {
          end = next.value;
          break;
        }
        // Entries decoded before the cancel reached the network are not handed over.
        if (signal?.aborted) cancelled(seen);
        const ev = next.value;
        if (ev.kind === "data") {
          if ((await opts.onData?.(ev)) === true) {
            // The reader has all it wants: the read ends here, incomplete (nothing is stored).
            end = { stats: { ...unreadStats(layer, seen), bytesDownloaded: sofar.downloaded, bytesDecompressed: sofar.decoded } };
            break;
          }
          continue;
        }
        if (packed) packed.add(ev.entry);
        else writer?.add(ev.entry);
        if (seen++ >= skip) yield ev.entry;
      }
      // A decoder may have turned the cancelled download into an error of its own.
      if (signal?.aborted) cancelled(seen);
      const { stats, error } = end;
      let stored = false;
      if (writer && storable(stats) && !error) {
        for (const e of packed?.unpacked() ?? []) writer.add(e);
        stored = writer.finish(stats);
      }
      settled = true;
      if (!stored) writer?.abort();
      done({ stats, ...(error ? { error } : {}), cached: false, stored, ...(packed ? { entries: packed } : {}), ...(opts.keepToc && end.toc ? { toc: end.toc } : {}) });
    } finally {
      // Left early (the reader stopped, an error, a cancel): no half-written listing, no download.
      if (!settled) writer?.abort();
      await gen.return(undefined as never);
    }
  }

  const self: LayerEntries = {
    get result() {
      return result;
    },
    [Symbol.asyncIterator]() {
      if (started) throw new Error("a layer's entries can be read once");
      started = true;
      return entries();
    },
    async finish(each) {
      // Nothing to hand over: a kept listing from the cache is not read now, only when used.
      if (!each && opts.keep && !started && !signal?.aborted) {
        const stored = cachedListing();
        if (stored) {
          started = true;
          return fromCache(stored);
        }
      }
      for await (const e of self) await each?.(e);
      return result!;
    },
  };
  return self;
}
