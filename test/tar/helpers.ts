/** Test helpers for the tar stage: chunked sources, listing, hand-built headers. */
import { readTar, type ReadTarOptions, type TarEvent, type TarSummary } from "../../src/tar/reader.ts";
import type { DecodedChunk, Entry } from "../../src/types.ts";
import { concatBytes } from "../support/bytes.ts";

const enc = new TextEncoder();

export interface SourceStats {
  pulled: number;
  closed: boolean;
  finished: boolean;
}

/**
 * Feed `bytes` in chunks of `size` (copies, so the reader cannot rely on a shared buffer).
 * compressedConsumed defaults to the tar offset at the chunk's end.
 */
export function chunked(
  bytes: Uint8Array,
  size: number,
  stats: SourceStats = { pulled: 0, closed: false, finished: false },
  consumed: (end: number) => number = (end) => end,
): AsyncIterable<DecodedChunk> {
  return {
    async *[Symbol.asyncIterator]() {
      try {
        for (let o = 0; o < bytes.length; o += size) {
          const end = Math.min(bytes.length, o + size);
          stats.pulled++;
          yield { data: bytes.slice(o, end), compressedConsumed: consumed(end) };
        }
        stats.finished = true;
      } finally {
        stats.closed = true;
      }
    },
  };
}

export interface Listing {
  entries: Entry[];
  events: TarEvent[];
  summary?: TarSummary;
  error?: unknown;
}

/** Run the reader to its end (or error), collecting everything. Data chunks are copied. */
export async function list(source: AsyncIterable<DecodedChunk>, opts?: ReadTarOptions): Promise<Listing> {
  const out: Listing = { entries: [], events: [] };
  const g = readTar(source, opts);
  try {
    for (;;) {
      const r = await g.next();
      if (r.done) {
        out.summary = r.value;
        break;
      }
      const ev = r.value;
      if (ev.kind === "entry") out.entries.push(ev.entry);
      out.events.push(ev.kind === "data" ? { ...ev, chunk: ev.chunk.slice() } : ev);
    }
  } catch (e) {
    out.error = e;
  }
  return out;
}

export function listBytes(bytes: Uint8Array, size = 65536, opts?: ReadTarOptions): Promise<Listing> {
  return list(chunked(bytes, size), opts);
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  return concatBytes(parts);
}

/** Pad to a multiple of 512 with zeros. */
export function padBlock(b: Uint8Array): Uint8Array {
  const n = Math.ceil(b.length / 512) * 512;
  if (n === b.length) return b;
  const out = new Uint8Array(n);
  out.set(b);
  return out;
}

export const END = new Uint8Array(1024);

export interface HeaderSpec {
  name?: string | Uint8Array;
  mode?: number;
  uid?: number;
  gid?: number;
  /** A number (octal) or raw 12 bytes (e.g. base-256). */
  size?: number | Uint8Array;
  mtime?: number | Uint8Array;
  typeflag?: string;
  linkname?: string;
  magic?: "ustar" | "gnu" | "v7";
  uname?: string;
  gname?: string;
  devmajor?: number;
  devminor?: number;
  prefix?: string;
  /** "unsigned" (POSIX), "signed" (old Sun), or a number to store as is. */
  checksum?: "unsigned" | "signed" | number;
  /** Raw bytes to poke at given offsets before the checksum is computed. */
  poke?: Array<[number, Uint8Array]>;
}

function putStr(b: Uint8Array, at: number, len: number, s: string | Uint8Array): void {
  const bytes = typeof s === "string" ? enc.encode(s) : s;
  if (bytes.length > len) throw new Error(`field too long: ${bytes.length} > ${len}`);
  b.set(bytes, at);
}

function putOct(b: Uint8Array, at: number, len: number, v: number): void {
  putStr(b, at, len, v.toString(8).padStart(len - 1, "0") + "\0");
}

