/**
 * Decoder speed: our gunzip (fflate inside, with and without the state pre-fill and the scratch
 * buffer), zstdDecode (fzstd inside, with and without checksum), CRC32 and XXH64, against Bun's
 * native decoders on the same bytes. Each variant runs in its own process so one variant's JIT
 * state can't help or hurt another.
 *
 *   bun scripts/codec-speed.ts [TARFILE]      (default: the first 128 MiB of a tar of /usr/share)
 *
 * Speeds are decompressed MB/s (10^6 bytes), first run and best of 3.
 */

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzip } from "../src/codec/gzip.ts";
import { type InflaterOptions, RawInflater } from "../src/codec/inflate.ts";
import { XxHash64 } from "../src/codec/xxhash64.ts";
import { zstdDecode } from "../src/codec/zstd.ts";

const VARIANTS = [
  "inflate-stock",
  "inflate-prefilled",
  "inflate-prefilled+scratch",
  "gunzip-stock",
  "gunzip-prefilled",
  "gunzip",
  "bun-gunzipSync",
  "DecompressionStream-gzip",
  "DecompressionStream-deflate-raw",
  "zstdDecode",
  "zstdDecode-no-checksum",
  "bun-zstdDecompressSync",
  "xxhash64-js",
  "crc32-bun",
  "crc32-js-table",
] as const;
type Variant = (typeof VARIANTS)[number];

const INFLATER_OPTS: Record<string, InflaterOptions> = {
  "inflate-stock": { stockState: true, noScratch: true },
  "inflate-prefilled": { noScratch: true },
  "inflate-prefilled+scratch": {},
};

const CHUNK = 64 * 1024; // what a network read typically hands over

async function* chunks(data: Uint8Array): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += CHUNK) yield data.subarray(i, i + CHUNK);
}

async function drain(g: AsyncGenerator<{ data: Uint8Array }, unknown>): Promise<number> {
  let n = 0;
  for (;;) {
    const r = await g.next();
    if (r.done) return n;
    n += r.value.data.length;
  }
}

/** Offset of the deflate data in a gzip member written by Bun.gzipSync (no optional fields). */
function deflateOf(gz: Uint8Array): Uint8Array {
  if (gz[3] !== 0) throw new Error("expected a plain 10-byte gzip header");
  return gz.subarray(10, gz.length - 8);
}

const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

