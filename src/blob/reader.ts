import { LayerslayerError } from "../errors.ts";
import type { Attempts } from "../registry/retry.ts";
import { blobAttempts, DEFAULT_IDLE_MS, requestLimit } from "./allowance.ts";
import { LinkWatch } from "./link-watch.ts";
import type { ByteCoverage } from "./coverage.ts";
import { DigestCheck } from "./digest-check.ts";
import { DEFAULT_RANGE_BYTES, parallelRanges, readWithin, type RangeHost } from "./parallel.ts";
import { RangeFault, REGISTRY_ORIGIN, type BlobPart, type ImageSource } from "../source/source.ts";

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
  /**
   * The allowance of tries, when several reads of one blob share one (`blobAttempts`: a TOC footer
   * probe, then the read itself): they give up together after its few failed tries, not each after its own.
   */
  attempts?: Attempts;
  /** A transfer that sends nothing for this long counts as broken (and is resumed). */
  idleTimeoutMs?: number;
  onProgress?: (downloaded: number, total: number | undefined) => void;
  /** Where the bytes downloaded are recorded, for a count over several reads of the blob. */
  coverage?: ByteCoverage;
  /**
   * Ranged requests a whole read (no budget, not `ranged`) may have in flight at once; default the
   * source's `connections` (1 when it has none: one stream). See parallel.ts.
   */
  connections?: number;
  /** Bytes each of those requests asks for (default DEFAULT_RANGE_BYTES). */
  rangeBytes?: number;
  /**
   * The blob's last bytes, already downloaded (a tail read that looked for a TOC footer): served
   * from memory instead of being downloaded again, and not counted in `bytesDownloaded`. Needs the
   * size.
   */
  tail?: Uint8Array;
}

const DEFAULT_FIRST = 256 * 1024;
const DEFAULT_MAX = 8 * 1024 * 1024;
/** The first range once a read goes parallel (they double up to `rangeBytes`; parallel.ts `firstRange`). */
const FIRST_PARALLEL_RANGE = 128 * 1024;
/**
 * Reads a blob in ranged requests, never downloading more than the budget. Works with servers that
 * ignore Range (200: read what is allowed, then abort), resumes broken transfers from the exact byte
 * reached, and counts the blob's bytes it took off the wire once each (bytes a server re-sends are
 * counted apart). Every request, resume and retry of the
 * transport below draws on one allowance (Attempts) that only bytes received replenish.
 */
export class BlobReader {
  /**
   * Bytes of the blob taken off the network, each counted once: never more than the blob (bytes a
   * server re-sends are `bytesResent`; a tail already in memory is not downloaded).
   */
  bytesDownloaded = 0;
  /** Bytes a server that ignores Range sent again before the ones asked for: on the wire (and in the budget), not new. */
  bytesResent = 0;
  /** True when a server that ignores Range answered a request from a later byte with the whole blob. */
  rangeIgnored = false;
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
  private readonly start: number;
  /** The blob's last bytes, already in memory (see ReadBlobOptions.tail, useTail), when usable. */
  private tail: Uint8Array | undefined;
  /** The read's first answer, asked for ahead of it (prefetch). */
  private early: Promise<BlobPart | undefined> | undefined;
  private readonly attempts: Attempts;
  private requests = 0;
  /** The size of the next ranged request (they double up to maxChunk). */
  private chunk: number;
  /** Parallel fetches met a registry that ignores Range: the rest of the read is one stream. */
  private oneStream = false;
  /** The consumer was seen waiting on the link (LINK_WATCH_BYTES): the rest of the read may use parallel ranges. */
  private linkSlow = false;
  /** The registry answered this read with a range (a 206): it honours Range. */
  private rangesHonoured = false;

