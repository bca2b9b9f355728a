import type { CacheStore } from "../cache/cache.ts";
import { openCache } from "../cache/open.ts";
import { LayerslayerError } from "../errors.ts";
import { parseImageName, type ImageName } from "../ref/name.ts";
import type { ImageRef } from "../ref/reference.ts";
import { DEFAULT_CONNECTIONS, MAX_CONNECTIONS, RegistryClient } from "../registry/client.ts";
import { type Platform } from "../oci/manifest.ts";
import { parsePlatform } from "../oci/platform.ts";
import { openSource } from "../source/open.ts";
import { escapeName } from "../names.ts";
import { resolveImage, type ResolvedImage, type ResolveOptions } from "../oci/resolve.ts";
import type { ImageSource } from "../source/source.ts";
import type { ImageLayers } from "../image/load.ts";
import { jsonDocument } from "../output/json.ts";
import { credentialsFrom } from "./credentials.ts";
import { log, setLogLevel } from "./log.ts";
import { commandSignal } from "./signals.ts";
import { toStdout, writeStdout } from "./stdout.ts";

/** The IMAGE argument of every image command. */
export const imageArg = {
  image: { type: "positional", required: true, description: "Image reference, e.g. alpine:3.20 or localhost:5000/team/app:v1" },
} as const;

/** How to reach a registry and prove who we are: every command that talks to one. */
export const accessArgs = {
  username: { type: "string", alias: "u", description: "Registry user name (or LAYERSLAYER_USERNAME; default: the saved login for the registry, else anonymous)" },
  "password-stdin": { type: "boolean", description: "Read the password from standard input (or LAYERSLAYER_PASSWORD; on a terminal -u alone asks for it)" },
  authfile: {
    type: "string",
    valueHint: "FILE",
    description: "Auth file to look in first (podman's auth.json or docker's config.json format); default: REGISTRY_AUTH_FILE, then podman's and docker's own",
  },
  "plain-http": { type: "boolean", description: "Use HTTP instead of HTTPS (automatic for localhost, 127.0.0.0/8 and ::1 unless they speak only TLS)" },
  insecure: { type: "boolean", description: "Skip TLS certificate verification" },
} as const;

/** What every command's output honours. */
export const outputArgs = {
  json: { type: "boolean", description: "Print JSON (NDJSON for streams) and nothing else on stdout" },
  quiet: { type: "boolean", alias: "q", description: "Results only: no progress or notices on stderr, no headings or summaries on stdout" },
  verbose: { type: "boolean", description: "Log HTTP requests (never credentials) and error details on stderr" },
} as const;

/** The platform of a multi-platform image: for the commands that pick one image of an index. */
export const platformArg = {
  platform: { type: "string", valueHint: "os/arch[/variant]", description: "Platform to pick from a multi-platform image (default: linux/<this machine's arch>)" },
} as const;

/** The local cache: for the commands that read manifests, configs or layer listings through it. */
export const cacheArg = {
  cache: {
    type: "boolean",
    default: true,
    description: "Use the local cache of listings, manifests and configs",
    negativeDescription: "Do not read or write the local listing cache",
  },
} as const;

/** How many ranged requests a whole-layer read from a registry has in flight at once (src/blob/parallel.ts). */
export const connectionsArg = {
  connections: {
    type: "string",
    valueHint: "N",
    description: `Connections a whole-layer read from a registry uses at once, each fetching its own byte range (default ${DEFAULT_CONNECTIONS}; 1: one stream)`,
  },
} as const;

/** The options of a command on one image: every group above, each attached where it means something. */
export const globalArgs = {
  ...platformArg,
  json: outputArgs.json,
  ...accessArgs,
  ...connectionsArg,
  ...cacheArg,
  quiet: outputArgs.quiet,
  verbose: outputArgs.verbose,
} as const;

/** Where scan and search keep their records. */
export const dbArg = {
  db: { type: "string", valueHint: "URL|FILE", description: "The database: postgres://… or a SQLite file (or LAYERSLAYER_DB; default: database.sqlite in the cache directory)" },
} as const;

