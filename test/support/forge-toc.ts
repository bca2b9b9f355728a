/**
 * Hostile tables of contents: a real eStargz or zstd:chunked layer (made by the reference writers,
 * estargz.ts and zstd-chunked.ts) whose TOC is replaced by one we write ourselves, with the layer's
 * data left as it was. A forged TOC can hide, rename or invent files, decode to hundreds of MB, give
 * absurd chunk numbers, or claim to start at byte 0. The new TOC's digests are computed, so it
 * passes the manifest's check: only the image's author could have written it.
 */
import { parseFooter } from "../../src/toc/footer.ts";
import { concatBytes } from "./bytes.ts";
import { sha256 } from "./push.ts";

export interface TocDoc {
  version?: number;
  entries: Record<string, unknown>[];
}

/** A layer with a TOC, split into its data (before the TOC) and the TOC's document. */
export interface TocLayer {
  format: "estargz" | "zstd:chunked";
  data: Uint8Array;
  doc: TocDoc;
  /** The blob's last bytes after the TOC, kept to reuse the eStargz footer. */
  footer: Uint8Array;
}

export interface ForgedLayer {
  bytes: Uint8Array;
  /** eStargz: the digest of the TOC JSON (for the annotation); zstd:chunked: the layer's annotations. */
  annotations: Record<string, string>;
}

/** The eStargz layer `blob` split at its TOC. */
export function splitEstargz(blob: Uint8Array): TocLayer {
  const loc = parseFooter(blob.subarray(blob.length - 128), blob.length);
  if (loc?.format !== "estargz") throw new Error("not an eStargz blob");
  const member = Bun.gunzipSync(blob.slice(loc.start, loc.end) as Uint8Array<ArrayBuffer>);
  const size = Number.parseInt(new TextDecoder().decode(member.subarray(124, 136)).replace(/\0.*$/, "").trim(), 8);
  const doc = JSON.parse(new TextDecoder().decode(member.subarray(512, 512 + size))) as TocDoc;
  return { format: "estargz", data: blob.slice(0, loc.start), doc, footer: blob.slice(loc.end) };
}

/** The zstd:chunked layer `blob` split at its TOC (whose position the annotation gives). */
export function splitZstdChunked(blob: Uint8Array, position: string): TocLayer {
  const [offset, length] = position.split(":").map(Number) as [number, number];
  const frame = new DataView(blob.buffer, blob.byteOffset + offset - 8, 8);
  if ((frame.getUint32(0, true) & 0xfffffff0) !== 0x184d2a50) throw new Error("the zstd:chunked TOC is not in a skippable frame");
  const doc = JSON.parse(new TextDecoder().decode(Bun.zstdDecompressSync(blob.slice(offset, offset + length)))) as TocDoc;
  return { format: "zstd:chunked", data: blob.slice(0, offset - 8), doc, footer: new Uint8Array() };
}

function tarHeader(name: string, size: number): Uint8Array {
  const h = new Uint8Array(512);
  const put = (at: number, s: string) => h.set(new TextEncoder().encode(s), at);
  put(0, name);
  put(100, "0000644\0");
  put(108, "0000000\0");
  put(116, "0000000\0");
  put(124, `${size.toString(8).padStart(11, "0")}\0`);
  put(136, "00000000000\0");
  put(156, "0");
  put(257, "ustar\x0000");
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  put(148, `${sum.toString(8).padStart(6, "0")}\0 `);
  return h;
}

/**
 * The TOC's JSON, in pieces whose concatenation is the document: `pad` bytes of spaces go before
 * the closing brace in pieces of 1 MiB (each compressed once and repeated: a few hundred KB of
 * compressed TOC that decodes to hundreds of MB).
 */
export interface TocJson {
  doc: TocDoc | string;
  pad?: number;
}

const PAD_PIECE = 1024 * 1024;

function jsonPieces(json: TocJson): { head: Uint8Array; pads: number; lastPad: number; tail: Uint8Array; size: number } {
  const text = typeof json.doc === "string" ? json.doc : JSON.stringify(json.doc);
  const pad = json.pad ?? 0;
  const head = new TextEncoder().encode(text.slice(0, -1));
  const tail = new TextEncoder().encode(text.slice(-1));
  return { head, pads: Math.floor(pad / PAD_PIECE), lastPad: pad % PAD_PIECE, tail, size: head.length + pad + tail.length };
}

