/**
 * Reading a located TOC: fetch its compressed bytes, check them against the digest the manifest
 * announces (eStargz: the JSON's digest; zstd:chunked: the compressed bytes' digest), decode, parse.
 */
import { LayerslayerError } from "../errors.ts";
import { digestAlgorithm, digestOf } from "../oci/digest.ts";
import { decodeBytes, tarMember } from "./decode.ts";
import { tocListing } from "./entries.ts";
import type { LayerToc, TocLocation } from "./types.ts";

/** Ceiling on a TOC's compressed and decoded size: a 1,000,000-entry TOC is ~300 MB of JSON. */
export const MAX_TOC_BYTES = 512 * 1024 * 1024;

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

/** Fetches, checks and parses the TOC at `loc`; `expected` is the announced digest, if any. */
export async function readToc(read: RangeRead, loc: TocLocation, expected: string | undefined): Promise<LayerToc> {
  const what = `the ${loc.format === "estargz" ? "eStargz" : "zstd:chunked"} TOC`;
  const length = loc.end - loc.start;
  if (length > MAX_TOC_BYTES) throw new LayerslayerError("CORRUPT", `${what} is ${length} bytes, more than we read`);
  const raw = await read(loc.start, loc.end);
  let json: Uint8Array;
  if (loc.format === "estargz") {
    json = await tarMember(raw, "stargz.index.json", MAX_TOC_BYTES, what);
    if (expected) checkDigest(json, expected, what);
  } else {
    if (expected) checkDigest(raw, expected, what);
    const size = loc.uncompressedLength ?? 0;
    if (size <= 0 || size > MAX_TOC_BYTES) throw new LayerslayerError("CORRUPT", `${what} announces ${size} uncompressed bytes`);
    json = await decodeBytes("zstd", raw, size, what, true);
  }
  const { entries, content } = tocListing(parseJson(json, what), loc.format, loc.start);
  return { format: loc.format, entries, content, tocBytes: length, jsonBytes: json.length, checked: expected !== undefined };
}
