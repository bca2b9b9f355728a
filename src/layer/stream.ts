import { ByteCoverage } from "../blob/coverage.ts";
import { RangeReader } from "../blob/range.ts";
import { blobAttempts } from "../blob/allowance.ts";
import { BlobReader } from "../blob/reader.ts";
import type { Checkpoint, CheckpointSink } from "../codec/checkpoint.ts";
import { codecFromMediaType, decodeLayer, type Decoder, type OffsetPrecision } from "../codec/index.ts";
import { LayerslayerError } from "../errors.ts";
import { countDecoded, countEntry, inShortRun } from "../jit.ts";
import { isForeignLayer, type Descriptor } from "../oci/manifest.ts";
import { checkForeignUrls } from "../registry/url-policy.ts";
import { escapeName } from "../names.ts";
import type { ImageSource } from "../source/source.ts";
import { readTar, type TarEvent } from "../tar/reader.ts";
import { ANNOTATION, announcesToc, ESTARGZ_OWN, findToc, TAIL_BYTES, TocComparison, tocLayerStats, type LayerToc, type TocSearch } from "../toc/index.ts";
import type { DecodedChunk, Entry, LayerStats } from "../types.ts";
import type { Attempts } from "../registry/retry.ts";
import type { ProgressListener } from "./progress.ts";

export interface LayerStreamOptions {
  /** Compressed bytes allowed; undefined = the whole layer. */
  budget?: number;
  /** Entries whose content should be streamed as "data" events (for cat). */
  wantContent?: (e: Entry) => boolean;
  /**
   * End the stream (and the download) as soon as one wanted entry's content is complete; the blob
   * is then read in growing ranges, so little is fetched past that point.
   */
  stopAfterContent?: boolean;
  signal?: AbortSignal;
  /**
   * What the entries' `compressedOffset` must be. Default: "exact" with a budget (the budget is
   * metered on exact offsets), else "bounded", which lets the native decoders read the layer.
   */
  offsets?: OffsetPrecision;
  firstChunk?: number;
  /** Told the running counts (bytes downloaded and decoded, entries) as the layer is read; never `done` (the listing path says that). */
  onProgress?: ProgressListener;
  /** A complete listing (no budget, no content) comes from the layer's TOC when it has one; false turns that off. */
  useToc?: boolean;
  /**
   * Read the tar stream even when the layer has a TOC, and check the TOC against it: any difference
   * ends the read with CORRUPT (see toc/compare.ts). "if-toc" reads nothing at all (an empty,
   * incomplete result) when the layer has no usable TOC.
   */
  checkToc?: "always" | "if-toc";
  /** Told when an announced TOC cannot be used (the layer is then read the ordinary way). */
  onWarning?: (message: string) => void;
  /** A gzip layer is decoded exactly and its checkpoints are recorded here. */
  checkpoints?: CheckpointSink;
  /**
   * Start a gzip layer at `checkpoint` and read tar from `tarOffset` (an entry's header offset, at or
   * after the checkpoint): only the compressed bytes from the checkpoint on are fetched.
   */
  resume?: { checkpoint: Checkpoint; tarOffset: number };
  /** End the stream (and the download) right after an entry this says yes to. */
  stopAfter?: (e: Entry) => boolean;
  /** The blob's last bytes, read earlier (a TOC footer probe): used instead of downloading them again. */
  tail?: Uint8Array;
  /** Also records the bytes this read downloads here (a count over several reads of the layer). */
  coverage?: ByteCoverage;
  /** The tries allowed, shared with the layer's other reads in this run (reader.ts `blobAttempts`); else the TOC probe and the read share a fresh one. */
  attempts?: Attempts;
}

/**
 * The stats of a whole-layer read that must have listed everything (a merged view, a cache
 * warm-up): the read's error, or a tar that ends without its end-of-archive marker, becomes the
 * error, named with the layer's index.
 */
export function completeStats(index: number, result: LayerResult): LayerStats {
  if (result.error) throw new LayerslayerError(result.error.code, `layer ${index}: ${result.error.message}`, { cause: result.error });
  if (!result.stats.complete) throw new LayerslayerError("CORRUPT", `layer ${index}: the tar archive ends without its end-of-archive marker`);
  return result.stats;
}

/** What a layer read ended with: the stats, and the error that cut it short, if any. */
export interface LayerResult {
  stats: LayerStats;
  error?: LayerslayerError;
  /** The TOC the listing came from. */
  toc?: LayerToc;
}

