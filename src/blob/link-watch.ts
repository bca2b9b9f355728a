/**
 * Whether a whole read waits on the link: the signal a read that may use several connections goes
 * parallel on (reader.ts, parallel.ts).
 */

const MiB = 1024 * 1024;
/**
 * A whole read that may use several connections begins as one stream, watched in windows of this
 * many bytes, or LINK_WATCH_MS, from its first byte on: once the consumer waited on the network for
 * much of a window (LinkWatch.slow), the stream is closed at the byte reached and the rest read as parallel
 * ranges. While it does not (a decoder slower than the link, as on loopback) the read stays one
 * stream, which holds less in memory and is faster than ranges nobody waits for.
 */
const LINK_WATCH_BYTES = 1 * MiB;
const LINK_WATCH_MS = 100;

/** One stream's windows of the link watch (LINK_WATCH_BYTES). */
export class LinkWatch {
  private since = 0;
  private bytes = 0;
  private waited = 0;
  /** The window before this one waited more than a quarter of it. */
  private waitedBefore = false;

  /** `now`: the clock, in milliseconds (a test's own). */
  constructor(private readonly now: () => number = () => performance.now()) {}

  /** A read of the body waited `ms` and gave `n` bytes; the first read (the answer's latency) starts the watch. */
  read(ms: number, n: number): void {
    if (this.since === 0) {
      this.since = this.now();
      return;
    }
    this.waited += ms;
    this.bytes += n;
  }

  /**
   * True when a window ended with the consumer waiting on the network more than half of it, or more
   * than a quarter of it twice in a row; otherwise the next window begins when this one is over.
   * Measured (1 MiB windows, the bench's rootfs layers): through the capped link the first window
   * waited 54-64 %; on loopback at most 13 % on a quiet machine, but with two busy loops beside it
   * (the registry process then waits its turn) 25-29 % in 5 runs of 30 and 45 % in 2, once each:
   * a single window past a quarter had those reads go parallel for nothing, and hold its ranges.
   */
  slow(): boolean {
    const span = this.now() - this.since;
    if (this.since === 0 || (this.bytes < LINK_WATCH_BYTES && span < LINK_WATCH_MS)) return false;
    const share = this.waited / span;
    if (share > 1 / 2 || (share > 1 / 4 && this.waitedBefore)) return true;
    this.waitedBefore = share > 1 / 4;
    this.since = this.now();
    this.bytes = this.waited = 0;
    return false;
  }
}