/** Base-256 encoding of `v` (may be negative) in `len` bytes, as GNU tar writes it. */
export function base256(v: bigint, len = 12): Uint8Array {
  const out = new Uint8Array(len);
  let x = v < 0n ? (1n << BigInt(8 * len)) + v : v;
  for (let i = len - 1; i >= 0; i--) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  if (v >= 0n) out[0]! |= 0x80;
  return out;
}

/** One hand-built 512-byte header block. */
export function header(spec: HeaderSpec): Uint8Array {
  const b = new Uint8Array(512);
  putStr(b, 0, 100, spec.name ?? "file");
  putOct(b, 100, 8, spec.mode ?? 0o644);
  putOct(b, 108, 8, spec.uid ?? 0);
  putOct(b, 116, 8, spec.gid ?? 0);
  const size = spec.size ?? 0;
  if (typeof size === "number") putOct(b, 124, 12, size);
  else b.set(size, 124);
  const mtime = spec.mtime ?? 1600000000;
  if (typeof mtime === "number") putOct(b, 136, 12, mtime);
  else b.set(mtime, 136);
  b[156] = (spec.typeflag ?? "0").charCodeAt(0);
  putStr(b, 157, 100, spec.linkname ?? "");
  const magic = spec.magic ?? "ustar";
  if (magic === "ustar") putStr(b, 257, 8, "ustar\x0000");
  else if (magic === "gnu") putStr(b, 257, 8, "ustar  \x00");
  if (magic !== "v7") {
    putStr(b, 265, 32, spec.uname ?? "");
    putStr(b, 297, 32, spec.gname ?? "");
    putOct(b, 329, 8, spec.devmajor ?? 0);
    putOct(b, 337, 8, spec.devminor ?? 0);
  }
  if (spec.prefix !== undefined) putStr(b, 345, 155, spec.prefix);
  for (const [at, bytes] of spec.poke ?? []) b.set(bytes, at);
  b.fill(0x20, 148, 156);
  let sum: number;
  if (typeof spec.checksum === "number") sum = spec.checksum;
  else if (spec.checksum === "signed") sum = b.reduce((s, c) => s + (c >= 128 ? c - 256 : c), 0);
  else sum = b.reduce((s, c) => s + c, 0);
  putStr(b, 148, 8, (sum & 0o777777).toString(8).padStart(6, "0") + "\0 ");
  return b;
}

/** A whole member: header plus padded content. */
export function member(spec: HeaderSpec, content: Uint8Array = new Uint8Array(0)): Uint8Array {
  return concat(header({ size: content.length, ...spec }), padBlock(content));
}

/** PAX records text: "%d key=value\n" with the self-counting length. */
export function paxRecords(records: Array<[string, string]>): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const [k, v] of records) {
    const body = enc.encode(` ${k}=${v}\n`);
    let len = body.length + 1;
    while (String(len).length + body.length !== len) len = String(len).length + body.length;
    parts.push(enc.encode(`${len}${new TextDecoder().decode(body)}`));
  }
  return concat(...parts);
}

/** A PAX meta member ('x' or 'g'). */
export function paxMember(records: Array<[string, string]>, typeflag: "x" | "g" = "x"): Uint8Array {
  return member({ name: "PaxHeader", typeflag }, paxRecords(records));
}

/** A GNU long name/link member ('L' or 'K'): the text plus its NUL. */
export function gnuLongMember(text: string, typeflag: "L" | "K" = "L"): Uint8Array {
  return member({ name: "././@LongLink", typeflag, magic: "gnu" }, concat(enc.encode(text), new Uint8Array(1)));
}

export function bytesOf(s: string): Uint8Array {
  return enc.encode(s);
}

/** Deterministic content of n bytes. */
export function content(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed * 2654435761;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** Entries without the offsets (for comparing listings of differently fed inputs). */
export function strip(entries: Entry[]): Array<Omit<Entry, "compressedOffset">> {
  return entries.map(({ compressedOffset: _c, ...rest }) => rest);
}
