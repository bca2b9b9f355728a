/**
 * The browser's one door to the library core: open an image, read its layers' listings in the
 * background, read or save one file. The UI never drives a layer stream or touches the cache
 * itself; when the core gains one listing path with progress events and an AbortSignal, only
 * this file changes.
 *
 * Listings go by the one listing path (src/image/listing.ts through `loadListing`): cache first,
 * progress events for each layer's gauge, and the signal stops a download under way.
 * `extractFile` takes the signal too.
 */
import { createWriteStream, rmSync } from "node:fs";
import { LayerslayerError } from "../errors.ts";
import { diffImages, type ImageDiff } from "../analysis/image-diff.ts";
import { analyzeEfficiency, type EfficiencyReport } from "../analysis/efficiency.ts";
import { extractFile, type ExtractResult } from "../image/extract.ts";
import type { LayerListing } from "../image/load.ts";
import { alignHistory } from "../oci/config.ts";
import { resolveImage, type ResolvedImage } from "../oci/resolve.ts";
import type { Platform } from "../oci/manifest.ts";
import type { ImageSource } from "../source/source.ts";
import type { Context } from "../cli/common.ts";
import type { LayerStats } from "../types.ts";

/** A layer's listing: not started, being read, its budgeted first part in (`partial`), complete (from its TOC when `toc` is set), from the cache, failed, stopped. */
export type LayerState = "waiting" | "reading" | "partial" | "complete" | "cache" | "failed" | "stopped";

export interface LayerInfo {
  index: number;
  digest: string;
  /** Compressed bytes of the blob. */
  size: number;
  /** The build step that made the layer (untrusted: escape before showing). */
  step: string;
  state: LayerState;
  /** Entries listed so far. */
  entries?: number;
  /** Entries the budgeted first pass found (a partial layer). */
  firstPass?: number;
  /** The layer's listing came from its TOC (what the TOC declares, the tar stream unread), from the registry or the cache. */
  toc?: LayerStats["toc"];
  /** Compressed bytes downloaded so far (progress events). */
  downloaded?: number;
  error?: string;
}

export interface OpenedImage {
  reference: string;
  digest: string;
  img: ResolvedImage;
  layers: LayerInfo[];
}

/** Resolves the image (`platform` chosen in a pane, else --platform): manifest and config only, no layer is read. */
export async function openImage(ctx: Context, source: ImageSource, platform: Platform | undefined = ctx.platform): Promise<OpenedImage> {
  const img = await resolveImage(source, platform, { signal: ctx.signal });
  const descs = img.manifest.image.layers;
  const { stepOfLayer } = alignHistory(img.config, descs.length);
  const layers = descs.map((d, index): LayerInfo => ({ index, digest: d.digest, size: d.size, step: stepOfLayer[index]?.createdBy ?? "", state: "waiting" }));
  return { reference: source.reference, digest: img.manifest.digest, img, layers };
}

/**
 * What changed from A to B, by the `diff` command's analysis (src/analysis/image-diff.ts): two
 * layers of one image (each layer's own changes), or two whole images (shared bottom layers
 * named and not read). The listings come through the cache; `signal` stops their downloads.
 */
export function diffOf(ctx: Context, a: { image: OpenedImage; layer?: number }, b: { image: OpenedImage; layer?: number }, signal: AbortSignal): Promise<ImageDiff> {
  const side = (s: { image: OpenedImage; layer?: number }) => ({ img: s.image.img, ...(s.layer !== undefined ? { layer: s.layer } : {}) });
  return diffImages(side(a), side(b), { ...(ctx.useCache ? { cache: ctx.cache } : {}), onWarning: ctx.warn, signal });
}

/** dive's efficiency and wasted bytes, from the complete listings of every layer (bottom first). */
export function efficiencyOf(listings: readonly LayerListing[]): EfficiencyReport {
  return analyzeEfficiency(listings.map((l) => l.entries));
}

export interface FileHead {
  /** Known when the read went to the file's end (not when it stopped at `limit`). */
  result?: ExtractResult;
  /** The first `limit` bytes (or all of them). */
  bytes: Uint8Array;
  /** The file has more bytes than `bytes`. */
  truncated: boolean;
}

/** Stops extractFile once enough bytes are in (not an error of the read). */
class Enough extends Error {}

/**
 * The first `limit` bytes of one file of the merged image (symlinks followed). The download stops
 * once they are in, or when `signal` aborts.
 */
export async function readFileHead(ctx: Context, image: OpenedImage, path: string, limit: number, signal: AbortSignal): Promise<FileHead> {
  const parts: Uint8Array[] = [];
  let have = 0;
  let truncated = false;
  const sink = (chunk: Uint8Array) => {
    if (have >= limit) {
      truncated = true;
      throw new Enough();
    }
    const take = chunk.subarray(0, limit - have);
    parts.push(take.slice());
    have += take.length;
    if (take.length < chunk.length) {
      truncated = true;
      throw new Enough();
    }
  };
  let result: ExtractResult | undefined;
  try {
    result = await extractFile(image.img, path, sink, coreOptions(ctx, signal));
  } catch (e) {
    if (!(e instanceof Enough) && !isEnough(e)) throw e;
  }
  const bytes = Buffer.concat(parts);
  return { ...(result ? { result } : {}), bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length), truncated };
}

function isEnough(e: unknown): boolean {
  for (let c: unknown = e; c; c = (c as { cause?: unknown }).cause) if (c instanceof Enough) return true;
  return false;
}

/**
 * Writes one file of the merged image (symlinks followed) to `dest`, whole. `dest` must not exist;
 * on an error or an abort the part written is removed (the file was ours: it was created here).
 */
export async function saveFile(ctx: Context, image: OpenedImage, path: string, dest: string, signal: AbortSignal, mode = 0o666): Promise<ExtractResult> {
  const out = createWriteStream(dest, { flags: "wx", mode });
  const opened = new Promise<void>((resolve, reject) => {
    out.once("open", () => resolve());
    out.once("error", reject);
  });
  try {
    await opened;
  } catch (e) {
    throw new LayerslayerError("IO", `${dest}: ${(e as Error).message}`);
  }
  try {
    const result = await extractFile(
      image.img,
      path,
      (chunk) => new Promise<void>((resolve, reject) => out.write(chunk, (err) => (err ? reject(err) : resolve()))),
      coreOptions(ctx, signal),
    );
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    return result;
  } catch (e) {
    out.destroy();
    rmSync(dest, { force: true });
    throw e;
  }
}

function coreOptions(ctx: Context, signal: AbortSignal) {
  return ctx.useCache ? { cache: ctx.cache, indexes: ctx.cache, signal } : { signal };
}