/** A landmark eStargz puts first: a one-byte regular file at the root. */
function isLandmark(e: Entry): boolean {
  return (e.path === ".prefetch.landmark" || e.path === ".no.prefetch.landmark") && e.type === "file" && e.size === 1;
}

/**
 * Skipped content is garbage the moment it is decoded (on the exact path; the native one reuses its
 * buffers for a listing, but the downloaded chunks still are), and JavaScriptCore lets buffers pile
 * up before it collects, so peak memory would follow the amount decoded. A full collection after
 * every 2 MiB decoded keeps it near the live set. Measured on a 183 MB rootfs layer (compiled
 * binary, native decoders, JIT policy 50, scripts/bench.ts layers): peak RSS gzip 59-60 MiB and zstd
 * 63 MiB every 2 MiB, 62 and 64-65 MiB every 4 MiB (zstd ~0.05 s faster); a layer of 1,000,000
 * entries 76-78 MiB against 83-86 MiB (+0.2-0.5 s of 5 s). Most of the rest is not the heap: the
 * pages of the executable a read touches (runtime, JIT, HTTP, zlib) are about 42 of those MiB.
 * Earlier, with every decoded chunk garbage: 89-100 MiB every 16 MiB, 70-75 every 4 MiB; an
 * asynchronous collection (Bun.gc(false)) changed nothing.
 */
const GC_EVERY = 2 * 1024 * 1024;

/**
 * A longer period for the native decoders, which reuse their output buffers: there the garbage is
 * the downloaded chunks, the entries and the printed lines (made without a table per line since),
 * not the decoded bytes. Measured on the same layer (binary, 9-11 interleaved runs, load 4-13,
 * medians): zstd every 2/3/4 MiB 60.6-62.9 / 60.7-63.2 / 63.9-64.4 MiB at 0.83-0.94 / 0.73-0.79 /
 * 0.64 CPU s; gzip 59.4-59.7 / 60.5-61.0 / 60.6-61.1 MiB at 0.78 / 0.69-0.71 / 0.62-0.67 CPU s. The
 * 1,000,000-entry layer (gzip -1), whose garbage is per entry: 71.8 / 73.0 / 77.6-77.8 MiB (main's
 * binary 74.5). Charging each entry toward the period as well raised the zstd listing's peak
 * (63.4-64.3 MiB against 62.0-62.1 at 3 MiB, three interleaved comparisons): not done.
 */
const GC_EVERY_NATIVE: Readonly<Record<string, number>> = { zlib: 3 * 1024 * 1024, libzstd: 3 * 1024 * 1024 };

/**
 * During a short run (src/jit.ts: a small budget, its decoder interpreted) the decoded chunks, the
 * exact decoder's window copies and the listing's strings are most of what grows: a collection
 * every 256 KiB decoded kept a 256K peek (1.1 MB decoded) 1.0-1.5 MiB lower than one every 2 MiB
 * (binary, 5 runs each; 512 KiB 1.0, 128 KiB 1.8), at the same CPU time.
 */
const GC_EVERY_SHORT_RUN = 256 * 1024;

/** Decoded bytes between full collections for a read by `decoder` (undefined: not chosen yet, a resumed read). */
export function gcPeriod(decoder: Decoder | undefined): number {
  if (inShortRun()) return GC_EVERY_SHORT_RUN;
  return (decoder && GC_EVERY_NATIVE[decoder.name]) ?? GC_EVERY;
}

/** Counts decoded bytes as they pass to the tar reader, telling `onChunk` after each chunk; a full collection every `period()` bytes. */
async function* metered(
  source: AsyncGenerator<DecodedChunk, unknown>,
  counter: { bytes: number },
  onChunk?: () => void,
  period: () => number = () => GC_EVERY,
): AsyncGenerator<DecodedChunk, void> {
  let outSinceGc = 0;
  for await (const chunk of source) {
    counter.bytes += chunk.data.byteLength;
    countDecoded(chunk.data.byteLength);
    onChunk?.();
    outSinceGc += chunk.data.byteLength;
    if (outSinceGc >= period()) {
      Bun.gc(true);
      outSinceGc = 0;
    }
    yield chunk;
  }
}

/** A generator that becomes available later (a decoder loaded on demand). */
async function* lazy<T>(gen: Promise<AsyncGenerator<T, unknown>>): AsyncGenerator<T, void> {
  yield* await gen;
}

