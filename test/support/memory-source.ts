/**
 * An ImageSource held in memory: an image built from tar layers (made by test/support/fixtures.ts
 * layerFrom or synthetic-tar.ts, or any bytes) without a registry or a file. It keeps the
 * contract of src/source/source.ts as the real sources do (checked by
 * test/source/conformance.test.ts): manifests and small blobs verified and bounded, byte ranges
 * served as asked, a start past the end answered with no body, an unknown digest NOT_FOUND.
 * `reads` records every readBlob, for tests that count what a reader asked for.
 */
import { abortError, LayerslayerError } from "../../src/errors.ts";
import type { BlobPart, DocumentReadOptions, FetchedManifest, ImageSource, ReadPartOptions } from "../../src/source/source.ts";
import { diffId } from "./fixtures.ts";
import { sha256 } from "./push.ts";

const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
const LAYER_TYPES = {
  gzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  zstd: "application/vnd.oci.image.layer.v1.tar+zstd",
  none: "application/vnd.oci.image.layer.v1.tar",
} as const;

export interface MemoryLayer {
  /** The layer blob as stored (already compressed as `compression` says). */
  bytes: Uint8Array;
  compression?: keyof typeof LAYER_TYPES;
}

export interface MemoryImageOptions {
  /** Name the image goes by (default "memory/app:v1"). */
  reference?: string;
  platform?: { os: string; architecture: string };
  /** Bytes handed over per body chunk (default 64 KiB): small ones exercise readers' chunk handling. */
  chunk?: number;
}

export class MemorySource implements ImageSource {
  readonly reference: string;
  readonly name: string;
  readonly repository: string;
  readonly version: string;
  readonly blobs = new Map<string, Uint8Array>();
  readonly reads: { digest: string; start: number; end: number | undefined }[] = [];
  readonly top: FetchedManifest;
  private readonly chunk: number;

  constructor(layers: readonly MemoryLayer[], opts: MemoryImageOptions = {}) {
    this.reference = opts.reference ?? "memory/app:v1";
    const [repository, version] = this.reference.split(":") as [string, string | undefined];
    this.name = `memory:${repository}`;
    this.repository = repository;
    this.version = version ?? "latest";
    this.chunk = opts.chunk ?? 64 * 1024;
    const platform = opts.platform ?? { os: "linux", architecture: "amd64" };
    const descriptors = layers.map((l) => ({ mediaType: LAYER_TYPES[l.compression ?? "gzip"], digest: this.add(l.bytes), size: l.bytes.byteLength }));
    const diffIds = layers.map((l) => diffId(l.bytes, l.compression ?? "gzip"));
    const config = new TextEncoder().encode(
      JSON.stringify({ ...platform, rootfs: { type: "layers", diff_ids: diffIds }, history: descriptors.map((_, i) => ({ created_by: `ADD layer-${i}.tar /` })) }),
    );
    const manifest = new TextEncoder().encode(
      JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: OCI_CONFIG, digest: this.add(config), size: config.byteLength }, layers: descriptors }),
    );
    this.top = { digest: this.add(manifest), mediaType: OCI_MANIFEST, bytes: manifest };
  }

  /** Keeps a blob; returns its digest. */
  add(bytes: Uint8Array): string {
    const digest = sha256(bytes);
    this.blobs.set(digest, bytes);
    return digest;
  }

  private blob(digest: string): Uint8Array {
    const bytes = this.blobs.get(digest);
    if (!bytes) throw new LayerslayerError("NOT_FOUND", `${this.name}@${digest}: no such blob`);
    return bytes;
  }

  async manifest(digest?: string, opts: DocumentReadOptions = {}): Promise<FetchedManifest> {
    if (opts.signal?.aborted) throw abortError(opts.signal);
    if (digest === undefined || digest === this.top.digest) return this.top;
    return { digest, mediaType: "", bytes: this.blob(digest) };
  }

  async blobBytes(digest: string, limit: number, label = "blob", opts: DocumentReadOptions = {}): Promise<Uint8Array> {
    if (opts.signal?.aborted) throw abortError(opts.signal);
    const bytes = this.blob(digest);
    if (bytes.byteLength > limit) throw new LayerslayerError("CORRUPT", `${this.name}@${digest} (${label}): ${bytes.byteLength} bytes is more than the ${limit} allowed`);
    return bytes;
  }

  async readBlob(digest: string, start: number, end: number | undefined, opts: ReadPartOptions = {}): Promise<BlobPart> {
    const signal = opts.signal;
    signal?.throwIfAborted();
    this.reads.push({ digest, start, end });
    const bytes = this.blob(digest);
    const size = bytes.byteLength;
    if (start >= size) return { start, end: start, size, body: null };
    const stop = Math.min(end ?? size, size);
    let pos = start;
    const chunk = this.chunk;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (signal?.aborted) return controller.error(signal.reason);
        if (pos >= stop) return controller.close();
        const piece = bytes.slice(pos, Math.min(stop, pos + chunk));
        pos += piece.length;
        controller.enqueue(piece);
      },
    });
    return { start, end: stop, size, body };
  }
}
