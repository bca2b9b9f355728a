/** The gzip member header (RFC 1952 section 2.3), read from a ByteReader without buffering names. */

import { LayerslayerError } from "../errors.ts";
import type { ByteReader } from "./reader.ts";

export const FTEXT = 0x01;
export const FHCRC = 0x02;
export const FEXTRA = 0x04;
export const FNAME = 0x08;
export const FCOMMENT = 0x10;
const FRESERVED = 0xe0;

/** How much of a file name or comment to look at per read. */
const SCAN = 64 * 1024;

export interface GzipHeader {
  flags: number;
  /** Modification time, seconds since the epoch (0 = none). */
  mtime: number;
  os: number;
  /** Header length in bytes, optional fields included. */
  length: number;
}

export function hexBytes(b: Uint8Array, max = 8): string {
  const shown = Array.from(b.subarray(0, max), (x) => x.toString(16).padStart(2, "0")).join(" ");
  return b.length > max ? `${shown} …` : shown;
}

const crc32 = (data: Uint8Array, crc: number): number => Bun.hash.crc32(data, crc) >>> 0;

/**
 * Reads `n` bytes and folds them into the running header CRC; returns the new CRC, or null when the
 * stream ends first.
 */
async function consume(r: ByteReader, n: number, crc: number): Promise<number | null> {
  let left = n;
  while (left > 0) {
    const b = await r.readUpTo(Math.min(left, SCAN));
    if (!b) return null;
    crc = crc32(b, crc);
    left -= b.length;
  }
  return crc;
}

/** Consumes a zero-terminated field (name or comment), folding it into the CRC; null at end of stream. */
async function consumeString(r: ByteReader, crc: number): Promise<number | null> {
  for (;;) {
    const b = await r.readUpTo(SCAN);
    if (!b) return null;
    const nul = b.indexOf(0);
    if (nul >= 0) {
      r.unread(b.length - nul - 1);
      return crc32(b.subarray(0, nul + 1), crc);
    }
    crc = crc32(b, crc);
  }
}

/**
 * Reads one member header. `member` is the 0-based index of the member (only used in messages: the
 * first one says the data is not gzip, later ones that garbage follows a member). Returns null when
 * the stream ends inside the header; throws CORRUPT on anything malformed.
 */
export async function readGzipHeader(r: ByteReader, member: number): Promise<GzipHeader | null> {
  const start = r.offset;
  const magic = await r.read(2);
  if (!magic) return null;
  if (magic[0] !== 0x1f || magic[1] !== 0x8b) {
    const msg = member === 0 ? `not gzip data: starts with bytes ${hexBytes(magic)}` : `unexpected bytes ${hexBytes(magic)} after gzip member ${member} at offset ${start}`;
    throw new LayerslayerError("CORRUPT", msg);
  }
  const rest = await r.read(8);
  if (!rest) return null;
  const cm = rest[0]!;
  const flags = rest[1]!;
  if (cm !== 8) {
    throw new LayerslayerError("CORRUPT", `gzip member ${member + 1} at offset ${start} uses compression method ${cm}, not deflate`);
  }
  if (flags & FRESERVED) {
    throw new LayerslayerError("CORRUPT", `gzip member ${member + 1} at offset ${start} sets reserved header flags (0x${flags.toString(16)})`);
  }
  const mtime = (rest[2]! | (rest[3]! << 8) | (rest[4]! << 16) | (rest[5]! << 24)) >>> 0;
  const os = rest[7]!;
  let crc: number | null = crc32(rest, crc32(magic, 0));
  if (flags & FEXTRA) {
    const xlen = await r.read(2);
    if (!xlen) return null;
    crc = await consume(r, xlen[0]! | (xlen[1]! << 8), crc32(xlen, crc));
    if (crc === null) return null;
  }
  if (flags & FNAME) {
    crc = await consumeString(r, crc);
    if (crc === null) return null;
  }
  if (flags & FCOMMENT) {
    crc = await consumeString(r, crc);
    if (crc === null) return null;
  }
  if (flags & FHCRC) {
    const stored = await r.read(2);
    if (!stored) return null;
    const want = stored[0]! | (stored[1]! << 8);
    if ((crc & 0xffff) !== want) {
      throw new LayerslayerError("CORRUPT", `gzip member ${member + 1} at offset ${start}: header CRC mismatch (stored ${hex4(want)}, computed ${hex4(crc & 0xffff)})`);
    }
  }
  return { flags, mtime, os, length: r.offset - start };
}

function hex4(n: number): string {
  return n.toString(16).padStart(4, "0");
}
