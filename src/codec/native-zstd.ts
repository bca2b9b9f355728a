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
import { zstdFrames, type ZstdWalk } from "./zstd-frames.ts";

export async function* nativeZstd(source: AsyncIterable<Uint8Array>, opts: NativeOptions = {}): AsyncGenerator<DecodedChunk, DecodeSummary> {
  const r = new ByteReader(source);
  const z = createZstdDecompress({ chunkSize: NATIVE_CHUNK });
  let walked: ZstdWalk = { ended: false, members: 0 };
  async function* pieces(): AsyncGenerator<Piece> {
    const walk = zstdFrames(r);
    try {
      for (;;) {
        const next = await walk.next();
        if (next.done) {
          walked = next.value;
          return;
        }
        yield { bytes: next.value.raw, end: r.offset };
      }
    } finally {
      await walk.return({ ended: false, members: 0 });
      await r.close();
    }
  }
  const end = yield* driveDecoder(z, pieces(), { flush: constants.ZSTD_e_continue, finish: constants.ZSTD_e_end }, opts);
  if (end.error) {
    const { message } = nativeMessage(end.error.error);
    throw new LayerslayerError("CORRUPT", `invalid zstd data: ${message}`, { cause: end.error.error });
  }
  return { compressedConsumed: r.offset, decompressed: end.decompressed, ended: walked.ended, members: walked.members };
}
