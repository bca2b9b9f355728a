/**
 * Zstandard (RFC 8878) decoding with fzstd's streaming `Decompress` doing the entropy decoding and
 * our own framing around it: we parse each frame header and each block header (which carries the
 * block's exact compressed size), and hand fzstd whole blocks only, so every chunk yielded says
 * exactly how many compressed bytes were needed for everything up to its end. Several frames,
 * skippable frames and zero padding at the end are accepted; a stream cut short is not an error.
 *
 * fzstd decodes the blocks (zstd-blocks.ts). It does not verify the frame checksum, and it turns
 * most damaged blocks into wrong bytes without complaint, so we check the checksum (low 32 bits of
 * XXH64 of the frame's content) when a frame has one, and the content size when its header has it.
 */

import { LayerslayerError } from "../errors.ts";
import type { DecodedChunk } from "../types.ts";
import { hexBytes } from "./gzip-header.ts";
import { ByteReader } from "./reader.ts";
import type { DecodeSummary } from "./types.ts";
import { XxHash64 } from "./xxhash64.ts";
import { MAX_BLOCK, ZstdFrameBlocks } from "./zstd-blocks.ts";

export const ZSTD_MAGIC = 0xfd2fb528;
/** Largest window we accept (zstd's own decoder refuses more than 2^27 without --memory). */
export const MAX_WINDOW = 128 * 1024 * 1024;

interface FrameHeader {
  windowSize: number;
  /** Frame content size when the header carries it. */
  contentSize: number | undefined;
  checksum: boolean;
}

function u32(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}

/** Reads the rest of a frame header after its magic; null when the stream ends inside it. */
async function readFrameHeader(r: ByteReader, at: number): Promise<FrameHeader | null> {
  const fhdByte = await r.read(1);
  if (!fhdByte) return null;
  const fhd = fhdByte[0]!;
  const fcsFlag = fhd >> 6;
  const singleSegment = (fhd >> 5) & 1;
  const checksum = (fhd >> 2) & 1;
  const dictFlag = fhd & 3;
  if (fhd & 0x08) throw new LayerslayerError("CORRUPT", `zstd frame at offset ${at}: reserved header bit set`);
  const dictBytes = [0, 1, 2, 4][dictFlag]!;
  const fcsBytes = [singleSegment, 2, 4, 8][fcsFlag]!;
  const rest = await r.read((singleSegment ? 0 : 1) + dictBytes + fcsBytes);
  if (!rest) return null;
  let pos = 0;
  let windowSize = 0;
  if (!singleSegment) {
    const wd = rest[pos++]!;
    const base = 2 ** (10 + (wd >> 3));
    windowSize = base + (base / 8) * (wd & 7);
  }
  let dictId = 0;
  for (let i = 0; i < dictBytes; i++) dictId += rest[pos + i]! * 2 ** (8 * i);
  pos += dictBytes;
  let contentSize: number | undefined;
  if (fcsBytes > 0) {
    contentSize = 0;
    for (let i = 0; i < fcsBytes; i++) contentSize += rest[pos + i]! * 2 ** (8 * i);
    if (fcsBytes === 2) contentSize += 256;
  }
  if (dictId !== 0) {
    throw new LayerslayerError("UNSUPPORTED", `zstd frame at offset ${at} needs dictionary ${dictId}, which is not supported`);
  }
  if (singleSegment) windowSize = contentSize ?? 0;
  if (windowSize > MAX_WINDOW) {
    throw new LayerslayerError(
      "UNSUPPORTED",
      `zstd frame at offset ${at} needs a ${Math.ceil(windowSize / 2 ** 20)} MiB window, more than the ${MAX_WINDOW / 2 ** 20} MiB supported`,
    );
  }
  return { windowSize, contentSize, checksum: checksum === 1 };
}

export interface ZstdOptions {
  /** Check frame checksums (default true; costs about a fifth of the decoding speed). */
  verifyChecksum?: boolean;
}

export async function* zstdDecode(
  source: AsyncIterable<Uint8Array>,
  options: ZstdOptions = {},
): AsyncGenerator<DecodedChunk, DecodeSummary> {
  const verify = options.verifyChecksum ?? true;
  const r = new ByteReader(source);
  let members = 0;
  let decompressed = 0;
  let ended = false;
  try {
    frames: for (;;) {
      if (members > 0 && (await r.endsAfter(`zstd frame ${members}`))) {
        ended = true;
        break;
      }
      const at = r.offset;
      const magicBytes = await r.read(4);
      if (!magicBytes) break;
      const magic = u32(magicBytes, 0);
      if ((magic & 0xfffffff0) === 0x184d2a50) {
        // Skippable frame: 4-byte little-endian length, then that many bytes.
        const len = await r.read(4);
        if (!len) break;
        const n = u32(len, 0);
        if ((await r.skip(n)) < n) break;
        members++;
        continue;
      }
      if (magic !== ZSTD_MAGIC) {
        const msg =
          members === 0
            ? `not zstd data: starts with bytes ${hexBytes(magicBytes)}`
            : `unexpected bytes ${hexBytes(magicBytes)} after zstd frame ${members} at offset ${at}`;
        throw new LayerslayerError("CORRUPT", msg);
      }
      const header = await readFrameHeader(r, at);
      if (!header) break;
      const blocks = new ZstdFrameBlocks(header.windowSize, at);
      let frameSize = 0;
      const hash = header.checksum && verify ? new XxHash64() : null;
      for (;;) {
        const bh = await r.read(3);
        if (!bh) break frames;
        const v = bh[0]! | (bh[1]! << 8) | (bh[2]! << 16);
        const last = v & 1;
        const type = (v >> 1) & 3;
        const size = v >>> 3;
        if (type === 3) throw new LayerslayerError("CORRUPT", `zstd frame at offset ${at}: reserved block type at offset ${r.offset - 3}`);
        if (size > MAX_BLOCK) {
          throw new LayerslayerError("CORRUPT", `zstd frame at offset ${at}: block of ${size} bytes at offset ${r.offset - 3} exceeds 128 KiB`);
        }
        const body = await r.read(type === 1 ? 1 : size);
        if (!body) break frames;
        let block: Uint8Array;
        if (body.length === 0) block = bh;
        else if (bh.buffer === body.buffer && bh.byteOffset + 3 === body.byteOffset) {
          block = new Uint8Array(bh.buffer, bh.byteOffset, 3 + body.length);
        } else {
          block = new Uint8Array(3 + body.length);
          block.set([v & 0xff, (v >> 8) & 0xff, v >> 16]);
          block.set(body, 3);
        }
        const out = blocks.decode(block);
        frameSize += out.length;
        if (out.length > 0) {
          hash?.update(out);
          decompressed += out.length;
          yield { data: out, compressedConsumed: r.offset };
        }
        if (last) break;
      }
      if (header.contentSize !== undefined && frameSize !== header.contentSize) {
        throw new LayerslayerError(
          "CORRUPT",
          `zstd frame at offset ${at}: decoded ${frameSize} bytes, header says ${header.contentSize}`,
        );
      }
      if (header.checksum) {
        const stored = await r.read(4);
        if (!stored) break;
        const want = u32(stored, 0);
        const got = hash?.digestLow32();
        if (got !== undefined && got !== want) {
          throw new LayerslayerError(
            "CORRUPT",
            `zstd frame at offset ${at}: checksum mismatch (stored ${want.toString(16).padStart(8, "0")}, computed ${got.toString(16).padStart(8, "0")})`,
          );
        }
      }
      members++;
    }
  } finally {
    await r.close();
  }
  return { compressedConsumed: r.offset, decompressed, ended, members };
}
