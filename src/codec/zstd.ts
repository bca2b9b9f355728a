/**
 * Zstandard (RFC 8878) decoding with exact offsets: our own framing (zstd-frames.ts) hands fzstd
 * whole blocks only (zstd-blocks.ts), so every chunk yielded says exactly how many compressed bytes
 * were needed for everything up to its end. Several frames, skippable frames and zero padding at
 * the end are accepted; a stream cut short is not an error.
 *
 * fzstd does not verify the frame checksum, and it turns most damaged blocks into wrong bytes
 * without complaint, so we check the checksum (low 32 bits of XXH64 of the frame's content) when a
 * frame has one, and the content size when its header has it.
 */

import type { Checkpoint, CheckpointSink } from "./checkpoint.ts";
import { LayerslayerError } from "../errors.ts";
import type { DecodedChunk } from "../types.ts";
import { ByteReader } from "./reader.ts";
import type { DecodeSummary } from "./types.ts";
import { XxHash64 } from "./xxhash64.ts";
import { ZstdFrameBlocks } from "./zstd-blocks.ts";
import { zstdFrames } from "./zstd-frames.ts";

export { MAX_WINDOW, ZSTD_MAGIC } from "./zstd-frames.ts";

export interface ZstdOptions {
  /** Check frame checksums (default true; costs about a fifth of the decoding speed). */
  verifyChecksum?: boolean;
  /**
   * Record frame starts as checkpoints about every `every` bytes of output: a layer of many frames
   * (zstd:chunked, seekable zstd) can be read from the frame that holds a file. No window: frames
   * are independent.
   */
  checkpoints?: CheckpointSink;
  /** Start at this checkpoint (a frame start): the source yields the blob from byte `bit >> 3` on. */
  resume?: Checkpoint;
}

const hex8 = (n: number): string => n.toString(16).padStart(8, "0");

export async function* zstdDecode(source: AsyncIterable<Uint8Array>, options: ZstdOptions = {}): AsyncGenerator<DecodedChunk, DecodeSummary> {
  const verify = options.verifyChecksum ?? true;
  const r = new ByteReader(source);
  let decompressed = options.resume ? options.resume.out : 0;
  if (options.resume) r.offset = Math.floor(options.resume.bit / 8);
  const sink = options.checkpoints;
  let nextCheckpoint = sink ? decompressed + sink.every : Infinity;
  let blocks: ZstdFrameBlocks | undefined;
  let hash: XxHash64 | null = null;
  let frameSize = 0;
  const walk = zstdFrames(r);
  try {
    for (;;) {
      const next = await walk.next();
      if (next.done) return { compressedConsumed: r.offset, decompressed, ended: next.value.ended, members: next.value.members };
      const piece = next.value;
      if (piece.kind === "frame") {
        if (sink && decompressed >= nextCheckpoint) {
          sink.add({ bit: piece.at * 8, out: decompressed, member: piece.at, crc: 0, size: 0, window: new Uint8Array(0) });
          nextCheckpoint = decompressed + sink.every;
        }
        blocks = new ZstdFrameBlocks(piece.header.windowSize, piece.at);
        hash = piece.header.checksum && verify ? new XxHash64() : null;
        frameSize = 0;
      } else if (piece.kind === "block") {
        const out = blocks!.decode(piece.raw);
        frameSize += out.length;
        if (out.length > 0) {
          hash?.update(out);
          decompressed += out.length;
          yield { data: out, compressedConsumed: r.offset };
        }
      } else if (piece.kind === "end") {
        const { header, at } = piece;
        if (header.contentSize !== undefined && frameSize !== header.contentSize) {
          throw new LayerslayerError("CORRUPT", `zstd frame at offset ${at}: decoded ${frameSize} bytes, header says ${header.contentSize}`);
        }
        const got = hash?.digestLow32();
        if (got !== undefined && piece.stored !== undefined && got !== piece.stored) {
          throw new LayerslayerError("CORRUPT", `zstd frame at offset ${at}: checksum mismatch (stored ${hex8(piece.stored)}, computed ${hex8(got)})`);
        }
        blocks = undefined;
      }
    }
  } finally {
    await walk.return({ ended: false, members: 0 });
    await r.close();
  }
}