export interface GlobalArgs {
  platform?: string | undefined;
  json?: boolean | undefined;
  username?: string | undefined;
  "password-stdin"?: boolean | undefined;
  authfile?: string | undefined;
  "plain-http"?: boolean | undefined;
  insecure?: boolean | undefined;
  connections?: string | undefined;
  cache?: boolean | undefined;
  quiet?: boolean | undefined;
  verbose?: boolean | undefined;
}

export interface Context {
  platform?: Platform;
  json: boolean;
  quiet: boolean;
  verbose: boolean;
  useCache: boolean;
  /** The local cache (a no-op store with --no-cache); opened on first use. */
  cache: CacheStore;
  /** Progress and notices on stderr (log.info: suppressed by -q; --json never touches stdout). */
  note(message: string): void;
  /** A warning on stderr ("layerslayer: warning: …", log.warn), suppressed by -q. */
  warn(message: string): void;
  /** The command run's cancellation (Ctrl-C, kill, a closed terminal): every read of the command takes it. */
  signal: AbortSignal;
}

export function writeOut(text: string): void {
  writeStdout(text.endsWith("\n") ? text : `${text}\n`);
}

/**
 * Writes lines to stdout in batches of about 64 KiB, waiting whenever the pipe is full: output of
 * any length in bounded memory (the lines may come from a generator).
 */
export async function writeLines(lines: Iterable<string>): Promise<void> {
  await writeParts(withNewlines(lines));
}

function* withNewlines(lines: Iterable<string>): Generator<string> {
  for (const line of lines) yield `${line}\n`;
}

/** Writes text given in pieces, like `writeLines` (nothing added between them). */
export async function writeParts(parts: Iterable<string>): Promise<void> {
  let batch = "";
  for (const part of parts) {
    batch += part;
    if (batch.length >= 1 << 16) {
      await toStdout(batch);
      batch = "";
    }
  }
  if (batch) await toStdout(batch);
}

export { toStdout };

/** A whole-number option from `min` to `max` (`flag` names it in the error); `fallback` when not given. */
export function wholeNumber(value: string | undefined, flag: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new LayerslayerError("USAGE", `${flag} ${escapeName(value)}: expected a whole number from ${min} to ${max}`);
  }
  return n;
}

/** One JSON document on stdout, with its `schema` version first (docs/json.md). */
export function printJson(value: object): void {
  writeStdout(jsonDocument(value));
}

function imageName(args: { image?: string }, opts: { allowBare?: boolean } = {}): ImageName {
  if (!args.image) throw new LayerslayerError("USAGE", "an image reference is required, e.g. alpine:3.20 or localhost:5000/app:v1");
  return parseImageName(args.image, opts);
}

/** For registry-only commands (tags): the repository reference, its client and the options. A local image is a usage error. */
export async function setupRegistry(args: GlobalArgs & { image?: string }, opts: { allowBare?: boolean } = {}): Promise<{ ref: ImageRef; client: RegistryClient; ctx: Context }> {
  const name = imageName(args, opts);
  if (name.transport !== "registry")
    throw new LayerslayerError("USAGE", `${escapeName(args.image ?? "")} is a local image (${name.transport}:); this command works on a registry repository`);
  return { ref: name.ref, ...(await registryContext(args, name.ref.registry)) };
}

/** The options every command shares, and the local cache (opened lazily). */
function makeContext(args: GlobalArgs): Context {
  const quiet = !!args.quiet;
  const useCache = args.cache !== false;
  setLogLevel({ quiet, verbose: !!args.verbose });
  const cache = openCache({ enabled: useCache, warn: log.warn });
  return {
    ...(args.platform ? { platform: parsePlatform(args.platform) } : {}),
    json: !!args.json,
    quiet,
    verbose: !!args.verbose,
    useCache,
    cache,
    note: log.info,
    warn: log.warn,
    signal: commandSignal(),
  };
}

