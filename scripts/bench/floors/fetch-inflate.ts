/**
 * Floor: a compiled Bun program that fetches the first 256 KiB of a gzip blob with one Range
 * request and inflates them: the least a `peek --budget 256K` can do. Bun's own zlib (native code
 * already in the binary) with a sync flush, so the cut-off stream decodes as far as it goes.
 *
 *   fetch-inflate URL [BYTES]      (URL: http://HOST/v2/REPO/blobs/DIGEST; BYTES default 262144)
 */
import { gunzipSync, constants } from "node:zlib";

const url = process.argv[2];
const bytes = Number(process.argv[3] ?? 256 * 1024);
if (!url || !Number.isInteger(bytes) || bytes < 1) throw new Error("usage: fetch-inflate URL [BYTES]");
const res = await fetch(url, { headers: { Range: `bytes=0-${bytes - 1}` } });
const body = new Uint8Array(await res.arrayBuffer());
if (res.status !== 206 || body.length !== bytes) throw new Error(`HTTP ${res.status}, ${body.length} bytes`);
const tar = gunzipSync(body, { finishFlush: constants.Z_SYNC_FLUSH });
console.log(body.length, tar.length);
