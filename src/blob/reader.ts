import { LayerslayerError } from "../errors.ts";
import { DigestHasher, digestAlgorithm } from "../oci/digest.ts";
import { RangeFault, type BlobPart, type ImageSource } from "../source/source.ts";

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
  /** Bad answers (broken transfers, wrong ranges) tolerated before giving up; default MAX_FAULTS_PER_BLOB. */
  resumeAttempts?: number;
  /** A transfer that sends nothing for this long counts as broken (and is resumed). */
  idleTimeoutMs?: number;
  onProgress?: (downloaded: number, total: number | undefined) => void;
  /**
   * The blob's last bytes, already downloaded (a tail read that looked for a TOC footer): served
   * from memory instead of being downloaded again, and not counted in `bytesDownloaded`. Needs the
   * size.
   */
  tail?: Uint8Array;
}

const DEFAULT_FIRST = 256 * 1024;
const DEFAULT_MAX = 8 * 1024 * 1024;
const DEFAULT_IDLE_MS = 60_000;
const MiB = 1024 * 1024;

/**
 * Answers that are not what was asked for, tolerated per blob before giving up: a range that
 * starts past the byte asked for, an empty or backwards range, a size other than the descriptor's,
 * a body cut short, reset or stalled. One more is allowed per MiB that did arrive, so a long but
 * flaky download still finishes; one that trickles a byte and breaks again does not.
 */
export const MAX_FAULTS_PER_BLOB = 5;

/**
 * The hard bound on requests for one blob: REQUEST_LIMIT.base + REQUEST_LIMIT.perMiB per MiB of
 * the blob. A read that gets what it asks for needs at most ~6 + size/8 MiB of them (ranges double
 * from 256 KiB to 8 MiB) and faults add at most MAX_FAULTS_PER_BLOB + size/1 MiB, so only a server
 * that keeps answering with much less than asked (under ~512 KiB a request) ever meets it.
 */
export const REQUEST_LIMIT = { base: 16, perMiB: 2 } as const;

