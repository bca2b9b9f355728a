/**
 * Floor: a compiled Bun program that fetches the first 256 KiB of a gzip blob with one Range
 * request and inflates them: the least a `peek --budget 256K` can do. Bun's own zlib (native code
 * already in the binary) with a sync flush, so the cut-off stream decodes as far as it goes.
 *
 *   fetch-inflate URL [BYTES]      (URL: http://HOST/v2/REPO/blobs/DIGEST; BYTES default 262144)
 */
import { fetchPrefix } from "./prefix.ts";
import { gunzipSync, constants } from "node:zlib";

const body = await fetchPrefix("fetch-inflate");
const tar = gunzipSync(body, { finishFlush: constants.Z_SYNC_FLUSH });
console.log(body.length, tar.length);
