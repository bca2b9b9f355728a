/**
 * An image in local files as an image source: blobs by digest under names the format gives them
 * (`blobs/<algo>/<hex>` in an OCI layout, members of `docker save`), manifests and configs read
 * whole and checked against their digest, layer blobs read by ranges (the blob reader checks a
 * whole read against the digest, exactly as for a registry).
 */
import { abortError, LayerslayerError } from "../errors.ts";
import { escapeName } from "../names.ts";
import { parseDigest } from "../ref/reference.ts";
import { digestAlgorithm, digestOf } from "../oci/digest.ts";
import { MAX_MANIFEST_BYTES } from "../oci/manifest.ts";
import type { LocalFiles } from "./files.ts";
import type { BlobOrigin, BlobPart, DocumentReadOptions, FetchedManifest, ImageSource, ReadPartOptions } from "./source.ts";

export interface LocalImage {
  reference: string;
  name: string;
  repository: string;
  version: string;
  /** The manifest or index the reference names: its descriptor, or bytes made from the archive's own manifest. */
  top: { digest: string; mediaType: string; bytes?: Uint8Array };
  /** The file holding a blob; undefined when the image has none by that digest. */
  fileOf(digest: string): string | undefined;
}

/** `blobs/<algo>/<hex>`, for a well-formed digest only (an untrusted one cannot name another path). */
export function layoutBlobPath(digest: string): string | undefined {
  try {
    parseDigest(digest);
    digestAlgorithm(digest);
  } catch {
    return undefined;
  }
  const [algo, hex] = digest.split(":") as [string, string];
  return /^[a-f0-9]+$/.test(hex) ? `blobs/${algo}/${hex}` : undefined;
}

/** Reads a whole small file of the image, refusing one over `limit` bytes. */
export async function readSmall(files: LocalFiles, name: string, limit: number, what: string): Promise<Uint8Array | undefined> {
  const size = await files.size(name);
  if (size === undefined) return undefined;
  if (size > limit) throw new LayerslayerError("CORRUPT", `${what}: ${size} bytes, more than the ${limit} allowed`);
  return new Uint8Array(await new Response(files.stream(name, 0, size)).arrayBuffer());
}

export class LocalSource implements ImageSource {
  readonly reference: string;
  readonly name: string;
  readonly repository: string;
  readonly version: string;
  readonly origin: BlobOrigin = { name: "the file", retry: false };

  constructor(
    private readonly files: LocalFiles,
    private readonly image: LocalImage,
  ) {
    this.reference = image.reference;
    this.name = image.name;
    this.repository = image.repository;
    this.version = image.version;
  }

  private fileOf(digest: string): string {
    const file = this.image.fileOf(digest);
    if (file === undefined) throw new LayerslayerError("NOT_FOUND", `${this.name}@${escapeName(digest)}: no such blob in ${escapeName(this.files.location)}`);
    return file;
  }

  private async whole(digest: string, limit: number, label: string, opts: DocumentReadOptions): Promise<Uint8Array> {
    const what = `${this.name}@${escapeName(digest)} (${label})`;
    // A small file's read is not interrupted: a cancelled one is refused before and after it.
    const { signal } = opts;
    if (signal?.aborted) throw abortError(signal, `the read of ${what}`);
    const bytes = await readSmall(this.files, this.fileOf(digest), limit, what);
    if (signal?.aborted) throw abortError(signal, `the read of ${what}`);
    if (bytes) opts.onBytes?.(bytes.byteLength);
    if (!bytes) throw new LayerslayerError("NOT_FOUND", `${what}: missing from ${escapeName(this.files.location)}`);
    const got = digestOf(bytes, digestAlgorithm(digest));
    if (got !== digest) throw new LayerslayerError("CORRUPT", `${what}: the bytes hash to ${got}, not ${digest}`);
    return bytes;
  }

  async manifest(digest?: string, opts: DocumentReadOptions = {}): Promise<FetchedManifest> {
    const { top } = this.image;
    if (opts.signal?.aborted) throw abortError(opts.signal, `the read of ${this.name} (manifest)`);
    if (digest === undefined || digest === top.digest) {
      const bytes = top.bytes ?? (await this.whole(top.digest, MAX_MANIFEST_BYTES, "manifest", opts));
      return { digest: top.digest, mediaType: top.mediaType, bytes };
    }
    // Any other manifest (an index's entry) says its own media type in its body.
    return { digest, mediaType: "", bytes: await this.whole(digest, MAX_MANIFEST_BYTES, "manifest", opts) };
  }

  blobBytes(digest: string, limit: number, label = "blob", opts: DocumentReadOptions = {}): Promise<Uint8Array> {
    return this.whole(digest, limit, label, opts);
  }

  async readBlob(digest: string, start: number, end: number | undefined, opts: ReadPartOptions = {}): Promise<BlobPart> {
    // A file read cannot be interrupted: a cancelled read is refused here, and the blob reader stops between chunks.
    opts.signal?.throwIfAborted();
    const file = this.fileOf(digest);
    const size = await this.files.size(file);
    if (size === undefined) throw new LayerslayerError("NOT_FOUND", `${this.name}@${escapeName(digest)}: missing from ${escapeName(this.files.location)}`);
    if (start >= size) return { start, end: start, size, body: null };
    const stop = Math.min(end ?? size, size);
    return { start, end: stop, size, body: this.files.stream(file, start, stop) };
  }
}
