/**
 * Parallel ranged fetches of one blob, delivered in order. A whole-blob read over one connection
 * waits on that connection's speed, and registries serve blobs from object stores and CDNs that cap
 * each connection; N bounded ranges in flight at once take N times the cap.
 *
 * The blob from `from` to `to` is cut into ranges of `chunk` bytes, each asked for with a bounded
 * Range (never open-ended). Unless the read was already answered with a range, the first range is
 * asked for alone: only when its first 64 KiB (of a 206) have arrived do the others start, so a
 * registry that ignores Range costs one answer (the reader then reads the blob as one stream), and
 * one that breaks every answer is asked as often as a single stream would be. At most `connections`
 * ranges are fetched at once, and half as many more may be held, arrived, until their turn: the
 * first range (the head) streams to the consumer as it arrives, a connection whose range is in goes
 * on to the next at once, and memory is bounded by 1.5 × connections × chunk. A range that breaks off, stalls or is
 * answered wrongly is asked for again from the byte it reached, on its own; every try of every range
 * draws on the read's one allowance (Attempts), which only bytes received replenish, so a read that
 * makes no progress fails in as few tries as a single stream would. The blob reader begins every
 * read as one stream and comes here only once its consumer waited on the link (reader.ts, LinkWatch).
 */
import { LayerslayerError } from "../errors.ts";
import type { Attempts } from "../registry/retry.ts";
import type { BlobPart } from "../source/source.ts";

/**
 * Bytes a range asks for. Measured on this machine (2 cores, shared) reading a 61 MiB blob through a
 * proxy capping each connection at 16 MB/s with 20 ms added latency, fastest of 3 (one stream: 4.05 s):
 * 4 connections × 4 MiB 1.27 s, 6 × 2 MiB 0.92 s, 6 × 4 MiB 0.98 s, 8 × 1 MiB 1.03 s, 8 × 2 MiB
 * 0.84 s. Ranges of 2 MiB are faster than 1 or 4 MiB; what they hold is bounded in parallelRanges.
 */
export const DEFAULT_RANGE_BYTES = 2 * 1024 * 1024;

/** What the parallel reader needs from the blob reader it works for. */
export interface RangeHost {
  /** Asks for bytes [from, end); undefined when the answer was a fault (counted against the allowance). */
  request(from: number, end: number, signal: AbortSignal): Promise<BlobPart | undefined>;
  /** Counts a bad answer; throws once the read's allowance is spent. */
  fault(code: "CORRUPT" | "NETWORK", why: string, cause?: unknown): void;
  /** The read's one allowance of tries, and its stall clock. */
  readonly attempts: Attempts;
  /** How long one read of a body may wait for bytes. */
  idleMs(): number;
  /** "the registry", for messages. */
  readonly originName: string;
}

export interface ParallelOptions {
  connections: number;
  chunk: number;
  signal?: AbortSignal;
  /**
   * The registry already answered this read with a range (a 206): every range is asked for at once,
   * without waiting for the first one's answer.
   */
  rangesHonoured?: boolean;
  /**
   * The first range's size; each next one is twice the one before, up to `chunk` (default: all
   * `chunk`). Small first ranges give the consumer, which takes them in order, bytes again after
   * one round trip instead of after a whole range at one connection's speed.
   */
  firstRange?: number;
}

/** How a parallel read ended: every byte delivered, or the registry ignored Range (the reader goes on as one stream from where delivery stopped). */
export type ParallelEnd = "done" | "range-ignored";

