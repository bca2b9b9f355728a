/**
 * gzip (RFC 1952) decoding with our own member framing around fflate's raw Inflate: every member
 * header is parsed and every trailer checked (CRC32 and ISIZE), members follow one another (estargz
 * layers hold hundreds), zero padding after the last member is accepted, and a stream cut short
 * anywhere is not an error. Each chunk yielded says exactly how many compressed bytes of the whole
 * stream were needed to produce everything up to its end.
 */

import { LayerslayerError } from "../errors.ts";
import type { DecodedChunk } from "../types.ts";
import { readGzipHeader } from "./gzip-header.ts";
import type { Checkpoint, CheckpointSink } from "./checkpoint.ts";
import { type InflaterOptions, RawInflater } from "./inflate.ts";
import { ByteReader } from "./reader.ts";
import type { DecodeSummary } from "./types.ts";

/**
 * Compressed bytes handed to fflate per push. DEFLATE expands at most ~1032:1, so one push makes at
 * most ~16.5 MiB of output (fflate briefly holds about twice that while it grows its buffer);
 * smaller slices cost speed (per-push overhead), larger ones buy nothing (see scripts/codec-speed.ts).
 */
export const DEFAULT_SLICE = 16 * 1024;
/**
 * When a push makes more output than this, the next slices shrink in proportion (and grow back as
 * the ratio falls): a bomb then comes out in ~1 MiB chunks the garbage collector keeps up with,
 * instead of a stream of 16 MiB ones.
 */
const TARGET_OUTPUT = 1024 * 1024;
const MIN_SLICE = 256;
const FIRST_SLICE = 1024;

export interface GunzipOptions {
  /** Compressed bytes per fflate push (tests use 1 to check exactness byte by byte). */
  sliceSize?: number;
  /** fflate tuning switches, only for measuring their effect (scripts/codec-speed.ts). */
  inflater?: InflaterOptions | undefined;
  /** Record checkpoints (deflate block boundaries) about every `every` bytes of output. */
  checkpoints?: CheckpointSink;
  /**
   * Start at this checkpoint: the source yields the blob from byte `bit >> 3` on, and offsets
   * (compressed and decoded) count from the blob's and the tar's start as if read from byte 0.
   */
  resume?: Checkpoint;
}

/**
 * While a checkpoint is due, input goes in pieces of COARSE_SLICE; when a block ends inside one
 * (the block tables change), the inflater goes back and takes the same bytes in FINE_SLICE pieces.
 * fflate stops between blocks only when its input runs out inside a block header (dynamic headers
 * are ~60-120 bytes), so pieces this small land there at nearly every block boundary, and only a
 * few KiB per checkpoint go in small pieces (each push copies fflate's 32 KiB window).
 */
const COARSE_SLICE = 4096;
const FINE_SLICE = 48;

const crc32 = (data: Uint8Array, crc: number): number => Bun.hash.crc32(data, crc) >>> 0;

function hex8(n: number): string {
  return n.toString(16).padStart(8, "0");
}

export async function* gunzip(source: AsyncIterable<Uint8Array>, options: GunzipOptions = {}): AsyncGenerator<DecodedChunk, DecodeSummary> {
  const maxSlice = Math.max(1, Math.floor(options.sliceSize ?? DEFAULT_SLICE));
  // Start small and double while the output stays small: the very first push of a bomb is bounded too.
  let slice = Math.min(maxSlice, FIRST_SLICE);
  const r = new ByteReader(source);
  const resume = options.resume;
  const sink = options.checkpoints;
  let members = 0;
  let decompressed = resume ? resume.out : 0;
  let ended = false;
  let nextCheckpoint = sink ? decompressed + sink.every : Infinity;
  if (resume) r.offset = Math.floor(resume.bit / 8);
  let pending = resume; // the first member is entered in the middle, at the checkpoint
  try {
    for (;;) {
      // Between members: the next member, zero padding to the end, or the end itself.
      if (members > 0 && (await r.endsAfter(`gzip member ${members}`))) {
        ended = true;
        break;
      }
      const resuming = pending;
      pending = undefined;
      const memberStart = resuming ? resuming.member : r.offset;
      if (!resuming) {
        const header = await readGzipHeader(r, members);
        if (!header) break;
      }
      const deflateStart = r.offset;
      const inflater = new RawInflater(options.inflater, resuming ? { window: resuming.window, bit: resuming.bit } : undefined);
      let crc = resuming ? resuming.crc : 0;
      let size = resuming ? resuming.size : 0;
      let fine = 0; // bytes still to push in small pieces, looking for a block boundary
      while (!inflater.finished) {
        const due = decompressed >= nextCheckpoint;
        const coarse = due && fine === 0;
        const input = await r.readUpTo(!due ? slice : coarse ? Math.min(slice, COARSE_SLICE) : Math.min(fine, FINE_SLICE));
        if (!input) break;
        if (due && !coarse) fine -= input.length;
        const mark = coarse ? inflater.mark() : undefined;
        const out = inflater.push(input);
        if (mark && !inflater.finished && !inflater.atBlockBoundary && inflater.blockTables !== mark.s.l) {
          // A block ended inside this piece: take it again in small pieces, to stop at that boundary.
          inflater.rewind(mark);
          r.unread(input.length);
          fine = input.length;
          continue;
        }
        if (out.length > TARGET_OUTPUT) {
          slice = Math.min(maxSlice, Math.max(MIN_SLICE, Math.floor((input.length * TARGET_OUTPUT) / out.length)));
        } else if (slice < maxSlice) slice = Math.min(maxSlice, slice * 2);
        if (inflater.finished) {
          // fflate read past the end of the deflate data: give those bytes back (they all come from
          // this push, or fflate would have found the end in an earlier one).
          const tail = inflater.pushed - inflater.bytesConsumed;
          if (tail < 0 || tail > input.length) throw new Error(`gunzip: deflate end outside the last push (${tail})`);
          r.unread(tail);
        }
        if (out.length > 0) {
          crc = crc32(out, crc);
          size += out.length;
          decompressed += out.length;
        }
        if (sink && decompressed >= nextCheckpoint && inflater.atBlockBoundary) {
          sink.add({ bit: deflateStart * 8 + inflater.bitsConsumed, out: decompressed, member: memberStart, crc, size, window: inflater.window() });
          nextCheckpoint = decompressed + sink.every;
        }
        if (out.length > 0) yield { data: out, compressedConsumed: deflateStart + inflater.bytesConsumed };
      }
      if (!inflater.finished) break;
      const trailer = await r.read(8);
      if (!trailer) break;
      const view = new DataView(trailer.buffer, trailer.byteOffset, 8);
      const wantCrc = view.getUint32(0, true);
      const wantSize = view.getUint32(4, true);
      if (wantCrc !== crc) {
        throw new LayerslayerError("CORRUPT", `gzip member ${members + 1} (offset ${memberStart}): CRC32 mismatch (stored ${hex8(wantCrc)}, computed ${hex8(crc)})`);
      }
      if (wantSize !== size % 0x1_0000_0000) {
        throw new LayerslayerError("CORRUPT", `gzip member ${members + 1} (offset ${memberStart}): length mismatch (stored ${wantSize}, decoded ${size} mod 2^32)`);
      }
      members++;
    }
  } finally {
    await r.close();
  }
  return { compressedConsumed: r.offset, decompressed, ended, members };
}
