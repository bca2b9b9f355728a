/**
 * Reading a located TOC: fetch its compressed bytes, check them against the digest the manifest
 * announces (eStargz: the JSON's digest; zstd:chunked: the compressed bytes' digest), decode, parse.
 */
import { LayerslayerError } from "../errors.ts";
import { digestAlgorithm, digestOf } from "../oci/digest.ts";
import { decodeBytes, tarMember } from "./decode.ts";
import { tocListing } from "./entries.ts";
import type { LayerToc, TocLocation } from "./types.ts";

/**
 * Ceiling on a TOC's decoded JSON, whatever the layer. Real TOCs are far smaller: ~330 bytes of JSON
 * an entry, a few MB for a rootfs of ten thousand files (the 64 MB rootfs of FACTS.md: 0.3 to 0.6 MB
 * compressed). Parsing costs ~5 times the JSON (measured: 6.5 MiB of JSON, 20,000 entries, +46 MiB
 * RSS; 65 MiB, 200,000 entries, +324 MiB), so a layer of more than ~50,000 entries is listed from
 * its stream instead, which needs far less memory.
 */
export const MAX_TOC_JSON = 16 * 1024 * 1024;
/** The JSON may also be at most this many times the layer's compressed size (plus a small floor). */
export const TOC_JSON_PER_LAYER_BYTE = 32;
const TOC_JSON_FLOOR = 1024 * 1024;
/**
 * The compressed TOC may be at most half the layer (plus a small floor): a TOC is ~1 % of a real
 * layer, and a TOC claimed to span the tar data would otherwise be downloaded before the layer is
 * read the ordinary way, the whole blob twice.
 */
const TOC_COMPRESSED_FLOOR = 64 * 1024;

/** The most decoded TOC JSON accepted for a layer of `layerSize` compressed bytes. */
export function maxTocJson(layerSize: number): number {
  return Math.min(MAX_TOC_JSON, TOC_JSON_FLOOR + TOC_JSON_PER_LAYER_BYTE * layerSize);
}

/** Reads bytes [start, end) of the blob. */
export type RangeRead = (start: number, end: number) => Promise<Uint8Array>;

function checkDigest(bytes: Uint8Array, expected: string, what: string): void {
  let got: string;
  try {
    got = digestOf(bytes, digestAlgorithm(expected));
  } catch {
    throw new LayerslayerError("CORRUPT", `${what}: the announced digest ${expected.slice(0, 80)} is not a digest`);
  }
  if (got !== expected) throw new LayerslayerError("CORRUPT", `${what} hashes to ${got}, not the announced ${expected}`);
}

function parseJson(bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new LayerslayerError("CORRUPT", `${what} is not valid JSON`);
  }
}

/** Why the TOC at `loc` of a `layerSize`-byte layer is not even fetched, or undefined when it may be. */
function implausible(loc: TocLocation, layerSize: number, what: string): string | undefined {
  const length = loc.end - loc.start;
  // The tar stream starts at byte 0: a TOC there (or one spanning most of the layer) overlaps it.
  if (loc.start <= 0) return `${what} is said to start at byte 0, where the layer's tar data starts`;
  if (length > TOC_COMPRESSED_FLOOR && length > layerSize / 2) return `${what} is said to be ${length} of the layer's ${layerSize} bytes, more than half of it`;
  const json = maxTocJson(layerSize);
  if (length > json) return `${what} is ${length} compressed bytes, more than the ${json} we decode for this layer`;
  if (loc.format === "zstd:chunked") {
    const size = loc.uncompressedLength ?? 0;
    if (size <= 0 || size > json) return `${what} announces ${size} uncompressed bytes${size > json ? `, more than the ${json} we decode for this layer` : ""}`;
  }
  return undefined;
}

/**
 * Fetches, checks and parses the TOC at `loc` of a layer of `layerSize` compressed bytes;
 * `expected` is the announced digest, if any. Its decoded JSON is bounded (maxTocJson): the decoder
 * stops as soon as it passes the bound.
 */
export async function readToc(read: RangeRead, loc: TocLocation, expected: string | undefined, layerSize: number): Promise<LayerToc> {
  const what = `the ${loc.format === "estargz" ? "eStargz" : "zstd:chunked"} TOC`;
  const length = loc.end - loc.start;
  const refused = implausible(loc, layerSize, what);
  if (refused) throw new LayerslayerError("CORRUPT", refused);
  const raw = await read(loc.start, loc.end);
  let json: Uint8Array;
  if (loc.format === "estargz") {
    json = await tarMember(raw, "stargz.index.json", maxTocJson(layerSize), what);
    if (expected) checkDigest(json, expected, what);
  } else {
    if (expected) checkDigest(raw, expected, what);
    json = await decodeBytes("zstd", raw, loc.uncompressedLength!, what, true);
  }
  const { entries, content } = tocListing(parseJson(json, what), loc.format, loc.start);
  return { format: loc.format, entries, content, tocBytes: length, jsonBytes: json.length, checked: expected !== undefined };
}
