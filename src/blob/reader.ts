import { LayerslayerError } from "../errors.ts";
import { DigestHasher, digestAlgorithm } from "../registry/digest.ts";
import type { ImageSource } from "../source/source.ts";

export interface BlobSource {
  source: ImageSource;
  digest: string;
  /** Size from the descriptor, when known. */
  size?: number;
}

export interface ReadBlobOptions {
  /** Hard ceiling on compressed bytes downloaded; undefined = the whole blob. */
  budget?: number;
  /** Byte to start at (a resume). */
  start?: number;
  signal?: AbortSignal;
  /** First ranged request size; later ones double up to maxChunk. */
  firstChunk?: number;
  /**
   * Use growing ranged requests even without a budget, for a reader that may stop early (cat): an
   * open-ended request would let the registry send, and the socket buffer, far more than is used.
   */
  ranged?: boolean;
  maxChunk?: number;
  /** Verify the digest when the whole blob was read from byte 0. */
  verify?: boolean;
  /** Attempts to resume after a broken transfer before giving up. */
  resumeAttempts?: number;
  /** A transfer that sends nothing for this long counts as broken (and is resumed). */
  idleTimeoutMs?: number;
  onProgress?: (downloaded: number, total: number | undefined) => void;
}

const DEFAULT_FIRST = 256 * 1024;
const DEFAULT_MAX = 8 * 1024 * 1024;
const DEFAULT_IDLE_MS = 60_000;

/** One read of a body, failing when nothing arrives in time (a hung transfer). */
async function readWithin<R>(read: () => Promise<R>, ms: number): Promise<R> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const idle = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no data for ${Math.round(ms / 1000)} s`)), ms);
  });
  try {
    return await Promise.race([read(), idle]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Reads a blob in ranged requests, never downloading more than the budget. Works with servers that
 * ignore Range (200: read what is allowed, then abort), resumes broken transfers from the exact byte
 * reached, and counts every byte taken off the wire.
 */
export class BlobReader {
  bytesDownloaded = 0;
  totalSize: number | undefined;
  /** True when the blob's last byte was read. */
  reachedEnd = false;
  /** True when reading stopped because the budget was spent. */
  budgetReached = false;
  private pos: number;

  constructor(
    private readonly src: BlobSource,
    private readonly opts: ReadBlobOptions = {},
  ) {
    this.totalSize = src.size;
    this.pos = opts.start ?? 0;
    if (opts.budget !== undefined && (!Number.isFinite(opts.budget) || opts.budget < 0)) {
      throw new LayerslayerError("USAGE", `invalid budget ${opts.budget}`);
    }
  }

  private what(): string {
    return `${this.src.source.name}@${this.src.digest}`;
  }

  /** Bytes still allowed by the budget (Infinity without one). */
  private allowance(): number {
    return this.opts.budget === undefined ? Infinity : this.opts.budget - this.bytesDownloaded;
  }

  async *chunks(): AsyncGenerator<Uint8Array, void> {
    const hasher = this.opts.verify && this.pos === 0 ? new DigestHasher(digestAlgorithm(this.src.digest)) : undefined;
    let chunk = this.opts.firstChunk ?? DEFAULT_FIRST;
    const maxChunk = this.opts.maxChunk ?? DEFAULT_MAX;
    // Broken transfers are resumed; the allowance grows with the bytes that did arrive (a long,
    // flaky download may resume often), so one that trickles a byte and hangs again still ends.
    let failures = 0;
    const resumeLimit = () => maxFailures + Math.floor(this.pos / (1 << 20));
    const maxFailures = this.opts.resumeAttempts ?? 5;
    while (!this.reachedEnd) {
      const allowed = this.allowance();
      if (allowed <= 0) {
        this.budgetReached = true;
        return;
      }
      if (this.totalSize !== undefined && this.pos >= this.totalSize) {
        this.reachedEnd = true;
        break;
      }
      // Without a budget ask for everything left in one request; with one, in growing chunks.
      const want = this.opts.budget === undefined && !this.opts.ranged ? Infinity : Math.min(chunk, allowed);
      const end = want === Infinity ? undefined : Math.min(this.pos + want, this.totalSize ?? Infinity);
      chunk = Math.min(chunk * 2, maxChunk);
      const part = await this.src.source.readBlob(this.src.digest, this.pos, end, this.opts.signal);
      if (part.size !== undefined) this.totalSize = part.size;
      if (!part.body) {
        // Nothing at or past this.pos: the end, unless the blob is known to be longer.
        if (this.totalSize !== undefined && this.pos < this.totalSize) {
          throw new LayerslayerError("CORRUPT", `${this.what()}: the registry refused bytes ${this.pos}- of a ${this.totalSize}-byte blob`);
        }
        this.reachedEnd = true;
        break;
      }
      // A source that ignores the range sends from an earlier byte: skip what we already have,
      // read on until the budget or the end, then abort.
      let skip = this.pos - part.start;
      const stopAt = part.end ?? Infinity; // absolute position (exclusive) up to which this body is read
      const reader = part.body.getReader();
      try {
        for (;;) {
          let r: Awaited<ReturnType<typeof reader.read>>;
          try {
            r = await readWithin(() => reader.read(), this.opts.idleTimeoutMs ?? DEFAULT_IDLE_MS);
          } catch (e) {
            if (this.opts.signal?.aborted) throw e;
            failures++;
            if (failures > resumeLimit()) {
              throw new LayerslayerError("NETWORK", `${this.what()}: the transfer broke off at byte ${this.pos} and could not be resumed`, { cause: e });
            }
            break; // resume with a new ranged request from this.pos
          }
          if (r.done) {
            if (stopAt === Infinity || this.pos >= stopAt) {
              if (stopAt === Infinity) {
                this.reachedEnd = true;
                this.totalSize = this.pos;
              }
            } else {
              failures++;
              if (failures > resumeLimit()) throw new LayerslayerError("NETWORK", `${this.what()}: the registry kept closing the transfer early at byte ${this.pos}`);
            }
            break;
          }
          let data = r.value;
          if (skip > 0) {
            // Bytes re-sent by a server that ignores Range still cost download.
            const drop = Math.min(skip, data.byteLength, this.allowance());
            this.bytesDownloaded += drop;
            skip -= drop;
            data = data.subarray(drop);
            if (this.allowance() <= 0) {
              this.budgetReached = true;
              return;
            }
            if (data.byteLength === 0) continue;
          }
          const limit = Math.min(this.allowance(), stopAt - this.pos, (this.totalSize ?? Infinity) - this.pos);
          if (data.byteLength > limit) data = data.subarray(0, limit);
          if (data.byteLength > 0) {
            this.pos += data.byteLength;
            this.bytesDownloaded += data.byteLength;
            hasher?.update(data);
            this.opts.onProgress?.(this.bytesDownloaded, this.totalSize);
            yield data;
          }
          if (this.totalSize !== undefined && this.pos >= this.totalSize) {
            this.reachedEnd = true;
            break;
          }
          if (this.pos >= stopAt) break;
          if (this.allowance() <= 0) {
            this.budgetReached = true;
            return;
          }
        }
      } finally {
        await reader.cancel().catch(() => {});
      }
    }
    if (hasher && this.reachedEnd) {
      const got = hasher.digest();
      if (got !== this.src.digest) throw new LayerslayerError("CORRUPT", `${this.what()}: the blob's bytes hash to ${got}, not its digest`);
    }
  }
}
