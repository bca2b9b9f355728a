/**
 * What every source shares: from the manifest a reference names to one image (a platform chosen
 * from an index), its config and history. A source only provides manifests and blobs.
 */
import { LayerslayerError } from "../errors.ts";
import { parseConfig, type ImageConfig } from "./config.ts";
import { parseManifest, type Descriptor, type ImageManifest, type IndexManifest, type Platform } from "./manifest.ts";
import { choosePlatform, formatPlatform, platformMatches, platformOf } from "./platform.ts";
import { escapeName } from "../names.ts";
import type { Progress, ProgressListener } from "../layer/progress.ts";
import type { DocumentReadOptions, FetchedManifest, ImageSource } from "../source/source.ts";

export interface ResolvedImage {
  /** Where the image's bytes come from. */
  source: ImageSource;
  /** The index the reference named, when it named one. */
  index?: FetchedManifest & { index: IndexManifest };
  manifest: FetchedManifest & { image: ImageManifest };
  /** The platform entry chosen from the index (absent for a single-image reference). */
  platform?: Platform;
  config: ImageConfig;
  configBytes: Uint8Array;
}

export const MAX_CONFIG_BYTES = 16 * 1024 * 1024;

/** The image's platform: the index entry chosen, else what its config declares. */
export function imagePlatform(img: Pick<ResolvedImage, "platform" | "config">): Platform | undefined {
  return img.platform ?? platformOf(img.config);
}

/**
 * A platform asked for of a single-platform image must be the one its config declares, as it must
 * be in an index: otherwise NOT_FOUND, naming the image's platform. A config that declares none
 * cannot be checked and is taken as it is.
 */
function checkSinglePlatform(config: ImageConfig, asked: Platform, what: string): void {
  const have = platformOf(config);
  if (!have || platformMatches(asked, have)) return;
  throw new LayerslayerError("NOT_FOUND", `${what}: no image for platform ${escapeName(formatPlatform(asked))}; the image is ${escapeName(formatPlatform(have))} only`);
}

export interface ResolveOptions {
  /** Cancels the reads (of the index, the manifest, the config): they stop with ABORTED. */
  signal?: AbortSignal | undefined;
  /** Progress events of each document read, as for layers (`document` says which). */
  onProgress?: ProgressListener | undefined;
  /**
   * Told the image manifest as soon as it is in, while its config is read: a caller may start on
   * the layers meanwhile (one round trip saved). Not told when the image cannot be resolved before
   * that; the config's read may still fail after it.
   */
  onManifest?: ((manifest: ImageManifest) => void) | undefined;
}

type DocumentKind = NonNullable<Progress["document"]>;

/** A progress event of a document read (see Progress: `layer` -1, decoded as downloaded). */
function documentEvent(kind: DocumentKind, digest: string, size: number, downloaded: number, done: boolean): Progress {
  return { document: kind, layer: -1, digest, size, downloaded, decoded: downloaded, entries: 0, cached: false, done };
}

/**
 * Reads one document through `read`, telling `opts.onProgress` its bytes as they arrive, then
 * (unless `final` is false: the top document, whose kind is known once parsed) its last event.
 */
async function readDocument<T extends { bytes: Uint8Array } | Uint8Array>(
  opts: ResolveOptions,
  doc: { kind: DocumentKind; digest: string; size: number },
  read: (o: DocumentReadOptions) => Promise<T>,
  final = true,
): Promise<T> {
  const { signal, onProgress } = opts;
  const got = await read({ signal, onBytes: onProgress && ((n) => onProgress(documentEvent(doc.kind, doc.digest, doc.size, n, false))) });
  const bytes = got instanceof Uint8Array ? got : got.bytes;
  if (final) onProgress?.(documentEvent(doc.kind, doc.digest, doc.size, bytes.byteLength, true));
  return got;
}

/**
 * Resolves the source's reference to one image manifest and its config, choosing a platform from
 * an index. Every read takes `opts.signal` and reports progress to `opts.onProgress`.
 */
export async function resolveImage(source: ImageSource, platform?: Platform, opts: ResolveOptions = {}): Promise<ResolvedImage> {
  const asked = source.version.includes(":") ? source.version : "";
  // Named by tag, the top document's size and digest are known once it is in.
  const top = await readDocument(opts, { kind: "manifest", digest: asked, size: 0 }, (o) => source.manifest(undefined, o), false);
  const what = source.reference;
  const parsed = parseManifest(top.bytes, top.mediaType, what);
  const n = top.bytes.byteLength;
  opts.onProgress?.(documentEvent(parsed.kind === "index" ? "index" : "manifest", top.digest, n, n, true));
  let index: ResolvedImage["index"];
  let manifest: FetchedManifest & { image: ImageManifest };
  let chosen: Platform | undefined;
  if (parsed.kind === "index") {
    index = { ...top, index: parsed.index };
    let desc: Descriptor = choosePlatform(parsed.index, platform, what);
    chosen = desc.platform;
    const manifestOf = (d: Descriptor) => readDocument(opts, { kind: "manifest", digest: d.digest, size: d.size }, (o) => source.manifest(d.digest, o));
    let fetched = await manifestOf(desc);
    let inner = parseManifest(fetched.bytes, fetched.mediaType, `${what}@${desc.digest}`);
    // An index may nest another index (rare): descend once more.
    if (inner.kind === "index") {
      desc = choosePlatform(inner.index, platform, what);
      chosen = desc.platform ?? chosen;
      fetched = await manifestOf(desc);
      inner = parseManifest(fetched.bytes, fetched.mediaType, `${what}@${desc.digest}`);
    }
    if (inner.kind !== "image") throw new LayerslayerError("UNSUPPORTED", `${what}: indexes nested more than twice are not supported`);
    manifest = { ...fetched, mediaType: inner.image.mediaType, image: inner.image };
  } else {
    manifest = { ...top, mediaType: parsed.image.mediaType, image: parsed.image };
  }
  const { config: cfg } = manifest.image;
  opts.onManifest?.(manifest.image);
  const configBytes = await readDocument(opts, { kind: "config", digest: cfg.digest, size: cfg.size }, (o) => source.blobBytes(cfg.digest, MAX_CONFIG_BYTES, "image config", o));
  const config = parseConfig(configBytes, what);
  if (!index && platform) checkSinglePlatform(config, platform, what);
  return { source, ...(index ? { index } : {}), manifest, ...(chosen ? { platform: chosen } : {}), config, configBytes };
}
