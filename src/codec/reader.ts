/**
 * A pull reader over an async iterable of byte chunks, for the decoders: it hands out views into the
 * source's chunks (copying only when a fixed-size read spans two chunks) and counts every byte it
 * hands out, so `offset` is always the exact stream position of the next unread byte.
 *
 * Views stay valid only if the source never reuses a chunk's memory after yielding it (fetch body
 * streams and file streams don't).
 */

import { LayerslayerError } from "../errors.ts";

const EMPTY = new Uint8Array(0);

export class ByteReader {
  private readonly it: AsyncIterator<Uint8Array>;
  private buf: Uint8Array = EMPTY;
  private pos = 0;
  private lastRead = 0;
  private exhausted = false;
  private closed = false;
  /** Stream offset of the next byte to be read (= bytes consumed so far). */
  offset = 0;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.it = source[Symbol.asyncIterator]();
  }

  /** Makes at least one byte available; false at the end of the stream. */
  private async fill(): Promise<boolean> {
    while (this.pos >= this.buf.length) {
      if (this.exhausted) return false;
      const r = await this.it.next();
      if (r.done) {
        this.exhausted = true;
        this.buf = EMPTY;
        this.pos = 0;
        return false;
      }
      this.buf = r.value;
      this.pos = 0;
    }
    return true;
  }

  /** Bytes of the current source chunk not read yet: the next read waits for the source only when this is 0. */
  buffered(): number {
    return this.buf.length - this.pos;
  }

  /** Between 1 and `max` bytes, a view into the current source chunk; null at the end of the stream. */
  async readUpTo(max: number): Promise<Uint8Array | null> {
    if (this.pos >= this.buf.length && !(await this.fill())) return null;
    const n = Math.min(max, this.buf.length - this.pos);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    this.offset += n;
    this.lastRead = n;
    return out;
  }

  /** Gives back the last `n` bytes of the latest `readUpTo` result. */
  unread(n: number): void {
    if (n < 0 || n > this.lastRead) throw new Error(`ByteReader.unread(${n}) beyond the last read (${this.lastRead})`);
    this.pos -= n;
    this.offset -= n;
    this.lastRead -= n;
  }

  /**
   * Exactly `n` bytes: a view when they lie in one source chunk, else a fresh copy. Null when the
   * stream ends first (the partial bytes still count as consumed).
   */
  async read(n: number): Promise<Uint8Array | null> {
    this.lastRead = 0;
    if (n === 0) return EMPTY;
    if (this.pos >= this.buf.length && !(await this.fill())) return null;
    if (this.buf.length - this.pos >= n) {
      const out = this.buf.subarray(this.pos, this.pos + n);
      this.pos += n;
      this.offset += n;
      return out;
    }
    const out = new Uint8Array(n);
    let got = 0;
    while (got < n) {
      if (this.pos >= this.buf.length && !(await this.fill())) return null;
      const k = Math.min(n - got, this.buf.length - this.pos);
      out.set(this.buf.subarray(this.pos, this.pos + k), got);
      this.pos += k;
      this.offset += k;
      got += k;
    }
    return out;
  }

  /** Skips up to `n` bytes; returns how many were skipped (fewer only at the end of the stream). */
  async skip(n: number): Promise<number> {
    this.lastRead = 0;
    let done = 0;
    while (done < n) {
      if (this.pos >= this.buf.length && !(await this.fill())) break;
      const k = Math.min(n - done, this.buf.length - this.pos);
      this.pos += k;
      this.offset += k;
      done += k;
    }
    return done;
  }

  /** The next byte without consuming it, or -1 at the end of the stream. */
  async peek(): Promise<number> {
    if (this.pos >= this.buf.length && !(await this.fill())) return -1;
    return this.buf[this.pos]!;
  }

  /**
   * Between two members or frames: true when the stream ends here, or is only zero padding to its
   * end; false when another member follows. Non-zero bytes after zero padding are CORRUPT.
   */
  async endsAfter(what: string): Promise<boolean> {
    const next = await this.peek();
    if (next < 0) return true;
    if (next !== 0) return false;
    const at = await this.skipZeros();
    if (at < 0) return true;
    throw new LayerslayerError("CORRUPT", `non-zero byte at offset ${at} in the zero padding after ${what}`);
  }

  /**
   * Consumes bytes while they are zero. Returns the offset of the first non-zero byte, or -1 when
   * the stream ended (all remaining bytes were zero).
   */
  async skipZeros(): Promise<number> {
    for (;;) {
      if (this.pos >= this.buf.length && !(await this.fill())) return -1;
      const b = this.buf;
      let i = this.pos;
      while (i < b.length && b[i] === 0) i++;
      this.offset += i - this.pos;
      this.pos = i;
      if (i < b.length) return this.offset;
    }
  }

  /** Releases the source (aborting a download behind it) unless it already ran dry. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.buf = EMPTY;
    this.pos = 0;
    if (!this.exhausted) {
      this.exhausted = true;
      await this.it.return?.();
    }
  }
}
