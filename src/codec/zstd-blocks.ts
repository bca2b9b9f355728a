/**
 * One zstd frame's blocks through fzstd 0.1.1's streaming `Decompress`, driven one whole block at a
 * time. This touches fzstd's private state (package.json pins the version; test/codec/zstd.test.ts
 * pins the behaviour). What its source shows:
 *
 * - `Decompress` waits for 18 bytes before it parses a frame header, which would hold back the
 *   output of a small frame. So it gets an 18-byte header of our own (FHD 0xc3: 4-byte dictionary
 *   id 0, 8-byte content size 0, no checksum; the smallest window), then the blocks. The real header
 *   is parsed, and its content size and checksum are checked, in zstd.ts.
 * - The frame state lives in `this.s` (`w` the window, `e` its size, `m` the largest block output,
 *   `o` repeat offsets, `h`/`t` entropy tables). Blocks read back-references from `w`, the last `e`
 *   bytes of output. After each block `push` shifts the whole window down (`copyWithin`) and
 *   appends the block: O(window) per block, so a 128 MiB window decoded at ~11 MB/s and an 8 MiB
 *   one lost a quarter of the speed. Instead we keep the window ourselves in a buffer with slack
 *   and hand fzstd a view of its last `e` bytes before each block; while fzstd shifts "the window"
 *   after a block (it calls `ondata` first, which is where we swap it) it is shifting a block-sized
 *   dummy. Our buffer is compacted once per `slack` bytes of output.
 * - `ondata` is called once per block, synchronously inside `push`.
 * - After each push that ends exactly at a block boundary it appends an empty view of the pushed
 *   chunk to its private `c` array and never clears it (the length counter `l` stays 0): we clear
 *   it, or it would grow by one entry, keeping a whole source chunk alive, per block.
 */

import { Decompress } from "fzstd";
import { LayerslayerError } from "../errors.ts";
import { ZstdBlockCheck } from "./zstd-check.ts";
import { MAX_BLOCK } from "./zstd-frames.ts";

/** magic, FHD 0xc3, window descriptor 0 (1 KiB), dictionary id 0, content size 0 */
const SYNTHETIC_HEADER = new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 0xc3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);

interface FrameState {
  w: Uint8Array;
  e: number;
  m: number;
}

interface DecompressPrivate {
  c: Uint8Array[];
  l: number;
  s: FrameState | number | undefined;
}

/** What fzstd shifts after each block instead of the real window. */
let dummy = new Uint8Array(MAX_BLOCK + 64);

/** The last `size` bytes of output, in a buffer with room to append without moving them each time. */
class Window {
  private readonly buf: Uint8Array;
  private start = 0;

  constructor(private readonly size: number) {
    const slack = Math.min(Math.max(size, 2 * MAX_BLOCK), 32 << 20);
    this.buf = new Uint8Array(size + slack);
  }

  view(): Uint8Array {
    return this.buf.subarray(this.start, this.start + this.size);
  }

  append(block: Uint8Array): void {
    if (this.start + this.size + block.length > this.buf.length) {
      this.buf.copyWithin(0, this.start, this.start + this.size);
      this.start = 0;
    }
    this.buf.set(block, this.start + this.size);
    this.start += block.length;
  }
}

function corrupt(at: number, e: unknown): LayerslayerError {
  const why = e instanceof Error ? e.message : String(e);
  return new LayerslayerError("CORRUPT", `invalid zstd data in the frame at offset ${at}: ${why}`, { cause: e });
}

export class ZstdFrameBlocks {
  private readonly dec: Decompress;
  private readonly priv: DecompressPrivate;
  private readonly state: FrameState;
  private readonly window: Window;
  private produced: Uint8Array | null = null;
  /** Walks compressed blocks before fzstd does (zstd-check.ts says why). */
  private readonly checker = new ZstdBlockCheck();

  /** `at` is the frame's offset in the stream (for messages only). */
  constructor(
    windowSize: number,
    private readonly at: number,
  ) {
    this.window = new Window(windowSize);
    this.dec = new Decompress((chunk) => {
      this.produced = chunk;
      this.window.append(chunk);
      if (dummy.length < chunk.length) dummy = new Uint8Array(chunk.length);
      this.state.w = dummy.subarray(0, chunk.length);
    });
    this.priv = this.dec as unknown as DecompressPrivate;
    this.dec.push(SYNTHETIC_HEADER);
    const s = this.priv.s;
    if (typeof s !== "object" || !(s.w instanceof Uint8Array) || s.e !== 1024 || !Array.isArray(this.priv.c)) {
      throw new Error("fzstd's Decompress internals are not those of fzstd 0.1.1: pin fzstd to 0.1.1");
    }
    this.state = s;
    this.priv.c.length = 0;
    s.e = windowSize;
    s.m = MAX_BLOCK;
    s.w = this.window.view();
  }

  /**
   * Decodes one whole block (3-byte header and content) and returns its output, a fresh array.
   * Throws CORRUPT for bad data.
   */
  decode(block: Uint8Array): Uint8Array {
    this.produced = null;
    if (((block[0]! >> 1) & 3) === 2) this.checker.check(block, this.at);
    try {
      this.dec.push(block);
    } catch (e) {
      throw corrupt(this.at, e);
    } finally {
      this.state.w = this.window.view();
    }
    if (this.priv.l === 0) this.priv.c.length = 0;
    const out = this.produced as Uint8Array | null;
    if (!out) throw new Error(`zstd: fzstd held back a whole block (frame at offset ${this.at})`);
    return out;
  }
}
