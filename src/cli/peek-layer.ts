/**
 * One layer's listing as text: what `peek` prints for each layer and `interactive` shows in its
 * pager (entries as they are found, then the stats line).
 */
import { ERROR_KINDS, LayerslayerError } from "../errors.ts";
import { streamLayer, type LayerResult } from "../layer/stream.ts";
import { humanSize } from "../output/format.ts";
import { escapeName } from "../names.ts";
import { entryJson, ndjsonLine } from "../output/json.ts";
import { lsLine, streamWidths } from "../output/ls.ts";
import { formatName } from "../toc/index.ts";
import type { Descriptor } from "../oci/manifest.ts";
import type { ImageSource } from "../source/source.ts";
import type { Entry, LayerStats } from "../types.ts";
import type { Context } from "./common.ts";

/** Where a listing from a TOC came from, for the stats line. */
export function tocSource(toc: NonNullable<LayerStats["toc"]>): string {
  return `from the ${formatName(toc.format)} TOC, ${humanSize(toc.bytes)}, ${toc.checked ? "checked against the layer's annotation" : "unchecked: no digest announced"}`;
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
      ? `complete${s.toc ? ` (${tocSource(s.toc)})` : s.noEndMarker ? " (no end-of-archive marker)" : ""}`
      : s.bytesDownloaded >= s.layerSize
        ? "partial (incomplete archive)"
        : "partial (budget reached)";
  return `downloaded ${humanSize(s.bytesDownloaded)} of ${humanSize(s.layerSize)}${pct}, decompressed ${humanSize(s.bytesDecompressed)}, ${s.entries} entries, ${state}`;
}

/**
 * Peeks one layer and hands its text to `write` as it is decoded: a heading, ls -l lines (or
 * NDJSON), a stats line; with `entriesOnly` (peek -q), the ls -l lines alone. Returns the stats
 * and the error that cut the layer short, if any.
 */
export async function peekLayerText(ctx: Context, source: ImageSource, layers: readonly Descriptor[], i: number, budget: number | undefined, step: string | undefined, write: (text: string) => unknown, entriesOnly = false, signal?: AbortSignal): Promise<LayerResult> {
  const desc = layers[i]!;
  const framed = !ctx.json && !entriesOnly;
  if (framed) {
    write(`── layer ${i}/${layers.length - 1} ${desc.digest} (${humanSize(desc.size)})${step ? `  ${escapeName(step.replace(/\s+/g, " ").slice(0, 100))}` : ""}\n`);
  }
  const widths = streamWidths();
  let buffer = "";
  // Returns a promise when the reader of the output is behind: awaiting it pauses the listing.
  const print = (e: Entry): unknown => {
    buffer += ctx.json ? ndjsonLine(entryJson(e)) : `${lsLine(e, { widths })}\n`;
    if (buffer.length > 16384) {
      const text = buffer;
      buffer = "";
      return write(text);
    }
  };
  // A complete listing in the cache answers any budget, with nothing downloaded. It is read part
  // by part; should a part turn out damaged, the rest comes from the registry.
  const stored = ctx.useCache ? ctx.cache.readListing(desc.digest) : undefined;
  let hit = false;
  let printedFromCache = 0;
  let result: LayerResult | undefined;
  if (stored) {
    const parts = stored.parts();
    let r = parts.next();
    for (; !r.done; r = parts.next()) {
      for (const e of r.value) await print({ ...e, layer: i });
      printedFromCache += r.value.length;
    }
    hit = r.value;
    if (hit) result = { stats: { ...stored.stats, bytesDownloaded: 0 } };
  }
  if (!result) {
    // Entries go to the cache in parts as they stream: memory does not grow with the layer.
    const writer = ctx.useCache ? ctx.cache.beginListing(desc.digest) : undefined;
    let seen = 0;
    try {
      const gen = streamLayer(source, desc, i, { ...(budget === undefined ? { onWarning: ctx.warn } : { budget }), ...(signal ? { signal } : {}) });
      for (;;) {
        const next = await gen.next();
        if (next.done) {
          result = next.value;
          break;
        }
        if (next.value.kind !== "entry") continue;
        writer?.add(next.value.entry);
        if (seen++ >= printedFromCache) await print(next.value.entry);
      }
    } catch (e) {
      writer?.abort();
      // A layer that cannot be read at all (foreign, refused) is reported like one cut short.
      if (!(e instanceof LayerslayerError)) throw e;
      result = { stats: { digest: desc.digest, mediaType: desc.mediaType, layerSize: desc.size, bytesDownloaded: 0, bytesDecompressed: 0, entries: 0, complete: false, verified: false }, error: e };
    }
    // Only a listing read to the end and verified is stored (the store refuses anything else too).
    if (result.stats.complete && result.stats.verified && !result.error) writer?.finish(result.stats);
    else writer?.abort();
  }
  write(buffer);
  const { stats, error } = result;
  if (ctx.json) write(ndjsonLine({ stats: { layer: i, ...stats, ...(hit ? { cached: true } : {}), ...(error ? { error: error.message } : {}) } }));
  else if (framed) write(`${statsLine(stats, error)}${hit ? " (from the cache)" : ""}\n`);
  return result;
}

