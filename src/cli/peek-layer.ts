/**
 * One layer's listing as text: what `peek` prints for each layer and `interactive` shows in its
 * pager (entries as they are found, then the stats line).
 */
import { ERROR_KINDS, LayerslayerError } from "../errors.ts";
import { listLayer, type ListingResult } from "../image/listing.ts";
import type { ProgressListener } from "../layer/progress.ts";
import { humanSize } from "../output/format.ts";
import { escapeName } from "../names.ts";
import { entryJson, ndjsonLine } from "../output/json.ts";
import { lsLine, streamWidths } from "../output/ls.ts";
import { formatName } from "../toc/index.ts";
import type { Descriptor } from "../oci/manifest.ts";
import type { ImageSource } from "../source/source.ts";
import type { Entry, LayerStats } from "../types.ts";
import type { Context } from "./common.ts";

/**
 * What a listing from a TOC is, for the stats line: what the TOC declares, not what the layer's tar
 * stream (which runtimes apply) holds; its digest in the manifest only proves who wrote it.
 */
export function tocSource(toc: NonNullable<LayerStats["toc"]>): string {
  return `as the layer's ${formatName(toc.format)} TOC declares it (TOC of ${humanSize(toc.bytes)}, ${toc.checked ? "its digest matches the layer's annotation" : "no digest announced"}; the tar stream was not read)`;
}

/**
 * "layer 2 is listed as its TOC declares it", "layers 1, 2 are listed as their TOCs declare them":
 * for the layers whose listings came from their TOCs; undefined when none did.
 */
export function tocDeclared(indexes: readonly number[]): string | undefined {
  if (indexes.length === 0) return undefined;
  return indexes.length === 1 ? `layer ${indexes[0]} is listed as its TOC declares it` : `layers ${indexes.join(", ")} are listed as their TOCs declare them`;
}

/**
 * The summary of one layer. "complete" only for a listing read to the blob's end and verified;
 * after an error it names the error (the budget was not what stopped it).
 */
export function statsLine(s: LayerStats, error?: LayerslayerError): string {
  const pct = s.layerSize > 0 ? ` (${((100 * s.bytesDownloaded) / s.layerSize).toFixed(s.bytesDownloaded === s.layerSize ? 0 : 1)}%)` : "";
  const state = error
    ? `partial (stopped by ${ERROR_KINDS[error.code]})`
    : s.complete
      ? `complete${s.toc ? ` ${tocSource(s.toc)}` : s.noEndMarker ? " (no end-of-archive marker)" : ""}${s.tocMatched ? ` (its ${formatName(s.tocMatched)} TOC matches the tar stream)` : ""}`
      : s.bytesDownloaded >= s.layerSize
        ? "partial (incomplete archive)"
        : "partial (budget reached)";
  return `downloaded ${humanSize(s.bytesDownloaded)} of ${humanSize(s.layerSize)}${pct}, decompressed ${humanSize(s.bytesDecompressed)}, ${s.entries} entries, ${state}`;
}

export interface PeekTextOptions {
  /** Compressed bytes allowed; undefined reads the whole layer. */
  budget: number | undefined;
  /**
   * The history step that made the layer, for the heading; a promise while the config is read (the
   * listing starts meanwhile, and nothing is written before the heading).
   */
  step?: string | undefined | Promise<string | undefined>;
  /** Takes the text; a promise when the reader is behind (awaited: it pauses the listing). */
  write: (text: string) => unknown;
  /** The ls -l lines alone (peek -q). */
  entriesOnly?: boolean;
  /** peek --verify: read the whole layer (not the cache), its TOC checked against the tar stream. */
  verify?: boolean;
  onProgress?: ProgressListener | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * Peeks one layer and hands its text to `write` as it is decoded: a heading, ls -l lines (or
 * NDJSON), a stats line; with `entriesOnly` (peek -q), the ls -l lines alone. The listing itself
 * comes from the listing path (src/image/listing.ts); this only renders it. Returns its result.
 */
export async function peekLayerText(ctx: Context, source: ImageSource, layers: readonly Descriptor[], i: number, opts: PeekTextOptions): Promise<ListingResult> {
  const { budget, entriesOnly, verify } = opts;
  const desc = layers[i]!;
  const framed = !ctx.json && !entriesOnly;
  // The heading goes first, as soon as the step is known; the listing runs meanwhile, and what it
  // writes waits for the heading.
  const heading = Promise.resolve(opts.step).then((step) => {
    if (framed)
      return opts.write(`── layer ${i}/${layers.length - 1} ${desc.digest} (${humanSize(desc.size)})${step ? `  ${escapeName(step.replace(/\s+/g, " ").slice(0, 100))}` : ""}\n`);
  });
  heading.catch(() => {}); // a step that never comes (the config failed) fails the writes, awaited below
  const write = (text: string): Promise<unknown> => heading.then(() => opts.write(text));
  const widths = streamWidths();
  let buffer = "";
  // Returns a promise when the reader of the output is behind: awaiting it pauses the listing.
  const print = (e: Entry): unknown => {
    buffer += ctx.json ? ndjsonLine(entryJson(e)) : `${lsLine(e, { widths })}\n`;
    if (buffer.length > 65536) {
      const text = buffer;
      buffer = "";
      return write(text);
    }
  };
  // Cache first, else the stream (stored when complete): the listing path decides. --verify reads
  // the layer itself, whatever the cache holds, and checks its TOC against the tar stream.
  const read = verify && budget === undefined ? { checkToc: "always" as const } : undefined;
  const listing = listLayer(source, desc, i, {
    budget,
    cache: ctx.useCache ? ctx.cache : undefined,
    onWarning: budget === undefined ? ctx.warn : undefined,
    onProgress: opts.onProgress,
    signal: opts.signal,
    read,
  });
  const result = await listing.finish(print);
  const hit = result.cached;
  await write(buffer);
  const { stats, error } = result;
  // `source`: whether the entries are the tar stream's or only what the layer's TOC declares.
  if (ctx.json)
    await write(ndjsonLine({ stats: { layer: i, ...stats, source: stats.toc ? "toc" : "stream", ...(hit ? { cached: true } : {}), ...(error ? { error: error.message } : {}) } }));
  else if (framed) await write(`${statsLine(stats, error)}${hit ? " (from the cache)" : ""}\n`);
  return result;
}
