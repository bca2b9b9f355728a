/**
 * Which decoder a layer needs, from its first bytes. The magic bytes win over the media type when
 * they disagree: registries and build tools mislabel layers (gzip served as ".tar", tar as "+gzip").
 */

import { LayerslayerError } from "../errors.ts";
import { hexBytes } from "./gzip-header.ts";
import type { CodecName } from "./types.ts";

export type Sniffed = CodecName | "unknown";

/** Bytes to look at for a confident answer (one tar header block). */
export const SNIFF_BYTES = 512;

function startsWith(b: Uint8Array, sig: readonly number[], at = 0): boolean {
  if (b.length < at + sig.length) return false;
  for (let i = 0; i < sig.length; i++) if (b[at + i] !== sig[i]) return false;
  return true;
}

const ascii = (s: string): number[] => Array.from(s, (c) => c.charCodeAt(0));

const GZIP = [0x1f, 0x8b];
const ZSTD = [0x28, 0xb5, 0x2f, 0xfd];
const USTAR = ascii("ustar");

function isZstdSkippable(b: Uint8Array): boolean {
  return b.length >= 4 && (b[0]! & 0xf0) === 0x50 && b[1] === 0x2a && b[2] === 0x4d && b[3] === 0x18;
}

/** True when `b` starts with a whole 512-byte block of zeros (an empty tar archive). */
function zeroBlock(b: Uint8Array): boolean {
  if (b.length < 512) return false;
  for (let i = 0; i < 512; i++) if (b[i] !== 0) return false;
  return true;
}

/**
 * True when `b` starts with a tar header whose checksum field matches its bytes: how pre-POSIX
 * (v7) headers, which have no "ustar" magic, are recognised. Both the unsigned sum (the standard)
 * and the signed one (some old tars) are accepted.
 */
export function tarChecksumOk(b: Uint8Array): boolean {
  if (b.length < 512) return false;
  let i = 148;
  const end = 156;
  while (i < end && (b[i] === 0x20 || b[i] === 0)) i++;
  let stored = 0;
  let digits = 0;
  while (i < end && b[i]! >= 0x30 && b[i]! <= 0x37) {
    stored = stored * 8 + (b[i]! - 0x30);
    digits++;
    i++;
  }
  if (digits === 0) return false;
  let unsigned = 0;
  let signed = 0;
  for (let k = 0; k < 512; k++) {
    const v = k >= 148 && k < 156 ? 0x20 : b[k]!;
    unsigned += v;
    signed += v > 127 ? v - 256 : v;
  }
  // A block of zeros with a checksum field written in would "match" too: require a name.
  return b[0] !== 0 && (stored === unsigned || stored === signed);
}

/** The codec the bytes at the start of a layer call for; "unknown" when none fits (or too few bytes). */
export function sniff(first: Uint8Array): Sniffed {
  if (startsWith(first, GZIP)) return "gzip";
  if (startsWith(first, ZSTD) || isZstdSkippable(first)) return "zstd";
  if (startsWith(first, USTAR, 257)) return "tar";
  if (zeroBlock(first) || tarChecksumOk(first)) return "tar";
  return "unknown";
}

const OTHER_FORMATS: ReadonlyArray<{ sig: number[]; at?: number; what: string }> = [
  { sig: ascii("BZh"), what: "bzip2-compressed" },
  { sig: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], what: "xz-compressed" },
  { sig: [0x04, 0x22, 0x4d, 0x18], what: "lz4-compressed" },
  { sig: ascii("LZIP"), what: "lzip-compressed" },
  { sig: [0x1f, 0x9d], what: "compress(1)-compressed (.Z)" },
  { sig: [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c], what: "a 7-Zip archive" },
  { sig: ascii("PK\x03\x04"), what: "a zip archive" },
  { sig: ascii("PK\x05\x06"), what: "an (empty) zip archive" },
  { sig: ascii("hsqs"), what: "a SquashFS image" },
  { sig: ascii("#!/usr/bin/env run-singularity"), what: "a Singularity (SIF) image" },
  { sig: [0x00, 0x61, 0x73, 0x6d], what: "a WebAssembly module" },
  { sig: ascii("!<arch>\n"), what: "an ar archive" },
];

/**
 * Names a common format that is not a layer archive, for error messages: "bzip2-compressed",
 * "a zip archive", "JSON", ... or undefined when the bytes are not recognised.
 */
export function identifyOther(first: Uint8Array): string | undefined {
  for (const f of OTHER_FORMATS) if (startsWith(first, f.sig, f.at)) return f.what;
  let i = 0;
  while (i < first.length && i < 64 && (first[i] === 0x20 || first[i] === 0x09 || first[i] === 0x0a || first[i] === 0x0d)) i++;
  if (first[i] === 0xef && first[i + 1] === 0xbb && first[i + 2] === 0xbf) i += 3; // UTF-8 BOM
  if (first[i] === 0x7b || first[i] === 0x5b) return "JSON";
  if (first[i] === 0x3c) return "HTML or XML";
  return undefined;
}

/** The codec a layer media type names, or undefined when it names none (e.g. not a layer type). */
export function codecFromMediaType(mediaType: string): CodecName | undefined {
  const mt = mediaType.toLowerCase().split(";")[0]!.trim();
  if (/[+.]gzip$/.test(mt) || mt.endsWith("+gz")) return "gzip";
  if (/[+.]zstd$/.test(mt)) return "zstd";
  if (/[+.]tar$/.test(mt) || mt === "application/x-tar") return "tar";
  return undefined;
}

const MAGIC_OF: Record<CodecName, number[]> = { gzip: GZIP, zstd: ZSTD, tar: [] };

/**
 * Picks the decoder for a layer from its first bytes (give `SNIFF_BYTES` of them when the layer is
 * that long): the magic bytes decide; the media type only breaks ties when there are too few bytes
 * to tell. Throws UNSUPPORTED, naming what was found, when nothing fits.
 */
export function codecFor(first: Uint8Array, mediaType: string): CodecName {
  const sniffed = sniff(first);
  if (sniffed !== "unknown") return sniffed;
  const declared = codecFromMediaType(mediaType);
  const label = mediaType ? ` (media type ${mediaType})` : "";
  const other = identifyOther(first);
  if (other) throw new LayerslayerError("UNSUPPORTED", `layer is ${other}, which is not supported${label}`);
  if (first.length === 0) return declared ?? "tar";
  if (first.length < SNIFF_BYTES && declared) {
    // Too short to be sure: a truncated start of what the media type says is still plausible.
    if (declared === "tar") return "tar";
    const magic = MAGIC_OF[declared];
    if (first.length < magic.length && startsWith(first, magic.slice(0, first.length))) return declared;
  }
  throw new LayerslayerError("UNSUPPORTED", `layer starts with bytes ${hexBytes(first)}, not gzip, zstd or tar${label}`);
}
