/**
 * Decoder speeds on whole layers held in memory: both paths of src/codec (the exact decoders and
 * the native ones), fed 64 KiB chunks as a network read would hand them over, against Bun's
 * one-shot native decoders. As in scripts/codec-speed.ts, each variant runs in its own process so
 * one's JIT state can't help or hurt another. Speeds are decompressed MB/s (10^6 bytes); first run
 * and best of `RUNS`.
 *
 *   bun scripts/bench/inflate.ts FILE.gz FILE.zst     (a table; scripts/bench.ts calls decoderSpeeds)
 */

import { chooseDecoder } from "../../src/codec/index.ts";
import { capture } from "./proc.ts";

export const DECODER_VARIANTS = ["gzip-exact", "gzip-native", "zstd-exact", "zstd-native", "DecompressionStream-gzip", "Bun.gunzipSync", "Bun.zstdDecompressSync"] as const;
export type DecoderVariant = (typeof DECODER_VARIANTS)[number];

export const DECODER_LABELS: Record<DecoderVariant, string> = {
  "gzip-exact": "gzip, exact path (our framing, fflate)",
  "gzip-native": "gzip, native path (zlib, src/codec/native-gzip.ts)",
  "zstd-exact": "zstd, exact path (our framing, fzstd)",
  "zstd-native": "zstd, native path (libzstd, src/codec/native-zstd.ts)",
  "DecompressionStream-gzip": 'Bun DecompressionStream("gzip"), for comparison',
  "Bun.gunzipSync": "Bun.gunzipSync (one shot), for comparison",
  "Bun.zstdDecompressSync": "Bun.zstdDecompressSync (one shot), for comparison",
};

const RUNS = 3;
const CHUNK = 64 * 1024;

export interface DecoderResult {
  variant: DecoderVariant;
  /** Decompressed bytes (every variant must agree). */
  bytes: number;
  firstMBs: number;
  bestMBs: number;
}

async function* chunks(data: Uint8Array): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += CHUNK) yield data.subarray(i, i + CHUNK);
}

async function once(v: DecoderVariant, input: Uint8Array<ArrayBuffer>): Promise<number> {
  if (v === "Bun.gunzipSync") return Bun.gunzipSync(input).length;
  if (v === "Bun.zstdDecompressSync") return Bun.zstdDecompressSync(input).length;
  if (v === "DecompressionStream-gzip") {
    let n = 0;
    for await (const c of new Blob([input]).stream().pipeThrough(new DecompressionStream("gzip"))) n += c.length;
    return n;
  }
  const [codec, path] = v.split("-") as ["gzip" | "zstd", "exact" | "native"];
  const decode = await chooseDecoder(codec, path === "exact" ? "exact" : "bounded").load();
  let n = 0;
  for await (const c of decode(chunks(input))) n += c.data.length;
  return n;
}

async function child(v: DecoderVariant, file: string): Promise<void> {
  const input = new Uint8Array(await Bun.file(file).arrayBuffer());
  const speeds: number[] = [];
  let bytes = -1;
  for (let k = 0; k < RUNS; k++) {
    const t = performance.now();
    const n = await once(v, input);
    const s = (performance.now() - t) / 1000;
    if (bytes >= 0 && n !== bytes) throw new Error(`${v}: run ${k} decoded ${n} bytes, run 0 ${bytes}`);
    bytes = n;
    speeds.push(n / 1e6 / s);
  }
  const result: DecoderResult = { variant: v, bytes, firstMBs: speeds[0]!, bestMBs: Math.max(...speeds) };
  console.log(JSON.stringify(result));
}

/** Runs every variant in its own `bun` process over the gzip or the zstd file. */
export async function decoderSpeeds(gzFile: string, zstFile: string): Promise<DecoderResult[]> {
  const out: DecoderResult[] = [];
  for (const v of DECODER_VARIANTS) {
    const file = v.includes("zstd") ? zstFile : gzFile;
    const { code, stdout, stderr } = await capture([process.execPath, import.meta.path, "--child", v, file]);
    if (code !== 0) throw new Error(`decoder ${v} failed (${code}): ${stderr.slice(0, 500)}`);
    out.push(JSON.parse(stdout.trim().split("\n").pop() ?? "") as DecoderResult);
  }
  return out;
}

if (import.meta.main) {
  const [a, b, c] = process.argv.slice(2);
  if (a === "--child") await child(b as DecoderVariant, c!);
  else if (a && b) {
    for (const r of await decoderSpeeds(a, b)) {
      console.log(`${DECODER_LABELS[r.variant].padEnd(56)} ${r.firstMBs.toFixed(0).padStart(6)} ${r.bestMBs.toFixed(0).padStart(6)} MB/s`);
    }
  } else console.error("usage: bun scripts/bench/inflate.ts FILE.gz FILE.zst");
}