function crc32Table(d: Uint8Array, crc: number): number {
  let c = ~crc;
  for (let i = 0; i < d.length; i++) c = CRC_TABLE[(c ^ d[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

type Bytes = Uint8Array<ArrayBuffer>;

async function once(v: Variant, tar: Bytes, gz: Bytes, zst: Bytes): Promise<number> {
  switch (v) {
    case "inflate-stock":
    case "inflate-prefilled":
    case "inflate-prefilled+scratch": {
      const raw = deflateOf(gz);
      const inf = new RawInflater(INFLATER_OPTS[v]);
      let n = 0;
      for (let i = 0; i < raw.length && !inf.finished; i += 16384) n += inf.push(raw.subarray(i, i + 16384)).length;
      return n;
    }
    case "gunzip-stock":
      return drain(gunzip(chunks(gz), { inflater: INFLATER_OPTS["inflate-stock"] }));
    case "gunzip-prefilled":
      return drain(gunzip(chunks(gz), { inflater: INFLATER_OPTS["inflate-prefilled"] }));
    case "gunzip":
      return drain(gunzip(chunks(gz)));
    case "bun-gunzipSync":
      return Bun.gunzipSync(gz).length;
    case "DecompressionStream-gzip":
    case "DecompressionStream-deflate-raw": {
      const input = v === "DecompressionStream-gzip" ? gz : deflateOf(gz);
      const format = v === "DecompressionStream-gzip" ? "gzip" : "deflate-raw";
      let n = 0;
      for await (const c of new Blob([input]).stream().pipeThrough(new DecompressionStream(format))) n += c.length;
      return n;
    }
    case "zstdDecode":
      return drain(zstdDecode(chunks(zst)));
    case "zstdDecode-no-checksum":
      return drain(zstdDecode(chunks(zst), { verifyChecksum: false }));
    case "xxhash64-js": {
      const h = new XxHash64();
      for (let i = 0; i < tar.length; i += 131072) h.update(tar.subarray(i, i + 131072));
      const [hi, lo] = h.digest();
      if (((BigInt(hi) << 32n) | BigInt(lo)) !== BigInt.asUintN(64, BigInt(Bun.hash.xxHash64(tar)))) throw new Error("xxh64 mismatch");
      return tar.length;
    }
    case "bun-zstdDecompressSync":
      return Bun.zstdDecompressSync(zst).length;
    case "crc32-bun":
    case "crc32-js-table": {
      let c = 0;
      const f = v === "crc32-bun" ? (d: Uint8Array, s: number) => Bun.hash.crc32(d, s) : crc32Table;
      for (let i = 0; i < tar.length; i += CHUNK) c = f(tar.subarray(i, i + CHUNK), c);
      if (c >>> 0 !== Bun.hash.crc32(tar) >>> 0) throw new Error("crc mismatch");
      return tar.length;
    }
  }
}

async function child(v: Variant, dir: string): Promise<void> {
  const tar = new Uint8Array(await Bun.file(join(dir, "in.tar")).arrayBuffer());
  const gz = new Uint8Array(await Bun.file(join(dir, "in.tar.gz")).arrayBuffer());
  const zst = new Uint8Array(await Bun.file(join(dir, "in.tar.zst")).arrayBuffer());
  const speeds: number[] = [];
  for (let k = 0; k < 3; k++) {
    const t = performance.now();
    const n = await once(v, tar, gz, zst);
    const s = (performance.now() - t) / 1000;
    if (n !== tar.length) throw new Error(`${v}: decoded ${n} bytes, want ${tar.length}`);
    speeds.push(n / 1e6 / s);
  }
  console.log(JSON.stringify({ v, first: speeds[0], best: Math.max(...speeds) }));
}

async function main(): Promise<void> {
  if (process.argv[2] === "--child") return child(process.argv[3] as Variant, process.argv[4]!);
  const dir = mkdtempSync(join(tmpdir(), "codec-speed-"));
  let tar: Bytes;
  if (process.argv[2]) tar = new Uint8Array(await Bun.file(process.argv[2]).arrayBuffer());
  else {
    const r = Bun.spawnSync(["sh", "-c", "tar cf - -C / usr/share 2>/dev/null | head -c 134217728"], { stdout: "pipe" });
    tar = new Uint8Array(r.stdout);
  }
  writeFileSync(join(dir, "in.tar"), tar);
  const gz = Bun.gzipSync(tar);
  writeFileSync(join(dir, "in.tar.gz"), gz);
  const zst = Bun.zstdCompressSync(tar);
  writeFileSync(join(dir, "in.tar.zst"), zst);
  const mb = (n: number) => (n / 2 ** 20).toFixed(1);
  console.log(`input: tar ${mb(tar.length)} MiB, gzip ${mb(gz.length)} MiB, zstd ${mb(zst.length)} MiB (Bun.gzipSync / Bun.zstdCompressSync defaults)`);
  console.log(`${"variant".padEnd(34)} ${"first".padStart(8)} ${"best".padStart(8)}  MB/s`);
  for (const v of VARIANTS) {
    const r = Bun.spawnSync([process.execPath, import.meta.path, "--child", v, dir], { stdout: "pipe", stderr: "inherit" });
    const line = r.stdout.toString().trim().split("\n").pop() ?? "";
    try {
      const { first, best } = JSON.parse(line) as { first: number; best: number };
      console.log(`${v.padEnd(34)} ${first.toFixed(0).padStart(8)} ${best.toFixed(0).padStart(8)}`);
    } catch {
      console.log(`${v.padEnd(34)} failed: ${line}`);
    }
  }
  Bun.spawnSync(["rm", "-rf", dir]);
}

await main();