function jsonDigest(p: ReturnType<typeof jsonPieces>): string {
  const h = new Bun.CryptoHasher("sha256");
  h.update(p.head);
  const piece = new Uint8Array(PAD_PIECE).fill(0x20);
  for (let i = 0; i < p.pads; i++) h.update(piece);
  h.update(piece.subarray(0, p.lastPad));
  h.update(p.tail);
  return `sha256:${h.digest("hex")}`;
}

/** The same compressed piece `n` times (concatenated gzip members or zstd frames decode as one stream). */
function repeated(piece: Uint8Array, n: number): Uint8Array {
  const out = new Uint8Array(piece.length * n);
  for (let i = 0; i < n; i++) out.set(piece, i * piece.length);
  return out;
}

export interface EstargzForgery extends TocJson {
  /** Where the footer says the TOC starts (default: right after the data). */
  claimStart?: number;
  /** Decoded bytes of a filler tar member put before the TOC's own member (in the TOC's gzip). */
  filler?: number;
}

/** An eStargz blob of `layer`'s data with the TOC `json`. */
export function forgeEstargz(layer: TocLayer, forgery: EstargzForgery): ForgedLayer {
  const p = jsonPieces(forgery);
  const gz = (b: Uint8Array) => Bun.gzipSync(b as Uint8Array<ArrayBuffer>, { level: 9 });
  const parts: Uint8Array[] = [];
  if (forgery.filler) {
    parts.push(gz(tarHeader("filler", forgery.filler)));
    parts.push(repeated(gz(new Uint8Array(PAD_PIECE)), Math.ceil(forgery.filler / PAD_PIECE)));
  }
  parts.push(gz(concatBytes([tarHeader("stargz.index.json", p.size), p.head])));
  parts.push(repeated(gz(new Uint8Array(PAD_PIECE).fill(0x20)), p.pads));
  const end = new Uint8Array(p.lastPad + p.tail.length + ((512 - (p.size % 512)) % 512) + 1024);
  end.fill(0x20, 0, p.lastPad);
  end.set(p.tail, p.lastPad);
  parts.push(gz(end));
  const toc = concatBytes(parts);
  const footer = layer.footer.slice();
  const start = forgery.claimStart ?? layer.data.length;
  footer.set(new TextEncoder().encode(start.toString(16).padStart(16, "0")), 16);
  return { bytes: concatBytes([layer.data, toc, footer]), annotations: { "containerd.io/snapshot/stargz/toc.digest": jsonDigest(p) } };
}

export interface ZstdForgery extends TocJson {
  /** The uncompressed length the annotation and footer announce (default: the true one). */
  claimLength?: number;
  /** Where the annotation and footer say the TOC starts (default: where it is); it still ends where it does. */
  claimStart?: number;
}

function u64(n: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
  return b;
}

function skippable(content: Uint8Array): Uint8Array {
  const h = new Uint8Array(8);
  new DataView(h.buffer).setUint32(0, 0x184d2a50, true);
  new DataView(h.buffer).setUint32(4, content.length, true);
  return concatBytes([h, content]);
}

/** A zstd:chunked blob of `layer`'s data with the TOC `json` (in a skippable frame, footer after it). */
export function forgeZstdChunked(layer: TocLayer, forgery: ZstdForgery): ForgedLayer {
  const p = jsonPieces(forgery);
  const z = (b: Uint8Array) => Bun.zstdCompressSync(b as Uint8Array<ArrayBuffer>, { level: 19 });
  const lastPad = new Uint8Array(p.lastPad).fill(0x20);
  const toc = concatBytes([z(p.head), repeated(z(new Uint8Array(PAD_PIECE).fill(0x20)), p.pads), z(concatBytes([lastPad, p.tail]))]);
  // A claimed start moves the TOC's start, not its end: an early start spans the layer's data.
  const offset = forgery.claimStart ?? layer.data.length + 8;
  const compressed = layer.data.length + 8 + toc.length - offset;
  const length = forgery.claimLength ?? p.size;
  const footer = skippable(concatBytes([u64(offset), u64(compressed), u64(length), u64(1), new TextEncoder().encode("GnUlInUx")]));
  return {
    bytes: concatBytes([layer.data, skippable(toc), footer]),
    annotations: {
      "io.containers.zstd-chunked.manifest-position": `${offset}:${compressed}:${length}:1`,
      "io.containers.zstd-chunked.manifest-checksum": sha256(toc),
    },
  };
}

/** `doc` with its entries passed through `edit` (entries are copied: `layer.doc` stays as it was). */
export function editToc(doc: TocDoc, edit: (entries: Record<string, unknown>[]) => Record<string, unknown>[]): TocDoc {
  return { ...doc, entries: edit(doc.entries.map((e) => ({ ...e }))) };
}
