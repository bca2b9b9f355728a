/**
 * Where an image's bytes come from. A source resolves the reference it was opened with to manifest
 * bytes (verified against their digest), reads small blobs whole (verified), and reads any byte
 * range of a blob as a stream. Everything above (blob reader, layers, views, cache, CLI) works on
 * this interface and never learns whether the bytes live in a registry, a layout directory or an
 * archive; shared derivations (platform choice, config, history) are in resolve.ts.
 */
import { LayerslayerError } from "../errors.ts";
import type { DocumentReadOptions, FetchedManifest } from "../registry/client.ts";
import type { Attempts } from "../registry/retry.ts";

export type { DocumentReadOptions, FetchedManifest };

/**
 * Thrown by `readBlob` when the answer cannot be read as a byte range at all (a 206 without a
 * usable Content-Range): a fault of that one answer, which the blob reader retries a bounded
 * number of times like any other answer that is not what it asked for.
 */
export class RangeFault extends LayerslayerError {
  constructor(message: string) {
    super("CORRUPT", message);
  }
}

/**
 * A byte range of a blob as the source delivers it: what the source says it sends, which the blob
 * reader checks against what it asked for (a start past the one asked, an empty or backwards
 * range, a size other than the descriptor's are faults).
 */
export interface BlobPart {
  /** Blob byte the body starts at: the start asked for, or 0 from a server that ignores ranges. */
  start: number;
  /** Blob byte (exclusive) the body ends at; undefined when the body runs to the blob's end. */
  end?: number;
  /** The blob's size, when the source knows it. */
  size?: number;
  /** The bytes; null when the start asked for is at or past the blob's end. */
  body: ReadableStream<Uint8Array> | null;
}

export interface ReadPartOptions {
  signal?: AbortSignal;
  attempts?: Attempts;
}

/**
 * What answers a source's blob reads, for messages ("the registry", "the file"), and whether asking
 * again can help: a network answer that was wrong or broke off may be right the next time; a file's
 * never changes, so a wrong one is an error at once.
 */
export interface BlobOrigin {
  name: string;
  retry: boolean;
}

export const REGISTRY_ORIGIN: BlobOrigin = { name: "the registry", retry: true };

export interface ImageSource {
  /** The image as the user named it, normalised ("127.0.0.1:5000/team/app:v1", "oci:/data/app:v1"). */
  readonly reference: string;
  /** Where the blobs live, for messages: "<name>@<digest>" names one ("127.0.0.1:5000/team/app"). */
  readonly name: string;
  /** A repository-like name and the tag or digest asked for (save's default directory). */
  readonly repository: string;
  readonly version: string;
  /** Who answers blob reads; the registry (retried) when left out. */
  readonly origin?: BlobOrigin;
  /**
   * Ranged requests a whole-blob read may have in flight at once (blob/parallel.ts); 1 or absent:
   * one stream (a local file gains nothing from more).
   */
  readonly connections?: number;
  /**
   * The manifest or index the reference names, or (with a digest) the one with that digest;
   * verified. Like every read, it stops with ABORTED when `opts.signal` fires.
   */
  manifest(digest?: string, opts?: DocumentReadOptions): Promise<FetchedManifest>;
  /** A small blob (a config) read whole, at most `limit` bytes, verified against its digest. */
  blobBytes(digest: string, limit: number, label?: string, opts?: DocumentReadOptions): Promise<Uint8Array>;
  /**
   * Bytes [start, end) of a blob (to its end when `end` is undefined); may throw RangeFault. A
   * source that retries (a registry) draws its retries from `attempts`, the read's one allowance.
   */
  readBlob(digest: string, start: number, end: number | undefined, opts?: ReadPartOptions): Promise<BlobPart>;
}
