/**
 * One fuzz case: pick a seed, mutate it (the compressed bytes, or the tar before compressing it
 * again so the tar reader gets past the decoder), and drive it through the decode and tar path
 * in pieces of random sizes. Returns normally when the path ended or threw our own typed error;
 * anything else (another exception, a broken offset invariant) is thrown to the harness.
 */
import { decodeLayer } from "../../src/codec/index.ts";
import { gunzip } from "../../src/codec/gzip.ts";
import { nativeGunzip } from "../../src/codec/native-gzip.ts";
import { nativeZstd } from "../../src/codec/native-zstd.ts";
import { zstdDecode } from "../../src/codec/zstd.ts";
import { LayerslayerError } from "../../src/errors.ts";
import { readTar } from "../../src/tar/reader.ts";
import type { DecodedChunk } from "../../src/types.ts";
import type { Seed } from "./corpus.ts";
import { int, mutate, type Rng } from "./mutate.ts";

export interface FuzzCase {
  /** How the input was made, for the failure report. */
  label: string;
  input: Uint8Array;
}

const MEDIA_TYPES = [
  "application/vnd.oci.image.layer.v1.tar+gzip",
  "application/vnd.oci.image.layer.v1.tar+zstd",
  "application/vnd.oci.image.layer.v1.tar",
  "application/vnd.docker.image.rootfs.diff.tar.gzip",
];

/** What must never reach a terminal raw (see escapeName in src/output/format.ts). */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** An invariant of the decode path does not hold: a bug, whatever the input. */
export class InvariantBroken extends Error {}

/** Yields `data` whole, in big pieces, or in pieces of 1 to 64 bytes. */
async function* pieces(rnd: Rng, data: Uint8Array): AsyncGenerator<Uint8Array> {
  const style = int(rnd, 3);
  const max = style === 0 ? data.length : style === 1 ? 4096 : 64;
  for (let at = 0; at < data.length;) {
    const n = Math.max(1, 1 + int(rnd, max));
    yield data.subarray(at, at + n);
    at += n;
  }
}

/** Checks that compressed offsets only grow and never pass the input. */
async function* checked(source: AsyncGenerator<DecodedChunk, unknown>, inputLength: number): AsyncGenerator<DecodedChunk, void> {
  let last = 0;
  for await (const chunk of source) {
    if (!(chunk.compressedConsumed >= last && chunk.compressedConsumed <= inputLength)) {
      throw new InvariantBroken(`compressedConsumed ${chunk.compressedConsumed} after ${last} (input ${inputLength} bytes)`);
    }
    if (chunk.data.byteLength === 0) throw new InvariantBroken("an empty decoded chunk");
    last = chunk.compressedConsumed;
    yield chunk;
  }
}

export function makeCase(rnd: Rng, seeds: readonly Seed[]): { fuzz: FuzzCase; mode: number } {
  const seed = seeds[int(rnd, seeds.length)]!;
  const other = seeds[int(rnd, seeds.length)]!;
  const mode = int(rnd, 4);
  if (mode === 0) {
    // Mutate a tar, then compress it properly: the tar reader sees the junk.
    const tars = seeds.filter((s) => s.codec === "tar");
    const tar = tars[int(rnd, tars.length)]!;
    const bad = mutate(rnd, tar.bytes, tars[int(rnd, tars.length)]!.bytes, true);
    const how = int(rnd, 3);
    const input = how === 0 ? bad : how === 1 ? Bun.gzipSync(bad as Uint8Array<ArrayBuffer>, { level: 1 }) : Bun.zstdCompressSync(bad as Uint8Array<ArrayBuffer>, { level: 1 });
    return { fuzz: { label: `${tar.name} mutated, then ${["plain", "gzip", "zstd"][how]}`, input }, mode };
  }
  const input = mutate(rnd, seed.bytes, other.bytes, seed.codec === "tar");
  return { fuzz: { label: `${seed.name} mutated (splice partner ${other.name})`, input }, mode };
}

/** Runs one case to its end. Our typed errors are fine; anything else propagates. */
export async function runCase(rnd: Rng, seeds: readonly Seed[]): Promise<FuzzCase> {
  const { fuzz, mode } = makeCase(rnd, seeds);
  const input = fuzz.input;
  try {
    if (mode === 3) {
      // A decoder alone, whatever the magic says.
      const dec = [gunzip, zstdDecode, nativeGunzip, nativeZstd][int(rnd, 4)]!(pieces(rnd, input));
      for await (const _ of checked(dec, input.length)) {
      }
      return fuzz;
    }
    const wantAll = rnd() < 0.5;
    // The exact decoders (fflate, fzstd) or the native ones (zlib, libzstd).
    const offsets = rnd() < 0.7 ? "exact" : "bounded";
    const tar = readTar(checked(decodeLayer(pieces(rnd, input), MEDIA_TYPES[int(rnd, MEDIA_TYPES.length)]!, { offsets }), input.length), {
      layer: 0,
      drain: rnd() < 0.3,
      ...(wantAll ? { wantContent: () => true } : {}),
    });
    for await (const _ of tar) {
    }
  } catch (e) {
    if (!(e instanceof LayerslayerError)) throw Object.assign(e instanceof Error ? e : new Error(String(e)), { fuzzCase: fuzz });
    if (UNPRINTABLE.test(e.message)) throw Object.assign(new InvariantBroken(`an error message with a control character: ${JSON.stringify(e.message)}`), { fuzzCase: fuzz });
  }
  return fuzz;
}