  constructor(
    private readonly src: BlobSource,
    private readonly opts: ReadBlobOptions = {},
  ) {
    this.totalSize = src.size;
    this.start = this.pos = opts.start ?? 0;
    if (opts.budget !== undefined && (!Number.isFinite(opts.budget) || opts.budget < 0)) {
      throw new LayerslayerError("USAGE", `invalid budget ${opts.budget}`);
    }
    if (opts.tail) this.useTail(opts.tail);
    this.chunk = opts.firstChunk ?? DEFAULT_FIRST;
    this.attempts = opts.attempts ?? blobAttempts(opts.resumeAttempts, opts.idleTimeoutMs);
  }

  /**
   * The blob's last bytes, read meanwhile (a TOC probe): served from memory, not downloaded again.
   * Only before the read begins; ignored unless the size is known and they fit in it.
   */
  useTail(tail: Uint8Array): void {
    if (this.pos !== this.start || this.bytesDownloaded > 0) return;
    this.tail = this.src.size !== undefined && tail.length <= this.src.size ? tail : undefined;
  }

  /**
   * Asks for the read's first bytes now, before `chunks()` is called, so that its answer is on the
   * way while the caller does other work first (a TOC probe: one round trip, on a registry that
   * redirects blobs to a CDN two, saved per layer). `end`: where the request stops (the first byte
   * of a tail expected later, useTail); the read goes on from there if no tail comes. `dropPrefetch()`
   * closes the answer when the read is not made after all.
   */
  prefetch(end?: number): void {
    if (this.early || this.pos !== this.start || this.opts.budget !== undefined || this.opts.ranged) return;
    this.early = this.request(this.pos, end !== undefined && end > this.pos ? end : this.nextEnd());
    this.early.catch(() => {}); // awaited by chunks() or dropPrefetch(); not an unhandled rejection meanwhile
  }

  /** Closes a prefetched answer that will not be read. */
  async dropPrefetch(): Promise<void> {
    const early = this.early;
    this.early = undefined;
    const part = await early?.catch(() => undefined);
    await part?.body?.cancel().catch(() => {});
  }

  private what(): string {
    return `${this.src.source.name}@${this.src.digest}`;
  }

  /** Who answers: "the registry" (whose wrong answers are retried) or "the file" (whose are not). */
  private get origin() {
    return this.src.source.origin ?? REGISTRY_ORIGIN;
  }

  /** Bytes still allowed by the budget (Infinity without one): every byte on the wire counts. */
  private allowance(): number {
    return this.opts.budget === undefined ? Infinity : this.opts.budget - this.bytesDownloaded - this.bytesResent;
  }

  /** Where downloading stops: the tail's first byte, or the blob's end. */
  private netEnd(): number {
    return this.tail ? this.totalSize! - this.tail.length : (this.totalSize ?? Infinity);
  }

  /** The most bytes this read may deliver: to the blob's end, or the budget. */
  private span(): number {
    const size = this.src.size ?? this.totalSize;
    return Math.min(this.opts.budget ?? Infinity, size === undefined ? 0 : Math.max(0, size - this.start));
  }

