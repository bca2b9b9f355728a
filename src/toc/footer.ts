/**
 * Finding a TOC from the blob's last bytes or the layer's annotations.
 *
 * eStargz ends with an empty gzip member whose extra field holds the TOC's offset: 51 bytes with
 * the field as subfield "SG" (LEN 22, "%016x" offset + "STARGZ"), or 47 bytes in legacy stargz
 * (the 22 bytes directly, XLEN 22). The TOC is the gzip member from that offset to the footer.
 *
 * zstd:chunked ends with a zstd skippable frame whose content is little-endian u64 fields
 * (TOC offset, compressed length, uncompressed length, TOC type, possibly more in newer writers)
 * followed by the magic "GnUlInUx"; the layer's annotations say the same as
 * `io.containers.zstd-chunked.manifest-position` = "offset:length:uncompressedLength:type".
 */
import type { TocLocation } from "./types.ts";

export const ESTARGZ_FOOTER = 51;
export const LEGACY_STARGZ_FOOTER = 47;
/** Bytes read from the blob's tail: enough for every footer we know. */
export const TAIL_BYTES = 128;

export const ANNOTATION = {
  estargzToc: "containerd.io/snapshot/stargz/toc.digest",
  zstdPosition: "io.containers.zstd-chunked.manifest-position",
  zstdChecksum: "io.containers.zstd-chunked.manifest-checksum",
} as const;

const ZSTD_CHUNKED_MAGIC = "GnUlInUx";
/** zstd:chunked TOC type 1: the JSON manifest (zstd-compressed). */
const ZSTD_TOC_JSON = 1;

const ascii = (b: Uint8Array) => String.fromCharCode(...b);

function u64(b: Uint8Array, at: number): number {
  const v = new DataView(b.buffer, b.byteOffset + at, 8).getBigUint64(0, true);
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? -1 : Number(v);
}

/** The offset in a "%016xSTARGZ" field, or -1. */
function stargzOffset(field: Uint8Array): number {
  const s = ascii(field);
  const m = /^([0-9a-f]{16})STARGZ$/.exec(s);
  return m ? Number.parseInt(m[1]!, 16) : -1;
}

/** An eStargz or legacy stargz footer at the end of `tail` (the blob's last bytes). */
function estargzFooter(tail: Uint8Array, blobSize: number): TocLocation | undefined {
  const tryAt = (size: number, field: (f: Uint8Array) => Uint8Array | undefined): TocLocation | undefined => {
    if (tail.length < size) return undefined;
    const f = tail.subarray(tail.length - size);
    if (f[0] !== 0x1f || f[1] !== 0x8b || f[2] !== 8 || (f[3]! & 4) === 0) return undefined;
    const extra = field(f);
    const offset = extra ? stargzOffset(extra) : -1;
    const end = blobSize - size;
    if (offset < 0 || offset >= end) return undefined;
    return { format: "estargz", start: offset, end, from: "footer" };
  };
  return (
    tryAt(ESTARGZ_FOOTER, (f) => (f[10] === 26 && f[11] === 0 && f[12] === 0x53 && f[13] === 0x47 && f[14] === 22 && f[15] === 0 ? f.subarray(16, 38) : undefined)) ??
    tryAt(LEGACY_STARGZ_FOOTER, (f) => (f[10] === 22 && f[11] === 0 ? f.subarray(12, 34) : undefined))
  );
}

/** A zstd:chunked footer: a skippable frame reaching the blob's end, content ending in the magic. */
function zstdChunkedFooter(tail: Uint8Array, blobSize: number): TocLocation | undefined {
  if (tail.length < 48 || ascii(tail.subarray(tail.length - 8)) !== ZSTD_CHUNKED_MAGIC) return undefined;
  for (let at = tail.length - 48; at >= 0; at--) {
    const view = new DataView(tail.buffer, tail.byteOffset + at, 8);
    const magic = view.getUint32(0, true);
    if ((magic & 0xfffffff0) !== 0x184d2a50 || view.getUint32(4, true) !== tail.length - at - 8) continue;
    const fields = at + 8;
    const offset = u64(tail, fields);
    const length = u64(tail, fields + 8);
    const uncompressed = u64(tail, fields + 16);
    const type = u64(tail, fields + 24);
    const footerStart = blobSize - (tail.length - at);
    if (type !== ZSTD_TOC_JSON || offset < 0 || length <= 0 || uncompressed < 0 || offset + length > footerStart) return undefined;
    return { format: "zstd:chunked", start: offset, end: offset + length, uncompressedLength: uncompressed, from: "footer" };
  }
  return undefined;
}

/** The TOC a footer in the blob's last bytes points to, if there is one. */
export function parseFooter(tail: Uint8Array, blobSize: number): TocLocation | undefined {
  return estargzFooter(tail, blobSize) ?? zstdChunkedFooter(tail, blobSize);
}

/**
 * The zstd:chunked TOC the annotations announce. Undefined when none is announced; a string (the
 * reason) when one is announced but the annotation cannot be right.
 */
export function zstdChunkedAnnotation(annotations: Record<string, string> | undefined, blobSize: number): TocLocation | string | undefined {
  const pos = annotations?.[ANNOTATION.zstdPosition];
  if (pos === undefined) return undefined;
  const m = /^(\d{1,15}):(\d{1,15}):(\d{1,15}):(\d{1,15})$/.exec(pos);
  if (!m) return `the zstd:chunked TOC position "${pos.slice(0, 80)}" is not offset:length:uncompressedLength:type`;
  const [offset, length, uncompressed, type] = m.slice(1).map(Number) as [number, number, number, number];
  if (type !== ZSTD_TOC_JSON) return `the zstd:chunked TOC has type ${type}, not ${ZSTD_TOC_JSON}`;
  if (length === 0 || offset + length > blobSize) return `the zstd:chunked TOC position ${offset}:${length} lies outside the ${blobSize}-byte blob`;
  return { format: "zstd:chunked", start: offset, end: offset + length, uncompressedLength: uncompressed, from: "annotation" };
}