/** One read of a body, failing when nothing arrives in time (a hung transfer). */
export async function readWithin<R>(read: () => Promise<R>, ms: number): Promise<R> {
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
 * Bytes of the first range that must arrive before the other ranges are asked for: a registry that
 * breaks every answer after a few bytes is then asked as often as one stream would ask it.
 */
const SHOWN_BYTES = 64 * 1024;

/**
 * Ranges that may be held in memory, arrived and waiting for the consumer, per connection: a
 * connection whose range is in goes on to the next while the consumer works on earlier ones.
 */
const HELD_PER_CONNECTION = 0.5;

/**
 * Bytes delivered from memory before the event loop is let run: held bytes reach the consumer
 * through promise jobs alone, which never let the event loop see the network, and the connections
 * would stall while the consumer works through them (measured: requests went out in bursts, 150 ms
 * apart, through the capped link).
 */
const UNBROKEN_BYTES = 256 * 1024;

/** One bounded range [start, end) and what has arrived of it. */
class Range {
  /** Bytes arrived and not yet delivered, in order. */
  readonly parts: Uint8Array[] = [];
  /** Bytes arrived so far (delivered or not). */
  got = 0;
  /** The fetch has ended: every byte arrived, or `error`, or `ignored`. */
  done = false;
  error: unknown;
  /** The registry answered with the whole blob (it ignores Range). */
  ignored = false;
  /**
   * SHOWN_BYTES of a ranged answer arrived (or the fetch ended): for the first range, that the
   * registry honours Range and sends the blob at all, before any other range is asked for.
   */
  answered = false;
  private wake: (() => void) | undefined;

  constructor(
    readonly start: number,
    readonly end: number,
  ) {}

  get reached(): number {
    return this.start + this.got;
  }

  /** Something changed: a consumer waiting on this range looks again. */
  notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /** Resolves at the next change. */
  changed(): Promise<void> {
    return new Promise((resolve) => (this.wake = resolve));
  }
}

/**
 * Fetches one range to its end, asking again from the byte reached after a fault. Never throws: the
 * outcome is on the range (done, error, ignored).
 */
async function fetchRange(r: Range, host: RangeHost, signal: AbortSignal): Promise<void> {
  let reader: { cancel(): Promise<void> } | undefined;
  // An abort cancels the body being read at once: the connection closes, whatever the consumer does.
  const onAbort = () => void reader?.cancel().catch(() => {});
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    while (r.reached < r.end) {
      signal.throwIfAborted();
      const from = r.reached;
      const part = await host.request(from, r.end, signal);
      if (part?.body && part.end === undefined) {
        // A 200 with the whole blob: this registry ignores Range.
        r.ignored = true;
        await part.body.cancel().catch(() => {});
        return;
      }
      if (!part) continue;
      if (!part.body) {
        host.fault("CORRUPT", `${host.originName} refused bytes ${from}-${r.end - 1}`);
        continue;
      }
      const stop = Math.min(part.end ?? r.end, r.end);
      const body = part.body.getReader();
      reader = body;
      try {
        while (r.reached < stop) {
          let next: Awaited<ReturnType<typeof body.read>>;
          try {
            next = await readWithin(() => body.read(), Math.max(1, host.idleMs()));
          } catch (e) {
            if (signal.aborted || e instanceof LayerslayerError) throw e;
            host.fault("NETWORK", `the transfer broke off at byte ${r.reached} and could not be resumed`, e);
            break;
          }
          signal.throwIfAborted();
          if (next.done) {
            host.fault("NETWORK", `${host.originName} kept closing the transfer early at byte ${r.reached}`);
            break;
          }
          const data = next.value.byteLength > stop - r.reached ? next.value.subarray(0, stop - r.reached) : next.value;
          if (data.byteLength === 0) continue;
          r.parts.push(data);
          r.got += data.byteLength;
          r.answered ||= r.got >= Math.min(SHOWN_BYTES, r.end - r.start);
          host.attempts.progress(data.byteLength);
          r.notify();
        }
      } finally {
        reader = undefined;
        await body.cancel().catch(() => {});
      }
    }
  } catch (e) {
    r.error = e;
  } finally {
    signal.removeEventListener("abort", onAbort);
    r.answered = r.done = true;
    r.notify();
  }
}

/**
 * Bytes [from, to) of a blob in ranges fetched on up to `connections` connections at once, yielded
 * in order. Returns "range-ignored" when the registry answered a range with the whole blob: the
 * bytes before that range were delivered, and the caller reads the rest as one stream. A range that
 * fails for good fails the read once the bytes before it are delivered. `take` is told of each
 * chunk just before it is yielded. Leaving early (return, throw, abort) stops every fetch.
 */
export async function* parallelRanges(host: RangeHost, from: number, to: number, opts: ParallelOptions, take: (data: Uint8Array) => void): AsyncGenerator<Uint8Array, ParallelEnd> {
  const stop = new AbortController();
  const outer = opts.signal;
  const onAbort = () => stop.abort(outer!.reason);
  if (outer?.aborted) stop.abort(outer.reason);
  outer?.addEventListener("abort", onAbort, { once: true });
  const window: Range[] = [];
  const running: Promise<void>[] = [];
  let next = from;
  /** No range is to be asked for any more. */
  let ignored = false;
  /** Connections allowed now: one until the head's answer showed that the registry honours Range. */
  let limit = 1;
  let launched = 0;
  const held = Math.max(1, Math.round(opts.connections * HELD_PER_CONNECTION));
  const launch = () => {
    // No more ranges once one was answered with the whole blob, or failed for good.
    ignored ||= window.some((r) => r.ignored || r.error !== undefined);
    let fetching = 0;
    for (const r of window) if (!r.done) fetching++;
    while (!ignored && next < to && fetching < limit && window.length < limit + held) {
      const size = Math.min(opts.chunk, (opts.firstRange ?? opts.chunk) * 2 ** Math.min(launched++, 30));
      const r = new Range(next, Math.min(next + size, to));
      next = r.end;
      window.push(r);
      fetching++;
      // A connection whose range is in asks for the next one at once, whatever the consumer is doing.
      running.push(fetchRange(r, host, stop.signal).then(() => void (stop.signal.aborted || launch())));
    }
  };
  try {
    // The head alone first, unless the read was already answered with a range: its answer says
    // whether the registry honours Range at all.
    if (!opts.rangesHonoured) {
      launch();
      const head0 = window[0]!;
      while (!head0.answered) await head0.changed();
    }
    // Every connection: the reader goes parallel only once it has seen the consumer wait on the link.
    limit = opts.connections;
    let unbroken = 0;
    for (;;) {
      launch();
      const head = window[0];
      if (!head) return "done";
      if (head.parts.length === 0 && !head.done) {
        unbroken = 0;
        while (head.parts.length === 0 && !head.done) {
          outer?.throwIfAborted();
          await head.changed();
        }
      } else if (unbroken >= UNBROKEN_BYTES) {
        unbroken = 0;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      outer?.throwIfAborted();
      const data = head.parts.shift();
      if (data) {
        unbroken += data.byteLength;
        take(data);
        yield data;
        host.attempts.consumerBack();
        continue;
      }
      // The head's fetch ended and everything it got was delivered.
      if (head.error !== undefined) throw head.error;
      if (head.ignored) return "range-ignored";
      window.shift();
    }
  } finally {
    outer?.removeEventListener("abort", onAbort);
    stop.abort(new DOMException("the read ended", "AbortError"));
    await Promise.all(running);
  }
}