  /**
   * Counts a bad answer against the read's allowance; past it, this one is the error (CORRUPT for
   * wrong answers, NETWORK for broken transfers).
   */
  private fault(code: "CORRUPT" | "NETWORK", why: string, cause?: unknown): void {
    if (!this.origin.retry) throw new LayerslayerError(code === "NETWORK" ? "IO" : code, `${this.what()}: ${why}`, cause === undefined ? undefined : { cause });
    if (this.attempts.fail()) return;
    const n = this.attempts.failures;
    const ms = this.attempts.limits.stallMs!;
    const stalled = this.attempts.msLeft() <= 0 ? `, nothing received for ${ms < 10_000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`}` : "";
    const count = n > 1 || stalled ? ` (${n} bad answers${stalled}, giving up)` : "";
    throw new LayerslayerError(code, `${this.what()}: ${why}${count}`, cause === undefined ? undefined : { cause });
  }

  /**
   * Why a part is not what was asked for (bytes from `pos`), or undefined when it is usable. A
   * whole-blob answer (no end: a server that ignores Range) starts at 0 and its first bytes are skipped.
   */
  private checkPart(part: BlobPart, from: number): string | undefined {
    const declared = this.src.size;
    if (part.size !== undefined && declared !== undefined && part.size !== declared) {
      return `${this.origin.name} gives the blob's size as ${part.size} bytes, the descriptor ${declared}`;
    }
    const total = part.size ?? this.totalSize;
    if (!part.body) {
      return total !== undefined && from < total ? `${this.origin.name} refused bytes ${from}- of a ${total}-byte blob` : undefined;
    }
    // A ranged answer (it has an end) must start where asked; only a whole-blob answer starts earlier.
    if (part.start > from || (part.end !== undefined && part.start !== from)) return `${this.origin.name} answered a request for bytes ${from}- with bytes ${part.start}-`;
    if (part.end !== undefined && part.end <= part.start)
      return `${this.origin.name} answered a request for bytes ${from}- with an empty or backwards range (${part.start}-${part.end - 1})`;
    return undefined;
  }

  /** The end (exclusive) of the next request: all that is left without a budget, else the next growing chunk. */
  private nextEnd(): number | undefined {
    const want = this.opts.budget === undefined && !this.opts.ranged ? Infinity : Math.min(this.chunk, this.allowance());
    this.chunk = Math.min(this.chunk * 2, this.opts.maxChunk ?? DEFAULT_MAX);
    if (want === Infinity) return this.tail ? this.netEnd() : undefined;
    return Math.min(this.pos + want, this.netEnd());
  }

  /** Asks the source for the bytes [from, end); undefined when the answer was a fault (counted). */
  private async request(from: number, end: number | undefined, signal = this.opts.signal): Promise<BlobPart | undefined> {
    if (++this.requests > requestLimit(this.span())) {
      throw new LayerslayerError(
        "NETWORK",
        `${this.what()}: gave up after ${this.requests - 1} requests for one blob at byte ${from} (${this.origin.name} keeps sending less than asked)`,
      );
    }
    let part: BlobPart;
    try {
      part = await this.src.source.readBlob(this.src.digest, from, end, { attempts: this.attempts, ...(signal ? { signal } : {}) });
    } catch (e) {
      if (!(e instanceof RangeFault)) throw e;
      const prefix = `${this.what()}: `;
      this.fault("CORRUPT", e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message);
      return undefined;
    }
    const bad = this.checkPart(part, from);
    if (bad) {
      await part.body?.cancel().catch(() => {});
      this.fault("CORRUPT", bad);
      return undefined;
    }
    if (part.size !== undefined) this.totalSize = part.size;
    return part;
  }

  /**
   * Takes `data` (the bytes at `pos`) into the read: position, count, digest, progress. `arrived`:
   * the allowance was already told of these bytes when they arrived (a parallel read).
   */
  private take(data: Uint8Array, check: DigestCheck | undefined, downloaded: boolean, arrived = false): void {
    this.pos += data.byteLength;
    if (downloaded) {
      this.bytesDownloaded += data.byteLength;
      this.opts.coverage?.add(this.pos - data.byteLength, this.pos);
      if (!arrived) this.attempts.progress(data.byteLength);
    }
    check?.update(data);
    // The last byte from the network is in (the tail, if any, is in memory): judge the blob now.
    if (check && downloaded && this.totalSize !== undefined && this.pos >= this.netEnd()) {
      const got = check.judgeWith(this.tail);
      if (got === this.src.digest) this.verified = true;
      else if (got !== undefined) this.mismatch = got;
    }
  }

  /** Serves the rest from the tail in memory; false when the budget ended the read first. */
  private *fromTail(check: DigestCheck | undefined): Generator<Uint8Array, boolean> {
    const rest = this.tail!.subarray(this.pos - this.netEnd());
    const part = rest.subarray(0, Math.max(0, Math.min(rest.length, this.allowance())));
    if (part.length > 0) {
      this.take(part, check, false);
      yield part;
    }
    if (part.length < rest.length) {
      this.budgetReached = true;
      return false;
    }
    this.reachedEnd = true;
    return true;
  }

  /**
   * Reads one answer's body from `pos`: skips what a server that ignores Range re-sends, stops at
   * the answer's end, the budget or the blob's end, and counts a transfer that breaks off or ends
   * short as a fault (the next request resumes from `pos`). False when the budget ended the read.
   */
  private async *readBody(part: BlobPart & { body: ReadableStream<Uint8Array> }, check: DigestCheck | undefined, watch = false): AsyncGenerator<Uint8Array, boolean> {
    let skip = this.pos - part.start;
    const link = watch ? new LinkWatch() : undefined;
    const stopAt = part.end ?? Infinity; // absolute position (exclusive) up to which this body is read
    const reader = part.body.getReader();
    if (skip > 0) this.rangeIgnored = true;
    if (part.end !== undefined) this.rangesHonoured = true;
    if (skip > 0 && skip >= this.allowance()) {
      // The whole blob from byte 0, and the budget ends before the byte asked for: read none of it.
      await reader.cancel().catch(() => {});
      this.budgetReached = true;
      return false;
    }
    try {
      for (;;) {
        let r: Awaited<ReturnType<typeof reader.read>>;
        const asked = performance.now();
        try {
          r = await readWithin(() => reader.read(), Math.max(1, this.idleMs()));
          link?.read(performance.now() - asked, r.value?.byteLength ?? 0);
        } catch (e) {
          // A source's own verdict (a file that ends early or cannot be read) is final.
          if (this.opts.signal?.aborted || e instanceof LayerslayerError) throw e;
          this.fault("NETWORK", `the transfer broke off at byte ${this.pos} and could not be resumed`, e);
          return true; // resume with a new ranged request from this.pos
        }
        this.opts.signal?.throwIfAborted();
        if (r.done) {
          const short = this.pos < Math.min(stopAt, this.totalSize ?? Infinity);
          if (short && (stopAt !== Infinity || this.totalSize !== undefined)) {
            this.fault("NETWORK", `${this.origin.name} kept closing the transfer early at byte ${this.pos}`);
          } else if (stopAt === Infinity) {
            this.reachedEnd = true;
            this.totalSize = this.pos;
          }
          return true;
        }
        let data = r.value;
        if (skip > 0) {
          // Bytes re-sent by a server that ignores Range cost budget, but are not new.
          const drop = Math.min(skip, data.byteLength, this.allowance());
          this.bytesResent += drop;
          skip -= drop;
          data = data.subarray(drop);
          if (this.allowance() <= 0) {
            this.budgetReached = true;
            return false;
          }
          if (data.byteLength === 0) continue;
        }
        const limit = Math.min(this.allowance(), stopAt - this.pos, this.netEnd() - this.pos);
        if (data.byteLength > limit) data = data.subarray(0, limit);
        if (data.byteLength > 0) {
          this.take(data, check, true);
          // The body has more, but nothing more is wanted (the budget is spent, or the tail in
          // memory begins): close it now, not when the consumer next pulls, so the server stops.
          const wanted = this.allowance() > 0 && this.pos < this.netEnd();
          if (!wanted && this.pos < (part.end ?? this.totalSize ?? Infinity)) await reader.cancel().catch(() => {});
          this.opts.onProgress?.(this.bytesDownloaded, this.totalSize);
          yield data;
          this.attempts.consumerBack();
          if (link?.slow() && this.connections() > 1) {
            this.linkSlow = true;
            return true; // the rest in parallel ranges
          }
        }
        if (this.pos >= this.netEnd()) {
          if (!this.tail) this.reachedEnd = true;
          return true;
        }
        if (this.pos >= stopAt) return true;
        if (this.allowance() <= 0) {
          this.budgetReached = true;
          return false;
        }
      }
    } finally {
      await reader.cancel().catch(() => {});
    }
  }

  /** How long one read of a body may wait for bytes: the idle timeout, within the stall bound. */
  private idleMs(): number {
    return Math.min(this.opts.idleTimeoutMs ?? DEFAULT_IDLE_MS, this.attempts.msLeft());
  }

  /**
   * The connections this read uses from here: several only for a read without a budget of a blob of
   * known size from a source that retries, while at least two ranges are left to fetch. A read that
   * may stop early (`ranged`: cat) goes parallel only once its growing requests reached their
   * largest, so what it may fetch past its stop stays about what one such request would.
   */
  private connections(): number {
    const n = this.opts.connections ?? this.src.source.connections ?? 1;
    if (n <= 1 || this.oneStream || this.opts.budget !== undefined || this.src.size === undefined || !this.origin.retry) return 1;
    if (this.opts.ranged && this.chunk < (this.opts.maxChunk ?? DEFAULT_MAX)) return 1;
    return this.netEnd() - this.pos >= 2 * (this.opts.rangeBytes ?? DEFAULT_RANGE_BYTES) ? n : 1;
  }

  /** Delivers the bytes up to `netEnd` from ranges fetched in parallel (parallel.ts); false when the registry ignores Range. */
  private async *parallel(check: DigestCheck | undefined, connections: number): AsyncGenerator<Uint8Array, boolean> {
    const host: RangeHost = {
      request: (from, end, signal) => this.request(from, end, signal),
      fault: (code, why, cause) => this.fault(code, why, cause),
      attempts: this.attempts,
      idleMs: () => this.idleMs(),
      originName: this.origin.name,
    };
    const chunk = this.opts.rangeBytes ?? DEFAULT_RANGE_BYTES;
    const end = yield* parallelRanges(
      host,
      this.pos,
      this.netEnd(),
      { connections, chunk, firstRange: FIRST_PARALLEL_RANGE, rangesHonoured: this.rangesHonoured, ...(this.opts.signal ? { signal: this.opts.signal } : {}) },
      (data) => {
        this.take(data, check, true, true);
        this.opts.onProgress?.(this.bytesDownloaded, this.totalSize);
      },
    );
    if (end === "range-ignored") return false;
    if (!this.tail) this.reachedEnd = true;
    return true;
  }

  async *chunks(): AsyncGenerator<Uint8Array, void> {
    const check = this.opts.verify && this.pos === 0 ? new DigestCheck(this.src.digest) : undefined;
    this.attempts.consumerBack(); // the stall clock starts with the first pull, not the construction
    while (!this.reachedEnd) {
      // A source that cannot be interrupted (a local file) is stopped here, between its chunks.
      this.opts.signal?.throwIfAborted();
      const connections = this.connections();
      if (connections > 1 && this.linkSlow) {
        if (!(yield* this.parallel(check, connections))) this.oneStream = true;
        continue;
      }
      if (this.tail && this.pos >= this.netEnd()) {
        if (!(yield* this.fromTail(check))) return;
        break;
      }
      if (this.allowance() <= 0) {
        this.budgetReached = true;
        return;
      }
      if (this.totalSize !== undefined && this.pos >= this.totalSize) {
        this.reachedEnd = true;
        break;
      }
      const early = this.early;
      this.early = undefined;
      const part = await (early ?? this.request(this.pos, this.nextEnd()));
      if (!part) continue;
      if (!part.body) {
        this.reachedEnd = true; // nothing at or past this.pos, and the blob is not known to be longer
        break;
      }
      if (!(yield* this.readBody({ ...part, body: part.body }, check, connections > 1))) return;
    }
    if (check && this.reachedEnd) {
      const got = check.final();
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
