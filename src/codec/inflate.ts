/**
 * Raw DEFLATE (RFC 1951) through fflate's streaming `Inflate`, plus the two things fflate does not
 * offer publicly: how many compressed bits it has consumed, and a fast start under Bun.
 *
 * This reads and pre-fills private fields of fflate 0.8.3 (package.json pins the exact version and
 * test/codec/inflate.test.ts pins the behaviour). What the source of that version shows:
 *
 * - `Inflate` keeps its input not yet consumed in `this.p` and its state in `this.s`: `p` the bit
 *   position in `this.p`, `f` BFINAL of the current block, `l`/`d` the literal/length and distance
 *   lookup tables (non-null only inside a compressed block), `m`/`n` their bit widths, `b` the bytes
 *   in its output window, `i` a "final push" flag. `push()` inflates everything it can, stops before
 *   the first symbol that is not complete in the input it has, then drops the whole bytes it consumed
 *   (`this.p = this.p.subarray(s.p >> 3)`, copied) and keeps `s.p &= 7`. So after any push
 *       bits consumed = (bytes pushed - this.p.length) * 8 + s.p
 *   which points just past the last complete symbol decoded (or block header parsed).
 * - With `s.i == 0` (every push we make is non-final) running out of input is never an error.
 * - After the final block, `s.f == 1 && !s.l`, fflate ignores further input, and the bytes after the
 *   end of the deflate data are still in `this.p`.
 * - The state object starts as `{ i, b }` and gains `l, p, f` then `m, d, n` as blocks go by (or
 *   `p, f` first when the first block is stored). Each new field changes the object's shape, and the
 *   JavaScriptCore JIT runs fflate's inflate loop about 2-3x slower when it has seen several shapes.
 *   Creating every field up front, in the order fflate itself adds them, with values of the types it
 *   stores (numbers, and null for the tables as after an end-of-block), gives the loop a single
 *   shape from the first push. Same for `this.d` (the "ended" flag the first push adds).
 * - Each push inflates into `this.o` (the last 32 KiB of output, its window), first growing it to
 *   at least window + 128 KiB: a fresh zeroed allocation and a copy on every push. Handing it a
 *   larger buffer that already holds the window (`o = scratch`, window copied to its start) skips
 *   that; fflate then copies the new output and the new window out of it as usual, so nothing keeps
 *   a reference to the scratch buffer after a push and one buffer serves every inflater in turn.
 *   If one push makes more output than fits, fflate grows its own copy as before.
 *
 * fflate's browser build: the same Inflate; its Node build also loads `node:module` and
 * `node:worker_threads` at import for asynchronous APIs we do not use (a budgeted peek's peak RSS
 * 0.4-0.8 MiB lower without them, compiled binary).
 */

import { Inflate } from "fflate/browser";
import { LayerslayerError } from "../errors.ts";

interface InflateState {
  i: number;
  b: number;
  l: Uint16Array | null;
  p: number;
  f: number;
  m: number;
  d: Uint16Array | null;
  n: number;
}

interface InflatePrivate {
  s: InflateState;
  p: Uint8Array;
  o: Uint8Array;
  d: boolean;
}

const EMPTY = new Uint8Array(0);

/** Room for the 32 KiB window, fflate's 128 KiB headroom and the output of a typical push. */
const SCRATCH_SIZE = 1024 * 1024;
let scratch: Uint8Array | undefined;

export interface InflaterOptions {
  /** Leave fflate's state object as fflate creates it (default false: pre-fill it). */
  stockState?: boolean;
  /** Let fflate allocate its output buffer on every push (default false: lend it one). */
  noScratch?: boolean;
}

/**
 * Starting in the middle of a deflate stream, at a block boundary: the window (the output's last
 * 32 KiB, the dictionary) and the boundary's bit within the first byte pushed (0-7).
 */
export interface InflateResume {
  window: Uint8Array;
  bit: number;
}

