/**
 * The decoder stage: compressed layer bytes in, tar bytes out, each chunk tagged with the
 * compressed bytes consumed to produce everything up to its end: exactly, or as an upper bound,
 * depending on the decoder (see `OffsetPrecision`).
 *
 * Decoders form a set: per codec an exact one (our framing around fflate or fzstd: every offset to
 * the byte, needed for a byte budget, entry offsets and checkpoints) and, for gzip and zstd, a
 * native one (Bun's zlib and libzstd: several times faster, offsets bounded). The caller says what
 * it needs; `chooseDecoder` gives the fastest decoder that provides it. Both kinds check the same
 * things (gzip CRC32/ISIZE of every member, zstd checksums and content sizes, framing, zero padding)
 * and list the same entries; test/codec/differential.test.ts holds them to it.
 */

import type { DecodedChunk } from "../types.ts";
import { passthrough } from "./plain.ts";
import { codecFor, SNIFF_BYTES } from "./sniff.ts";
import type { GunzipOptions } from "./gzip.ts";
import type { ZstdOptions } from "./zstd.ts";
import type { CodecName, DecodeFn, DecodeOptions, DecodeSummary, Decoder, OffsetPrecision } from "./types.ts";

export type { CodecName, DecodeFn, DecodeOptions, DecodeSummary, Decoder, OffsetPrecision } from "./types.ts";
export { codecFor, codecFromMediaType, identifyOther, sniff, SNIFF_BYTES } from "./sniff.ts";
export { passthrough } from "./plain.ts";

/** Every decoder, fastest first within a codec. */
export const DECODERS: readonly Decoder[] = [
  { codec: "gzip", offsets: "bounded", name: "zlib", load: () => import("./native-gzip.ts").then((m) => m.nativeGunzip) },
  { codec: "gzip", offsets: "exact", name: "fflate", load: () => import("./gzip.ts").then((m) => (s) => m.gunzip(s)) },
  { codec: "zstd", offsets: "bounded", name: "libzstd", load: () => import("./native-zstd.ts").then((m) => m.nativeZstd) },
  { codec: "zstd", offsets: "exact", name: "fzstd", load: () => import("./zstd.ts").then((m) => (s) => m.zstdDecode(s)) },
  { codec: "tar", offsets: "exact", name: "plain", load: async () => passthrough },
];

/** The fastest decoder for `codec` whose offsets are what `need` asks for (exact ones satisfy "bounded"). */
export function chooseDecoder(codec: CodecName, need: OffsetPrecision): Decoder {
  const d = DECODERS.find((x) => x.codec === codec && (need === "bounded" || x.offsets === "exact"));
  if (!d) throw new Error(`no ${need} decoder for ${codec}`);
  return d;
}

export type LayerSummary = DecodeSummary & { codec: CodecName; offsets: OffsetPrecision; decoder: string };

export interface DecodeLayerOptions extends DecodeOptions {
  /** What the chunks' `compressedConsumed` must be (default "exact"). */
  offsets?: OffsetPrecision;
  /** For a gzip layer: the exact decoder with these options (checkpoints to record). */
  gzip?: GunzipOptions;
  /** For a zstd layer: the exact decoder with these options (frame starts to record). */
  zstd?: ZstdOptions;
  /** Told which decoder was chosen, before it starts. */
  onDecoder?: (decoder: Decoder) => void;
}

/** Whether a source iterator has finished or been closed (so nobody closes it twice). */
interface SourceState {
  closed: boolean;
}

async function closeSource(it: AsyncIterator<Uint8Array>, state: SourceState): Promise<void> {
  if (state.closed) return;
  state.closed = true;
  await it.return?.();
}

/** Yields the chunks in `head`, then the rest of `it`; closes `it` when closed early. */
async function* prefixed(head: Uint8Array[], it: AsyncIterator<Uint8Array>, state: SourceState): AsyncGenerator<Uint8Array, void> {
  try {
    for (const chunk of head) yield chunk;
    for (;;) {
      const r = await it.next();
      if (r.done) {
        state.closed = true;
        return;
      }
      yield r.value;
    }
  } finally {
    await closeSource(it, state);
  }
}

/**
 * Decodes one layer blob. Reads up to `SNIFF_BYTES` first to choose the codec by magic bytes
 * (`mediaType` only matters when the blob is too short to tell), then streams through the decoder
 * `chooseDecoder` picks for the offsets asked for. Stopping the iteration early (break, return(), a
 * throw in the consumer) closes `source`, which aborts the download behind it. Throws UNSUPPORTED
 * for a format we can't decode, CORRUPT for bad data; a source that ends early is not an error
 * (`ended: false` in the summary).
 */
export async function* decodeLayer(source: AsyncIterable<Uint8Array>, mediaType: string, options: DecodeLayerOptions = {}): AsyncGenerator<DecodedChunk, LayerSummary> {
  const it = source[Symbol.asyncIterator]();
  const state: SourceState = { closed: false };
  try {
    const head: Uint8Array[] = [];
    let have = 0;
    while (have < SNIFF_BYTES) {
      const r = await it.next();
      if (r.done) {
        state.closed = true;
        break;
      }
      if (r.value.length === 0) continue;
      head.push(r.value);
      have += r.value.length;
    }
    const first = new Uint8Array(Math.min(have, SNIFF_BYTES));
    let at = 0;
    for (const chunk of head) {
      if (at >= first.length) break;
      const part = chunk.subarray(0, first.length - at);
      first.set(part, at);
      at += part.length;
    }
    const codec = codecFor(first, mediaType);
    const gzip = codec === "gzip" ? options.gzip : undefined;
    const zstd = codec === "zstd" ? options.zstd : undefined;
    const decoder = chooseDecoder(codec, gzip || zstd ? "exact" : (options.offsets ?? "exact"));
    options.onDecoder?.(decoder);
    const decode: DecodeFn = gzip
      ? await import("./gzip.ts").then((m) => (s: AsyncIterable<Uint8Array>) => m.gunzip(s, gzip))
      : zstd
        ? await import("./zstd.ts").then((m) => (s: AsyncIterable<Uint8Array>) => m.zstdDecode(s, zstd))
        : await decoder.load();
    const summary = yield* decode(prefixed(head, it, state), options.transient ? { transient: true } : {});
    return { ...summary, codec, offsets: decoder.offsets, decoder: decoder.name };
  } finally {
    // The codec closes its input on every way out; this covers the ways out before it started.
    await closeSource(it, state);
  }
}
