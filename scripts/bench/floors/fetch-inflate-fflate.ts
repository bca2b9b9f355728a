/**
 * Floor variant: as fetch-inflate.ts, inflating with fflate (the decoder of our exact path) instead
 * of Bun's zlib. Measured beside it to choose the cheaper as the floor (scripts/bench/floors.ts).
 *
 *   fetch-inflate-fflate URL [BYTES]
 */
import { fetchPrefix } from "./prefix.ts";
import { Gunzip } from "fflate";

const body = await fetchPrefix("fetch-inflate-fflate");
let out = 0;
const gz = new Gunzip((chunk) => (out += chunk.length));
gz.push(body);
console.log(body.length, out);
