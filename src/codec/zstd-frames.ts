/**
 * The framing of a Zstandard stream (RFC 8878), without decoding any block: frame headers, block
 * headers (each carries its block's exact compressed size), checksums, skippable frames and zero
 * padding after the last frame. Both zstd decoders walk a stream with this: the exact one (zstd.ts)
 * hands each block to fzstd, the native one (native-zstd.ts) forwards the same bytes to libzstd.
 * So both accept and refuse the same streams at this level: a dictionary, a window over
 * `MAX_WINDOW`, a reserved bit or block type, an oversized block, garbage between frames.
 */

import { LayerslayerError } from "../errors.ts";
import { hexBytes } from "./gzip-header.ts";
import type { ByteReader } from "./reader.ts";

export const ZSTD_MAGIC = 0xfd2fb528;
/** Largest window we accept (zstd's own decoder refuses more than 2^27 without --memory). */
export const MAX_WINDOW = 128 * 1024 * 1024;
/** Largest block content (and block output) zstd allows. */
export const MAX_BLOCK = 128 * 1024;

export interface FrameHeader {
  windowSize: number;
  /** Frame content size when the header carries it. */
  contentSize: number | undefined;
  checksum: boolean;
}

/** One piece of a zstd stream, in stream order. `raw` views are valid until the next piece. */
export type ZstdPiece =
  /** A frame starts at `at`; `raw` is its magic number and header. */
  | { kind: "frame"; at: number; header: FrameHeader; raw: Uint8Array }
  /** One block: `raw` is its 3-byte header and its content. */
  | { kind: "block"; at: number; raw: Uint8Array; last: boolean }
  /** More of the current block (only with `split`): a view into the source's chunk. */
  | { kind: "bytes"; raw: Uint8Array }
  /** The frame at `at` is complete; `raw` holds its 4-byte checksum when it has one. */
  | { kind: "end"; at: number; header: FrameHeader; raw: Uint8Array; stored: number | undefined };

export interface ZstdWalk {
  /** True when the stream ended after a complete frame (or only zero padding followed). */
  ended: boolean;
  /** Complete frames, skippable ones included. */
  members: number;
}

const EMPTY = new Uint8Array(0);

export function u32(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}

/** Reads the rest of a frame header after its magic; null when the stream ends inside it. */
async function readFrameHeader(r: ByteReader, at: number): Promise<{ header: FrameHeader; raw: Uint8Array[] } | null> {
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
  const first = Uint8Array.of(fhd);
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
  return { header: { windowSize, contentSize, checksum: checksum === 1 }, raw: [first, rest] };
}

/**
 * Walks the frames of a zstd stream, yielding each frame header, block and frame end. A stream cut
 * short anywhere is not an error (`ended: false`); bad framing is CORRUPT, an unsupported frame
 * (dictionary, huge window) UNSUPPORTED.
 *
 * With `split`, a block's content is not gathered into one array: the block piece holds its header
 * (and what of its content lies in the same source chunk) and "bytes" pieces the rest, each a view
 * into a source chunk. For a decoder that takes a byte stream (libzstd): a block (up to 128 KiB)
 * spans two network chunks (64 KiB) more often than not, and gathering it copied most of the layer
 * once more, garbage the collector then had to find (native-zstd.ts).
 */
export async function* zstdFrames(r: ByteReader, opts: { split?: boolean } = {}): AsyncGenerator<ZstdPiece, ZstdWalk> {
  let members = 0;
  for (;;) {
    if (members > 0 && (await r.endsAfter(`zstd frame ${members}`))) return { ended: true, members };
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
        members === 0 ? `not zstd data: starts with bytes ${hexBytes(magicBytes)}` : `unexpected bytes ${hexBytes(magicBytes)} after zstd frame ${members} at offset ${at}`;
      throw new LayerslayerError("CORRUPT", msg);
    }
    const magicCopy = magicBytes.slice();
    const parsed = await readFrameHeader(r, at);
    if (!parsed) break;
    const { header } = parsed;
    yield { kind: "frame", at, header, raw: Buffer.concat([magicCopy, ...parsed.raw]) };
    for (;;) {
      const blockAt = r.offset;
      const bh = await r.read(3);
      if (!bh) return { ended: false, members };
      const v = bh[0]! | (bh[1]! << 8) | (bh[2]! << 16);
      const last = (v & 1) === 1;
      const type = (v >> 1) & 3;
      const size = v >>> 3;
      if (type === 3) throw new LayerslayerError("CORRUPT", `zstd frame at offset ${at}: reserved block type at offset ${blockAt}`);
      if (size > MAX_BLOCK) {
        throw new LayerslayerError("CORRUPT", `zstd frame at offset ${at}: block of ${size} bytes at offset ${blockAt} exceeds 128 KiB`);
      }
      const want = type === 1 ? 1 : size;
      if (opts.split) {
        // The header, then the content as it lies in the source's chunks.
        yield { kind: "block", at: blockAt, raw: bh, last };
        for (let got = 0; got < want;) {
          const part = await r.readUpTo(want - got);
          if (!part) return { ended: false, members };
          got += part.length;
          yield { kind: "bytes", raw: part };
        }
        if (last) break;
        continue;
      }
      const body = await r.read(want);
      if (!body) return { ended: false, members };
      let raw: Uint8Array;
      if (body.length === 0) raw = bh;
      else if (bh.buffer === body.buffer && bh.byteOffset + 3 === body.byteOffset) {
        raw = new Uint8Array(bh.buffer, bh.byteOffset, 3 + body.length);
      } else {
        raw = new Uint8Array(3 + body.length);
        raw.set([v & 0xff, (v >> 8) & 0xff, v >> 16]);
        raw.set(body, 3);
      }
      yield { kind: "block", at: blockAt, raw, last };
      if (last) break;
    }
    let stored: number | undefined;
    let raw: Uint8Array = EMPTY;
    if (header.checksum) {
      const bytes = await r.read(4);
      if (!bytes) break;
      stored = u32(bytes, 0);
      raw = bytes;
    }
    yield { kind: "end", at, header, raw, stored };
    members++;
  }
  return { ended: false, members };
}