/** Drops the first `skip` decoded bytes; the rest pass unchanged (with their compressed offsets). */
async function* skipping(source: AsyncGenerator<DecodedChunk, unknown>, skip: number): AsyncGenerator<DecodedChunk, void> {
  for await (const chunk of source) {
    if (skip >= chunk.data.length) {
      skip -= chunk.data.length;
      continue;
    }
    yield skip > 0 ? { data: chunk.data.subarray(skip), compressedConsumed: chunk.compressedConsumed } : chunk;
    skip = 0;
  }
}

/**
 * One layer, end to end: ranged budgeted download → decoder → tar reader. Yields tar events as they
 * are decoded and returns the stats; an error after some entries (corrupt data, a broken network)
 * is returned beside the stats, so nothing found before it is lost.
 */
export async function* streamLayer(source: ImageSource, layer: Descriptor, index: number, opts: LayerStreamOptions = {}): AsyncGenerator<TarEvent, LayerResult> {
  if (isForeignLayer(layer)) {
    // Foreign layers live outside the registry; we do not fetch arbitrary URLs.
    checkForeignUrls(layer.urls, "foreign layer URL");
    throw new LayerslayerError("UNSUPPORTED", `a foreign layer hosted at ${escapeName(layer.urls?.[0] ?? "")}, not in the registry`);
  }
  const src = { source, digest: layer.digest, size: layer.size };
  // Every byte downloaded, by the TOC probe and the read, counted once.
  const coverage = new ByteCoverage();
  // One allowance of tries for the TOC probe and the read: a blob that fails every request fails
  // after those few, not after the probe's and then the read's own.
  const attempts = opts.attempts ?? blobAttempts();
  let search: TocSearch = {};
  const decoded = { bytes: 0 };
  let entries = 0;
  const listener = opts.onProgress;
  // Downloaded so far: the TOC search's bytes and the blob reader's, each counted once.
  const progress = listener
    ? () => listener({ layer: index, digest: layer.digest, size: layer.size, downloaded: coverage.size, decoded: decoded.bytes, entries, cached: false, done: false })
    : undefined;
  const blob = new BlobReader(src, {
    ...(opts.tail ? { tail: opts.tail } : {}),
    ...(opts.budget !== undefined ? { budget: opts.budget } : {}),
    // Hashed whenever the read starts at byte 0: one that reaches the end is verified, whatever its budget.
    verify: true,
    ...(opts.resume ? { start: Math.floor(opts.resume.checkpoint.bit / 8) } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.firstChunk ? { firstChunk: opts.firstChunk } : {}),
    ...(opts.stopAfterContent ? { ranged: true } : {}),
    ...(progress ? { onProgress: progress } : {}),
    coverage,
    attempts,
  });
  if (opts.budget === undefined && !opts.wantContent && !opts.resume && (opts.useToc !== false || opts.checkToc)) {
    const ranges = new RangeReader(src, opts.signal, coverage, attempts);
    // Unless the layer announces a TOC (or only one would be read, or one connection at a time is
    // asked for), the read's first answer is asked for beside the tail probe: most layers have no
    // TOC, and the probe's round trip is saved.
    if (!announcesToc(layer) && opts.checkToc !== "if-toc" && layer.size > TAIL_BYTES && (source.connections ?? 1) > 1) blob.prefetch(layer.size - TAIL_BYTES);
    try {
      search = await findToc((start, end) => ranges.read(start, end), layer);
    } catch (e) {
      // The tail could not be read: the ordinary read says what is wrong, if anything, with an
      // answer of its own (the one asked for meanwhile may have been cut off unread since).
      await blob.dropPrefetch();
      if (!(e instanceof LayerslayerError)) throw e;
    }
    if (search.warning) opts.onWarning?.(`layer ${index}: ${search.warning}`);
    if (opts.checkToc === "if-toc" && !search.toc) {
      opts.coverage?.addAll(coverage);
      return {
        stats: {
          digest: layer.digest,
          mediaType: layer.mediaType,
          layerSize: layer.size,
          bytesDownloaded: coverage.size,
          bytesDecompressed: 0,
          entries: 0,
          complete: false,
          verified: false,
        },
      };
    }
    if (search.toc && !opts.checkToc) {
      await blob.dropPrefetch();
      opts.coverage?.addAll(coverage);
      const toc = search.toc;
      for (const entry of toc.entries) {
        entry.layer = index;
        entries++;
        yield { kind: "entry", entry };
      }
      progress?.();
      return { stats: tocLayerStats(layer, toc, coverage.size), toc };
    }
  }
  if (search.tail) blob.useTail(search.tail);
  let chosen: Decoder | undefined;
  let complete = false;
  let noEndMarker = false;
  let error: LayerslayerError | undefined;
  // A budget is metered, and checkpoints are placed, on exact offsets; anything else may decode natively.
  const offsets = opts.offsets ?? (opts.budget !== undefined || opts.checkpoints ? "exact" : "bounded");
  const resume = opts.resume;
  const record = opts.checkpoints ? { checkpoints: opts.checkpoints } : {};
  // A read from a checkpoint cannot sniff the codec (it starts mid-layer): the media type says it.
  const resumed = (): AsyncGenerator<DecodedChunk, unknown> => {
    const from = { resume: resume!.checkpoint, ...record };
    const codec = codecFromMediaType(layer.mediaType);
    const gen =
      codec === "zstd" ? import("../codec/zstd.ts").then((m) => m.zstdDecode(blob.chunks(), from)) : import("../codec/gzip.ts").then((m) => m.gunzip(blob.chunks(), from));
    return skipping(lazy(gen), resume!.tarOffset - resume!.checkpoint.out);
  };
  // Without content the tar reader is the chunks' only reader, and it copies what it keeps.
  const transient = !opts.wantContent;
  const decoder = resume
    ? resumed()
    : decodeLayer(blob.chunks(), layer.mediaType, { offsets, transient, onDecoder: (d) => (chosen = d), ...(opts.checkpoints ? { gzip: record, zstd: record } : {}) });
  const tar = readTar(
    metered(decoder, decoded, progress, () => gcPeriod(chosen)),
    {
      layer: index,
      ...(opts.wantContent ? { wantContent: opts.wantContent } : {}),
      // On past the end-of-archive marker to the blob's last byte (within the budget, if any): the
      // decoder checks the last trailer, padding (a plain tar as docker save writes it) is read, and
      // the blob reader checks the digest, so a read that reaches the end is verified.
      drain: true,
    },
  );
  // eStargz adds entries for itself (a landmark first, the TOC last): not the image's files.
  let estargz = layer.annotations?.[ANNOTATION.estargzToc] !== undefined || search.toc?.format === "estargz";
  const comparison = opts.checkToc && search.toc ? new TocComparison(search.toc) : undefined;
  let first = !resume;
  try {
    for (;;) {
      const next = await tar.next();
      if (next.done) {
        complete = next.value.complete;
        if (!complete && opts.budget === undefined) {
          // The whole layer was read and its digest checked: judge its end as Go does.
          if (!next.value.cleanEnd) throw new LayerslayerError("CORRUPT", "the tar archive is truncated (it ends inside a member)");
          complete = true;
          noEndMarker = true;
        }
        break;
      }
      if (next.value.kind === "entry") {
        const e = next.value.entry;
        // A read that started mid-layer counts tar offsets from its start.
        if (resume) e.headerOffset += resume.tarOffset;
        if (first && isLandmark(e)) estargz = true;
        first = false;
        if (estargz && ESTARGZ_OWN.has(e.path)) continue;
        entries++;
        countEntry();
        comparison?.observe(e);
      }
      yield next.value;
      if (opts.stopAfterContent && next.value.kind === "data" && next.value.done) break;
      if (opts.stopAfter && next.value.kind === "entry" && opts.stopAfter(next.value.entry)) break;
    }
  } catch (e) {
    if (!(e instanceof LayerslayerError)) throw e;
    error = e;
  } finally {
    // Closing the tar reader closes the decoder and aborts the download (a consumer may stop early).
    await tar.return({ complete: false, cleanEnd: false, entries: 0, tarBytes: 0 });
    await blob.dropPrefetch(); // a prefetched answer the read never took
  }
  // Every byte arrived (a small layer comes in one answer) though the read stopped early: bytes
  // known to be altered are an error even so.
  error ??= blob.digestError();
  opts.coverage?.addAll(coverage);
  // The whole stream was read and verified: only then is a difference from the TOC meaningful.
  const tocMismatch = !error && complete && blob.verified ? comparison?.finish() : undefined;
  error ??= tocMismatch;
  const stats: LayerStats = {
    digest: layer.digest,
    mediaType: layer.mediaType,
    layerSize: blob.totalSize ?? layer.size,
    bytesDownloaded: coverage.size,
    bytesDecompressed: decoded.bytes,
    entries,
    complete: complete && blob.verified && !error,
    verified: blob.verified && !error,
    ...(chosen ? { offsets: chosen.offsets } : {}),
  };
  if (noEndMarker && stats.complete) stats.noEndMarker = true;
  if (comparison && stats.complete) stats.tocMatched = search.toc!.format;
  return { stats, ...(error ? { error } : {}) };
}
