/**
 * Whether a whole read waits on the link: the signal a read that may use several connections goes
 * parallel on (reader.ts, parallel.ts).
 */

const MiB = 1024 * 1024;
/**
 * A whole read that may use several connections begins as one stream, watched in windows of this
 * many bytes, or LINK_WATCH_MS, from its first byte on: once the consumer waited on the network more
 * than a quarter of a window, the stream is closed at the byte reached and the rest read as parallel
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

  /** A read of the body waited `ms` and gave `n` bytes; the first read (the answer's latency) starts the watch. */
  read(ms: number, n: number): void {
    if (this.since === 0) {
      this.since = performance.now();
      return;
    }
    this.waited += ms;
    this.bytes += n;
  }

  /** True when a window ended with the consumer waiting on the network more than a quarter of it; otherwise the next window begins when this one is over. */
  slow(): boolean {
    const span = performance.now() - this.since;
    if (this.since === 0 || (this.bytes < LINK_WATCH_BYTES && span < LINK_WATCH_MS)) return false;
    if (this.waited > span / 4) return true;
    this.since = performance.now();
    this.bytes = this.waited = 0;
    return false;
  }
}