/** Checks that an fflate Inflate still looks like the one in 0.8.3; throws a plain Error if not. */
function internals(inf: Inflate): InflatePrivate {
  const priv = inf as unknown as Partial<InflatePrivate>;
  const s = priv.s as Partial<InflateState> | undefined;
  if (
    typeof s !== "object" ||
    s === null ||
    s.i !== 0 ||
    typeof s.b !== "number" ||
    !(priv.p instanceof Uint8Array) ||
    !(priv.o instanceof Uint8Array) ||
    priv.o.length !== 32768
  ) {
    throw new Error("fflate's Inflate internals are not those of fflate 0.8.3: pin fflate to 0.8.3");
  }
  return priv as InflatePrivate;
}

export interface InflateMark {
  s: InflateState;
  p: Uint8Array;
  o: Uint8Array;
  d: boolean;
  pushed: number;
}

/** One raw DEFLATE stream. */
export class RawInflater {
  private readonly priv: InflatePrivate;
  private readonly inf: Inflate;
  private out: Uint8Array = EMPTY;
  private readonly useScratch: boolean;
  /** Compressed bytes pushed so far. */
  pushed = 0;

  constructor(opts: InflaterOptions = {}, resume?: InflateResume) {
    this.useScratch = !opts.noScratch;
    const ondata = (chunk: Uint8Array) => {
      this.out = chunk;
    };
    this.inf = resume ? new Inflate({ dictionary: resume.window }, ondata) : new Inflate(ondata);
    this.priv = internals(this.inf);
    if (!opts.stockState) {
      this.priv.s = { i: 0, b: this.priv.s.b, l: null, p: 0, f: 0, m: 0, d: null, n: 0 };
      this.priv.d = false;
    }
    // fflate reads the next block header from bit s.p of its pending input.
    if (resume) this.priv.s.p = resume.bit & 7;
  }

  /**
   * The inflater's state before a push, to go back to. fflate replaces (never mutates) its pending
   * input and window arrays on each push and keeps per-block tables immutable, so references suffice.
   */
  mark(): InflateMark {
    const p = this.priv;
    return { s: { ...p.s }, p: p.p, o: p.o, d: p.d, pushed: this.pushed };
  }

  rewind(m: InflateMark): void {
    Object.assign(this.priv.s, m.s);
    this.priv.p = m.p;
    this.priv.o = m.o;
    this.priv.d = m.d;
    this.pushed = m.pushed;
  }

  /** The current block's decoding tables (null between blocks): a new object when a new block starts. */
  get blockTables(): object | null {
    return this.priv.s.l;
  }

  /** True between two blocks (not inside one, and not past the final one): a checkpoint can be made here. */
  get atBlockBoundary(): boolean {
    const s = this.priv.s;
    return !s.l && !s.f;
  }

  /** A copy of the last 32 KiB (or fewer) of output: the dictionary a resumed inflater needs. */
  window(): Uint8Array {
    return this.priv.o.slice(0, this.priv.s.b);
  }

  /**
   * Inflates `input` (after whatever earlier input is still pending) as far as it goes and returns
   * the new output: a fresh array, possibly empty. Never push after `finished`.
   */
  push(input: Uint8Array): Uint8Array {
    this.out = EMPTY;
    this.pushed += input.length;
    if (this.useScratch) {
      scratch ??= new Uint8Array(SCRATCH_SIZE);
      const window = this.priv.s.b;
      scratch.set(this.priv.o.subarray(0, window));
      this.priv.o = scratch;
    }
    try {
      this.inf.push(input, false);
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      throw new LayerslayerError("CORRUPT", `invalid deflate data: ${why}`, { cause: e });
    }
    return this.out;
  }

  /** True once the final block has ended. */
  get finished(): boolean {
    const s = this.priv.s;
    return !!s.f && !s.l;
  }

  /** Compressed bits consumed: up to the end of the last complete symbol or block header decoded. */
  get bitsConsumed(): number {
    return (this.pushed - this.priv.p.length) * 8 + this.priv.s.p;
  }

  /** Compressed bytes needed to produce all output so far (the last one possibly in part). */
  get bytesConsumed(): number {
    return Math.ceil(this.bitsConsumed / 8);
  }
}
