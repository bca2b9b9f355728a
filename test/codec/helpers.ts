/** Shared helpers for the codec tests: sources, collectors, test data, gzip/zstd building blocks. */

import { expect } from "bun:test";
import { LayerslayerError } from "../../src/errors.ts";
import type { DecodedChunk } from "../../src/types.ts";
import { concatBytes, prng } from "../support/bytes.ts";

export { prng };

export type Bytes = Uint8Array<ArrayBuffer>;

/** Yields `data` in pieces of `size` bytes (views, like a network reader). */
export async function* chunked(data: Uint8Array, size = 4096): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

/** Yields `data` in pieces of pseudo-random sizes between 1 and `max` bytes. */
export async function* jagged(data: Uint8Array, seed = 1, max = 700): AsyncGenerator<Uint8Array> {
  const rnd = prng(seed);
  for (let i = 0; i < data.length;) {
    const n = 1 + Math.floor(rnd() * max);
    yield data.subarray(i, i + n);
    i += n;
  }
}

export interface Collected<S> {
  out: Bytes;
  chunks: { end: number; consumed: number }[];
  summary: S;
}

/** Runs a decoder to the end, keeping its output, where each chunk ended and what it consumed. */
export async function collect<S>(gen: AsyncGenerator<DecodedChunk, S>): Promise<Collected<S>> {
  const parts: Uint8Array[] = [];
  const chunks: { end: number; consumed: number }[] = [];
  let total = 0;
  for (;;) {
    const r = await gen.next();
    if (r.done) return { out: concat(parts), chunks, summary: r.value };
    expect(r.value.data.length).toBeGreaterThan(0);
    parts.push(r.value.data);
    total += r.value.data.length;
    chunks.push({ end: total, consumed: r.value.compressedConsumed });
  }
}

export const concat = (parts: Uint8Array[]): Bytes => concatBytes(parts);

const WORDS = "usr lib bin etc share doc python3 site-packages __init__.py README LICENSE node_modules index.js the of and".split(" ");

/** Text-like data (compresses ~4:1), with a stretch of random bytes (stored blocks) in the middle. */
export function sampleData(size: number, seed = 7): Bytes {
  const rnd = prng(seed);
  const out = new Uint8Array(size);
  let i = 0;
  while (i < size) {
    if (i > size / 3 && i < size / 3 + 40_000) {
      out[i++] = Math.floor(rnd() * 256);
      continue;
    }
    const w = WORDS[Math.floor(rnd() * WORDS.length)]!;
    for (let k = 0; k < w.length && i < size; k++) out[i++] = w.charCodeAt(k);
    if (i < size) out[i++] = rnd() < 0.1 ? 10 : 32;
  }
  return out;
}

/** Runs a CLI with `input` on stdin; returns stdout. */
export function run(cmd: string[], input: Uint8Array): Bytes {
  // With an empty buffer as stdin a child once read 15 unrelated bytes (inherited stdin?): use /dev/null.
  const stdin = input.length > 0 ? input : Bun.file("/dev/null");
  const r = Bun.spawnSync(cmd, { stdin, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")} failed: ${r.stderr.toString()}`);
  return new Uint8Array(r.stdout);
}

export const crc32 = (d: Uint8Array, seed = 0): number => Bun.hash.crc32(d, seed) >>> 0;

export function le32(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}

/** A gzip member built by hand around raw deflate data, with optional header fields. */
export function gzipMember(data: Uint8Array, opts: { extra?: Uint8Array; name?: string; comment?: string; hcrc?: boolean; text?: boolean; level?: number } = {}): Bytes {
  let flags = 0;
  if (opts.text) flags |= 1;
  if (opts.hcrc) flags |= 2;
  if (opts.extra) flags |= 4;
  if (opts.name !== undefined) flags |= 8;
  if (opts.comment !== undefined) flags |= 16;
  const head: number[] = [0x1f, 0x8b, 8, flags, ...le32(1_700_000_000), 0, 3];
  if (opts.extra) head.push(opts.extra.length & 0xff, opts.extra.length >> 8, ...opts.extra);
  const enc = new TextEncoder();
  if (opts.name !== undefined) head.push(...enc.encode(opts.name), 0);
  if (opts.comment !== undefined) head.push(...enc.encode(opts.comment), 0);
  if (opts.hcrc) {
    const c = crc32(new Uint8Array(head)) & 0xffff;
    head.push(c & 0xff, c >> 8);
  }
  const body = Bun.deflateSync(data as Bytes, { level: (opts.level ?? 6) as 6 });
  return concat([new Uint8Array(head), body, new Uint8Array([...le32(crc32(data)), ...le32(data.length)])]);
}

export async function expectCode(p: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(LayerslayerError);
    expect((e as LayerslayerError).code).toBe(code as LayerslayerError["code"]);
    if (message) expect((e as LayerslayerError).message).toMatch(message);
    return;
  }
  throw new Error(`expected a ${code} error`);
}
