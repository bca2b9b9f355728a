/**
 * Zstandard through Bun's native libzstd (`node:zlib` createZstdDecompress), for reads that need no
 * exact offsets: no window copies and no JavaScript entropy decoding. Our own framing walk
 * (zstd-frames.ts) goes first, as on the exact path, so both paths accept and refuse the same
 * streams: libzstd gets only the frames (skippable frames and zero padding stay out), and checks
 * what it is given (block data, content size, XXH64 checksum). A stream cut short is not an error
 * (`ended: false`), bad data is CORRUPT.
 */

import { constants, createZstdDecompress } from "node:zlib";
import { LayerslayerError } from "../errors.ts";
import type { DecodedChunk } from "../types.ts";
import { NATIVE_CHUNK, nativeMessage, type Piece } from "./native.ts";
import { driveDecoder, type NativeOptions } from "./native-sync.ts";
import { ByteReader } from "./reader.ts";
import type { DecodeSummary } from "./types.ts";
import { zstdFrames, type ZstdPiece, type ZstdWalk } from "./zstd-frames.ts";

export async function* nativeZstd(source: AsyncIterable<Uint8Array>, opts: NativeOptions = {}): AsyncGenerator<DecodedChunk, DecodeSummary> {
  const r = new ByteReader(source);
  const z = createZstdDecompress({ chunkSize: NATIVE_CHUNK });
  let walked: ZstdWalk = { ended: false, members: 0 };
  /**
   * The frames' bytes as libzstd is to get them: consecutive pieces that lie next to each other in
   * one source chunk go as one write (a block is ~20 KiB compressed: one write per block would be
   * several per network chunk), and what is gathered goes before the walk waits for the network or
   * fails, so everything before a bad byte is decoded first, as on the exact path.
   */
  async function* pieces(): AsyncGenerator<Piece> {
    const walk = zstdFrames(r, { split: true });
    let pending: Piece | undefined;
    try {
      for (;;) {
        if (pending && r.buffered() === 0) {
          yield pending;
          pending = undefined;
        }
        let next: IteratorResult<ZstdPiece, ZstdWalk>;
        try {
          next = await walk.next();
        } catch (e) {
          if (pending) yield pending;
          pending = undefined;
          throw e;
        }
        if (next.done) {
          if (pending) yield pending;
          pending = undefined;
          walked = next.value;
          return;
        }
        const raw = next.value.raw;
        if (raw.length === 0) continue;
        const p = pending?.bytes;
        if (p && raw.buffer === p.buffer && p.byteOffset + p.length === raw.byteOffset) {
          pending = { bytes: new Uint8Array(p.buffer, p.byteOffset, p.length + raw.length), end: r.offset };
        } else {
          if (pending) yield pending;
          pending = { bytes: raw, end: r.offset };
        }
      }
    } finally {
      await walk.return({ ended: false, members: 0 });
      await r.close();
    }
  }
  const end = yield* driveDecoder(z, pieces(), { flush: constants.ZSTD_e_continue, finish: constants.ZSTD_e_end, codec: "zstd" }, opts);
  if (end.error) {
    const { message } = nativeMessage(end.error.error);
    throw new LayerslayerError("CORRUPT", `invalid zstd data: ${message}`, { cause: end.error.error });
  }
  return { compressedConsumed: r.offset, decompressed: end.decompressed, ended: walked.ended, members: walked.members };
}
