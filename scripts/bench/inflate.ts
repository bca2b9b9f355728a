/**
 * Inflate speed on one gzip file held in memory: our gunzip (src/codec/gzip.ts, fflate inside, fed
 * 64 KiB chunks as a network read would hand them over) against Bun's native decoders. As in
 * scripts/codec-speed.ts, each variant runs in its own process so one's JIT state can't help or hurt
 * another. Speeds are decompressed MB/s (10^6 bytes); first run and best of `RUNS`.
 *
 *   bun scripts/bench/inflate.ts FILE.gz     (a table; scripts/bench.ts calls inflateSpeeds)
 */

import { gunzip } from "../../src/codec/gzip.ts";
import { readTar } from "../../src/tar/reader.ts";
import type { DecodedChunk } from "../../src/types.ts";
import { capture } from "./proc.ts";

export const INFLATE_VARIANTS = ["gunzip", "gunzip+readTar", "DecompressionStream-gzip", "Bun.gunzipSync"] as const;
export type InflateVariant = (typeof INFLATE_VARIANTS)[number];

export const INFLATE_LABELS: Record<InflateVariant, string> = {
  gunzip: "ours: gunzip (src/codec/gzip.ts)",
  "gunzip+readTar": "ours: gunzip → readTar (no network)",
  "DecompressionStream-gzip": 'Bun DecompressionStream("gzip")',
  "Bun.gunzipSync": "Bun.gunzipSync",
};

const RUNS = 3;
const CHUNK = 64 * 1024;

export interface InflateResult {
  variant: InflateVariant;
  /** Decompressed bytes (every variant must agree). */
  bytes: number;
  firstMBs: number;
  bestMBs: number;
}

async function* chunks(data: Uint8Array): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += CHUNK) yield data.subarray(i, i + CHUNK);
}

async function once(v: InflateVariant, gz: Uint8Array<ArrayBuffer>): Promise<number> {
  switch (v) {
    case "gunzip": {
      let n = 0;
      const g = gunzip(chunks(gz));
      for (;;) {
        const r = await g.next();
        if (r.done) return n;
        n += r.value.data.length;
      }
    }
    case "gunzip+readTar": {
      const counted = { n: 0 };
      async function* count(src: AsyncGenerator<DecodedChunk, unknown>): AsyncGenerator<DecodedChunk> {
        for await (const c of src) {
          counted.n += c.data.length;
          yield c;
        }
      }
      const t = readTar(count(gunzip(chunks(gz))), { drain: true });
      for (;;) {
        const r = await t.next();
        if (r.done) return counted.n;
      }
    }
    case "DecompressionStream-gzip": {
      let n = 0;
      for await (const c of new Blob([gz]).stream().pipeThrough(new DecompressionStream("gzip"))) n += c.length;
      return n;
    }
    case "Bun.gunzipSync":
      return Bun.gunzipSync(gz).length;
  }
}

async function child(v: InflateVariant, file: string): Promise<void> {
  const gz = new Uint8Array(await Bun.file(file).arrayBuffer());
  const speeds: number[] = [];
  let bytes = -1;
  for (let k = 0; k < RUNS; k++) {
    const t = performance.now();
    const n = await once(v, gz);
    const s = (performance.now() - t) / 1000;
    if (bytes >= 0 && n !== bytes) throw new Error(`${v}: run ${k} decoded ${n} bytes, run 0 ${bytes}`);
    bytes = n;
    speeds.push(n / 1e6 / s);
  }
  const result: InflateResult = { variant: v, bytes, firstMBs: speeds[0]!, bestMBs: Math.max(...speeds) };
  console.log(JSON.stringify(result));
}

/** Runs every variant in its own `bun` process over `file`. */
export async function inflateSpeeds(file: string): Promise<InflateResult[]> {
  const out: InflateResult[] = [];
  for (const v of INFLATE_VARIANTS) {
    const { code, stdout, stderr } = await capture([process.execPath, import.meta.path, "--child", v, file]);
    if (code !== 0) throw new Error(`inflate ${v} failed (${code}): ${stderr.slice(0, 500)}`);
    out.push(JSON.parse(stdout.trim().split("\n").pop() ?? "") as InflateResult);
  }
  return out;
}

if (import.meta.main) {
  const [a, b, c] = process.argv.slice(2);
  if (a === "--child") await child(b as InflateVariant, c!);
  else if (a) {
    for (const r of await inflateSpeeds(a)) {
      console.log(`${INFLATE_LABELS[r.variant].padEnd(36)} ${r.firstMBs.toFixed(0).padStart(6)} ${r.bestMBs.toFixed(0).padStart(6)} MB/s`);
    }
  } else console.error("usage: bun scripts/bench/inflate.ts FILE.gz");
}
