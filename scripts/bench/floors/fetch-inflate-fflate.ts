/**
 * Floor variant: as fetch-inflate.ts, inflating with fflate (the decoder of our exact path) instead
 * of Bun's zlib. Measured beside it to choose the cheaper as the floor (scripts/bench/floors.ts).
 *
 *   fetch-inflate-fflate URL [BYTES]
 */
import { Gunzip } from "fflate";

const url = process.argv[2];
const bytes = Number(process.argv[3] ?? 256 * 1024);
if (!url || !Number.isInteger(bytes) || bytes < 1) throw new Error("usage: fetch-inflate-fflate URL [BYTES]");
const res = await fetch(url, { headers: { Range: `bytes=0-${bytes - 1}` } });
const body = new Uint8Array(await res.arrayBuffer());
if (res.status !== 206 || body.length !== bytes) throw new Error(`HTTP ${res.status}, ${body.length} bytes`);
let out = 0;
const gz = new Gunzip((chunk) => (out += chunk.length));
gz.push(body);
console.log(body.length, out);
