/**
 * GNU sparse files: the map that says where the stored data goes in the file, and the plan to
 * rebuild the file from it (data fragments from the archive, holes as zeros).
 *
 * Formats (all read as Go's archive/tar reads them): old GNU 'S' (map in the header and its
 * extension blocks, header.ts), PAX 0.0 and 0.1 (map in the PAX records, entry.ts) and PAX 1.0
 * (map in decimal lines at the start of the stored data, padded to whole blocks: here).
 */
import { corrupt, type SparseSegment } from "./header.ts";
import { goInt, SPARSE_MAP, type PaxRecords } from "./pax.ts";

/**
 * Try to read a PAX 1.0 map from the blocks gathered so far ("count\n" then "offset\nlength\n"
 * per fragment). Returns undefined while more blocks are needed; CORRUPT when malformed.
 */
export function parseSparseMap1x0(buf: Uint8Array, offset: number): SparseSegment[] | undefined {
  const lines: string[] = [];
  let start = 0;
  let count = -1;
  for (let i = 0; i < buf.length; i++) {
    if (buf[i] !== 0x0a) continue;
    lines.push(new TextDecoder().decode(buf.subarray(start, i)));
    start = i + 1;
    if (count < 0) {
      const n = goInt(lines[0]!);
      if (n === undefined || n < 0 || !Number.isSafeInteger(2 * n)) throw corrupt("invalid GNU sparse 1.0 map", offset);
      count = n;
    }
    if (lines.length === 1 + 2 * count) break;
  }
  if (count < 0 || lines.length < 1 + 2 * count) return undefined;
  return pairs(lines.slice(1), offset);
}

/** The 0.0/0.1 map from PAX records: "GNU.sparse.numblocks" pairs in "GNU.sparse.map" (0.0's records joined by pax.ts). */
export function parseSparseMapPax(pax: PaxRecords, offset: number): SparseSegment[] {
  const count = goInt(pax.get("GNU.sparse.numblocks") ?? "");
  const text = pax.get(SPARSE_MAP) ?? "";
  const parts = text === "" ? [] : text.split(",");
  if (count === undefined || count < 0 || parts.length !== 2 * count) throw corrupt("invalid GNU sparse map", offset);
  return pairs(parts, offset);
}

/** "offset", "length", … as decimal text → fragments. */
function pairs(tokens: readonly string[], offset: number): SparseSegment[] {
  const map: SparseSegment[] = [];
  for (let i = 0; i + 1 < tokens.length; i += 2) {
    const o = goInt(tokens[i]!);
    const n = goInt(tokens[i + 1]!);
    if (o === undefined || n === undefined) throw corrupt("invalid GNU sparse map", offset);
    map.push({ offset: o, numbytes: n });
  }
  return map;
}

/**
 * The file as a list of pieces: a positive number is that many bytes of stored data, a negative
 * one a hole of that many zero bytes. Empty fragments are dropped.
 */
export function sparsePieces(map: readonly SparseSegment[], size: number): number[] {
  const pieces: number[] = [];
  let at = 0;
  for (const s of map) {
    if (s.numbytes === 0) continue;
    if (s.offset > at) pieces.push(-(s.offset - at));
    pieces.push(s.numbytes);
    at = s.offset + s.numbytes;
  }
  if (size > at) pieces.push(-(size - at));
  return pieces;
}

/** Bytes of stored data the map refers to. */
export function sparseDataBytes(map: readonly SparseSegment[]): number {
  let n = 0;
  for (const s of map) n += s.numbytes;
  return n;
}