/** Requests allowed for a blob of `size` bytes (the base alone while the size is unknown). */
export function requestLimit(size: number | undefined): number {
  return REQUEST_LIMIT.base + REQUEST_LIMIT.perMiB * Math.ceil((size ?? 0) / MiB);
}

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
  /** True when every byte of the blob was read from byte 0 and hashed to its digest (needs `verify`). */
  verified = false;
  /** What the blob's bytes hashed to when every one arrived and they did not match its digest. */
  private mismatch: string | undefined;
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

  /**
   * Why a part is not what was asked for (bytes from `pos`), or undefined when it is usable. A
   * whole-blob answer (no end: a server that ignores Range) starts at 0 and its first bytes are skipped.
   */
  private checkPart(part: BlobPart): string | undefined {
    const declared = this.src.size;
    if (part.size !== undefined && declared !== undefined && part.size !== declared) {
      return `the registry gives the blob's size as ${part.size} bytes, the descriptor ${declared}`;
    }
    const total = part.size ?? this.totalSize;
    if (!part.body) {
      return total !== undefined && this.pos < total ? `the registry refused bytes ${this.pos}- of a ${total}-byte blob` : undefined;
    }
    // A ranged answer (it has an end) must start where asked; only a whole-blob answer starts earlier.
    if (part.start > this.pos || (part.end !== undefined && part.start !== this.pos)) return `the registry answered a request for bytes ${this.pos}- with bytes ${part.start}-`;
    if (part.end !== undefined && part.end <= part.start) return `the registry answered a request for bytes ${this.pos}- with an empty or backwards range (${part.start}-${part.end - 1})`;
    return undefined;
  }

  async *chunks(): AsyncGenerator<Uint8Array, void> {
    const hasher = this.opts.verify && this.pos === 0 ? new DigestHasher(digestAlgorithm(this.src.digest)) : undefined;
    let chunk = this.opts.firstChunk ?? DEFAULT_FIRST;
    const maxChunk = this.opts.maxChunk ?? DEFAULT_MAX;
    const maxFaults = this.opts.resumeAttempts ?? MAX_FAULTS_PER_BLOB;
    let faults = 0;
    let requests = 0;
    /** Counts a fault; past the allowance, the last one is the error (CORRUPT for wrong answers, NETWORK for broken transfers). */
    const fault = (code: "CORRUPT" | "NETWORK", why: string, cause?: unknown): void => {
      faults++;
      if (faults > maxFaults + Math.floor(this.pos / MiB)) {
        throw new LayerslayerError(code, `${this.what()}: ${why}${faults > 1 ? ` (${faults} bad answers, giving up)` : ""}`, cause === undefined ? undefined : { cause });
      }
    };
    const tail = this.opts.tail && this.totalSize !== undefined && this.opts.tail.length <= this.totalSize ? this.opts.tail : undefined;
    // Where downloading stops: the tail's first byte, or the blob's end.
    const netEnd = () => (tail ? this.totalSize! - tail.length : (this.totalSize ?? Infinity));
    /** The whole blob's digest, computed as soon as its last byte arrived. */
    let earlyCheck: string | undefined;
    while (!this.reachedEnd) {
      // A source that cannot be interrupted (a local file) is stopped here, between its chunks.
      this.opts.signal?.throwIfAborted();
      if (tail && this.pos >= netEnd()) {
        const rest = tail.subarray(this.pos - netEnd());
        const part = rest.subarray(0, Math.max(0, Math.min(rest.length, this.allowance())));
        if (part.length > 0) {
          this.pos += part.length;
          hasher?.update(part);
          yield part;
        }
        if (part.length < rest.length) {
          this.budgetReached = true;
          return;
        }
        this.reachedEnd = true;
        break;
      }
      const allowed = this.allowance();
      if (allowed <= 0) {
        this.budgetReached = true;
        return;
      }
      if (this.totalSize !== undefined && this.pos >= this.totalSize) {
        this.reachedEnd = true;
        break;
      }
      if (++requests > requestLimit(this.src.size ?? this.totalSize)) {
        throw new LayerslayerError("NETWORK", `${this.what()}: gave up after ${requests - 1} requests for one blob at byte ${this.pos} (the registry keeps sending less than asked)`);
      }
      // Without a budget ask for everything left in one request; with one, in growing chunks.
      const want = this.opts.budget === undefined && !this.opts.ranged ? Infinity : Math.min(chunk, allowed);
      const end = want === Infinity ? (tail ? netEnd() : undefined) : Math.min(this.pos + want, netEnd());
      chunk = Math.min(chunk * 2, maxChunk);
      let part: BlobPart;
      try {
        part = await this.src.source.readBlob(this.src.digest, this.pos, end, this.opts.signal);
      } catch (e) {
        if (!(e instanceof RangeFault)) throw e;
        const prefix = `${this.what()}: `;
        fault("CORRUPT", e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message);
        continue;
      }
      const bad = this.checkPart(part);
      if (bad) {
        await part.body?.cancel().catch(() => {});
        fault("CORRUPT", bad);
        continue;
      }
      if (part.size !== undefined) this.totalSize = part.size;
      if (!part.body) {
        this.reachedEnd = true; // nothing at or past this.pos, and the blob is not known to be longer
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
            fault("NETWORK", `the transfer broke off at byte ${this.pos} and could not be resumed`, e);
            break; // resume with a new ranged request from this.pos
          }
          this.opts.signal?.throwIfAborted();
          if (r.done) {
            const short = this.pos < Math.min(stopAt, this.totalSize ?? Infinity);
            if (short && (stopAt !== Infinity || this.totalSize !== undefined)) {
              fault("NETWORK", `the registry kept closing the transfer early at byte ${this.pos}`);
            } else if (stopAt === Infinity) {
              this.reachedEnd = true;
              this.totalSize = this.pos;
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
          const limit = Math.min(this.allowance(), stopAt - this.pos, netEnd() - this.pos);
          if (data.byteLength > limit) data = data.subarray(0, limit);
          if (data.byteLength > 0) {
            this.pos += data.byteLength;
            this.bytesDownloaded += data.byteLength;
            hasher?.update(data);
            // Every byte is here (the tail, if any, is in memory): check the digest now, since a
            // reader that stops at this chunk (cat, once its file is out) never pulls again.
            if (hasher && !earlyCheck && this.totalSize !== undefined && this.pos >= netEnd()) {
              earlyCheck = hasher.digestWith(tail ?? new Uint8Array(0));
              if (earlyCheck === this.src.digest) this.verified = true;
              else this.mismatch = earlyCheck;
            }
            this.opts.onProgress?.(this.bytesDownloaded, this.totalSize);
            yield data;
          }
          if (this.pos >= netEnd()) {
            if (!tail) this.reachedEnd = true;
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
      if (got !== this.src.digest) throw this.hashError(got);
      this.verified = true;
    }
  }

  /** The error for a blob whose bytes all arrived and hashed to something else, if they did. */
  digestError(): LayerslayerError | undefined {
    return this.mismatch === undefined ? undefined : this.hashError(this.mismatch);
  }

  private hashError(got: string): LayerslayerError {
    return new LayerslayerError("CORRUPT", `${this.what()}: the blob's bytes hash to ${got}, not its digest`);
  }
}
