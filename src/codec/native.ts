/**
 * Drives one of Bun's native decompressors (a `node:zlib` Transform: gunzip or zstd) through its
 * stream, as a generator of decoded chunks: compressed pieces are written in, decoded chunks come
 * out with back-pressure both ways, so memory stays bounded whatever the compression ratio. The
 * codecs use the faster sync driver (native-sync.ts) where the runtime allows it, this one elsewhere.
 *
 * The native decoders consume input ahead of their output in blocks of their own, so the offset a
 * chunk is tagged with is the compressed bytes written in when it came out: an upper bound on the
 * bytes needed to produce it, never the exact count (that is the exact path's job, gzip.ts/zstd.ts).
 */

import type { Transform } from "node:stream";
import type { DecodedChunk } from "../types.ts";

/** Output chunk size of the native decoders (measured: 16 KiB costs a third of the speed, 64 KiB is the knee). */
export const NATIVE_CHUNK = 64 * 1024;
/** Decoded bytes held for the consumer before the decoder is paused (a bomb must not run ahead). */
const MAX_QUEUED = 1024 * 1024;

/** A compressed piece and the offset of its end in the compressed stream. */
export interface Piece {
  bytes: Uint8Array;
  end: number;
}

/** How the native stream finished. */
export interface NativeEnd {
  /** The decoder's error, if it reported one; `afterEnd` says whether all input had been written. */
  error?: { error: unknown; afterEnd: boolean };
  decompressed: number;
}

/**
 * Writes `pieces` into `z` and yields what it decodes. Returns (never throws) the decoder's own
 * error so each codec can name it; errors of `pieces` itself propagate. Stopping early destroys the
 * decoder and closes `pieces`.
 */
export async function* driveNative(z: Transform, pieces: AsyncIterable<Piece>): AsyncGenerator<DecodedChunk, NativeEnd> {
  const queue: DecodedChunk[] = [];
  let queued = 0;
  let fed = 0;
  let decompressed = 0;
  let finished = false;
  let inputDone = false;
  let failure: NativeEnd["error"];
  let poked = false;
  let wake: (() => void) | undefined;
  const poke = () => {
    poked = true;
    const w = wake;
    wake = undefined;
    w?.();
  };
  const waitForEvent = async () => {
    if (!poked) await new Promise<void>((resolve) => (wake = resolve));
    poked = false;
  };
  z.on("data", (data: Uint8Array) => {
    queue.push({ data, compressedConsumed: fed });
    queued += data.length;
    decompressed += data.length;
    if (queued >= MAX_QUEUED) z.pause();
    poke();
  });
  z.on("end", () => {
    finished = true;
    poke();
  });
  z.on("error", (error) => {
    failure ??= { error, afterEnd: inputDone };
    poke();
  });
  z.on("drain", poke);

  function* flush(): Generator<DecodedChunk> {
    while (queue.length > 0) {
      const c = queue.shift()!;
      queued -= c.data.length;
      yield c;
    }
    if (z.isPaused() && !failure) z.resume();
  }

  try {
    let sourceFailed = false;
    let sourceError: unknown;
    try {
      for await (const piece of pieces) {
        if (failure) break;
        if (piece.bytes.length === 0) continue;
        // Before the write: the decoder may emit output synchronously inside it.
        fed = piece.end;
        const ok = z.write(piece.bytes);
        yield* flush();
        if (ok) continue;
        // The decoder holds enough input: hand out what it decodes until it asks for more.
        while (z.writableNeedDrain && !failure) {
          await waitForEvent();
          yield* flush();
        }
      }
    } catch (e) {
      sourceFailed = true;
      sourceError = e;
    }
    if (sourceFailed) {
      // The input broke off (a network error): what the bytes that did arrive decode to is real,
      // so let the decoder finish them and hand that out before failing.
      let flushed = false;
      (z as Transform & { flush(done: () => void): void }).flush(() => {
        flushed = true;
        poke();
      });
      while (!flushed && !failure) {
        await waitForEvent();
        yield* flush();
      }
      yield* flush();
      throw sourceError;
    }
    if (!failure) {
      inputDone = true;
      z.end();
      while (!finished && !failure) {
        await waitForEvent();
        yield* flush();
      }
    }
    // Output that came before the error is real: hand it out first.
    yield* flush();
    return { ...(failure ? { error: failure } : {}), decompressed };
  } finally {
    if (!finished) z.destroy();
  }
}

/** The index of the last non-zero byte in `b`, or -1 (scans from the end: usually one step). */
export function lastNonZero(b: Uint8Array): number {
  let i = b.length - 1;
  while (i >= 0 && b[i] === 0) i--;
  return i;
}

/** The error's message and code, for a one-line CORRUPT message. */
export function nativeMessage(e: unknown): { message: string; code: string | undefined } {
  const err = e as { message?: unknown; code?: unknown };
  return { message: typeof err?.message === "string" ? err.message : String(e), code: typeof err?.code === "string" ? err.code : undefined };
}