/**
 * The image a command works on: resolved with the platform asked for, its reads cancelled by the
 * command run's signal, and drawn on a terminal when they take a moment.
 */
export async function resolveFor(ctx: Context, source: ImageSource, signal = ctx.signal, onManifest?: ResolveOptions["onManifest"]): Promise<ResolvedImage> {
  const { documentProgress } = await import("./layer-progress.ts");
  const progress = documentProgress(ctx);
  try {
    return await resolveImage(source, ctx.platform, { signal, ...(progress ? { onProgress: progress.listener } : {}), ...(onManifest ? { onManifest } : {}) });
  } finally {
    progress?.clear();
  }
}

/**
 * Resolves the image as resolveFor does, starting `work` on its layers as soon as the manifest
 * names them, while the config is read (one round trip less before the first bytes). `work` gets
 * the layers, a signal for its reads, and the whole image to come: a promise that rejects when the
 * config cannot be read. Then the reads are stopped, `work` is waited for, and the config's error
 * is the one thrown. Returns the image and what `work` gave.
 */
export async function resolveWhileReading<T>(
  ctx: Context,
  source: ImageSource,
  signal: AbortSignal,
  work: (layers: ImageLayers, reads: AbortSignal, image: Promise<ResolvedImage>) => Promise<T>,
): Promise<{ img: ResolvedImage; result: T }> {
  const reads = new AbortController();
  const stop = () => reads.abort(signal.reason);
  signal.addEventListener("abort", stop, { once: true });
  let settle!: (img: ResolvedImage) => void;
  let fail!: (e: unknown) => void;
  const image = new Promise<ResolvedImage>((resolve, reject) => ((settle = resolve), (fail = reject)));
  image.catch(() => {}); // rejected only when the command fails anyway (below)
  let started: Promise<T> | undefined;
  try {
    let img: ResolvedImage;
    try {
      img = await resolveFor(ctx, source, signal, (manifest) => {
        started = work({ source, manifest: { image: manifest } }, reads.signal, image);
        started.catch(() => {}); // awaited below, or given up for the config's error
      });
    } catch (e) {
      fail(e);
      reads.abort(e);
      await started?.catch(() => {});
      throw e;
    }
    settle(img);
    return { img, result: await started! };
  } finally {
    signal.removeEventListener("abort", stop);
  }
}

/** The registry client and the options for the commands on `registry`. */
export async function registryContext(args: GlobalArgs, registry: string): Promise<{ client: RegistryClient; ctx: Context }> {
  const ctx = makeContext(args);
  const credentials = await credentialsFrom(args, registry);
  const client = new RegistryClient({
    plainHttp: !!args["plain-http"],
    insecure: !!args.insecure,
    connections: wholeNumber(args.connections, "--connections", DEFAULT_CONNECTIONS, 1, MAX_CONNECTIONS),
    credentials,
    ...(ctx.verbose ? { log: log.debug } : {}),
    warn: ctx.warn,
    ...(ctx.useCache ? { blobCache: ctx.cache } : {}),
  });
  return { client, ctx };
}

/** Parses the image argument (a registry reference, oci:, oci-archive:, docker-archive:) and opens the source of its bytes. */
export async function setup(args: GlobalArgs & { image?: string }): Promise<{ source: ImageSource; ctx: Context }> {
  // Credentials and the registry client only for a registry name.
  let ctx: Context | undefined;
  const source = await openSource(imageName(args), async (registry) => {
    const r = await registryContext(args, registry);
    ctx = r.ctx;
    return r.client;
  });
  return { source, ctx: ctx ?? makeContext(args) };
}

/** setup() and the image the reference resolves to (the platform chosen from an index). */
export async function setupImage(args: GlobalArgs & { image?: string }): Promise<{ source: ImageSource; ctx: Context; img: ResolvedImage }> {
  const { source, ctx } = await setup(args);
  return { source, ctx, img: await resolveFor(ctx, source) };
}
