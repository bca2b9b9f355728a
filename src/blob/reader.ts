import { discard } from "../registry/body.ts";
import { LayerslayerError } from "../errors.ts";
import type { ImageRef } from "../ref/reference.ts";
import type { RegistryClient } from "../registry/client.ts";
import { DigestHasher, digestAlgorithm } from "../registry/digest.ts";
import { responseError } from "../registry/errors.ts";

export interface BlobSource {
  client: RegistryClient;
  ref: ImageRef;
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

function parseContentRange(v: string | null): { start: number; end: number; total?: number } | undefined {
  const m = v ? /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(v.trim()) : null;
  if (!m) return undefined;
  return { start: Number(m[1]), end: Number(m[2]), ...(m[3] !== "*" ? { total: Number(m[3]) } : {}) };
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
    return `${this.src.ref.registry}/${this.src.ref.repository}@${this.src.digest}`;
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
      const endInclusive = want === Infinity ? undefined : this.pos + want - 1;
      chunk = Math.min(chunk * 2, maxChunk);
      const res = await this.src.client.blob(this.src.ref, this.src.digest, {
        range: [this.pos, endInclusive === undefined ? undefined : Math.min(endInclusive, (this.totalSize ?? Infinity) - 1)],
        ...(this.opts.signal ? { signal: this.opts.signal } : {}),
      });
      if (res.status === 416) {
        // Never read a 416 body as data: it only says the start is past the end.
        await discard(res);
        const cr = /\/(\d+)$/.exec(res.headers.get("content-range") ?? "");
        if (cr) this.totalSize = Number(cr[1]);
        if (this.totalSize !== undefined && this.pos < this.totalSize) {
          throw new LayerslayerError("CORRUPT", `${this.what()}: the registry refused bytes ${this.pos}- of a ${this.totalSize}-byte blob`);
        }
        this.reachedEnd = true;
        break;
      }
      if (res.status !== 200 && res.status !== 206) throw await responseError(res, this.what());
      let skip = 0;
      let stopAt: number; // absolute position (exclusive) up to which this response is read
      if (res.status === 206) {
        const cr = parseContentRange(res.headers.get("content-range"));
        if (!cr || cr.start !== this.pos) {
          await discard(res);
          throw new LayerslayerError("CORRUPT", `${this.what()}: the registry answered a range request with the wrong range`);
        }
        if (cr.total !== undefined) this.totalSize = cr.total;
        stopAt = cr.end + 1;
      } else {
        // The server ignored Range and sends the whole blob: skip what we already have, read
        // on until the budget or the end, then abort.
        const len = Number(res.headers.get("content-length") ?? NaN);
        if (Number.isFinite(len)) this.totalSize = len;
        skip = this.pos;
        stopAt = Infinity;
      }
      if (!res.body) throw new LayerslayerError("NETWORK", `${this.what()}: empty response body`);
      const reader = res.body.getReader();
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
