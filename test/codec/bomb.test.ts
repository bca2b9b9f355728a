/** A decompression bomb decodes with bounded memory: nothing accumulates, whatever the ratio. */

import { expect, test } from "bun:test";
import { deflateRawSync, constants } from "node:zlib";
import { gunzip } from "../../src/codec/gzip.ts";
import { le32 } from "./helpers.ts";

const MiB = 1024 * 1024;
const BOMB_MIB = 200;

/**
 * gzip of `mib` MiB of zeros, generated as it is read: the same sync-flushed deflate segment of
 * 1 MiB of zeros (it refers to nothing before itself, so copies can follow one another), then an
 * empty final block and the trailer. Never holds more than 1 MiB.
 */
async function* zeroBomb(mib: number): AsyncGenerator<Uint8Array> {
  const zeros = new Uint8Array(MiB);
  const segment = deflateRawSync(zeros, { level: 9, finishFlush: constants.Z_SYNC_FLUSH });
  yield new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);
  // Hand it over in 64-segment pieces (~65 KiB, like network reads), so fflate gets full slices.
  const batch = new Uint8Array(segment.length * 64);
  for (let k = 0; k < 64; k++) batch.set(segment, k * segment.length);
  let crc = 0;
  for (let i = 0; i < mib; i += 64) {
    const n = Math.min(64, mib - i);
    yield batch.slice(0, n * segment.length);
    for (let k = 0; k < n; k++) crc = Bun.hash.crc32(zeros, crc) >>> 0;
  }
  yield new Uint8Array([0x03, 0x00, ...le32(crc), ...le32((mib * MiB) % 2 ** 32)]);
}

test("200 MiB of gzip'd zeros decode with bounded memory", async () => {
  Bun.gc(true);
  const start = process.memoryUsage().rss;
  let peak = start;
  let total = 0;
  let biggest = 0;
  let over4MiB = 0;
  let consumed = 0;
  const gen = gunzip(zeroBomb(BOMB_MIB));
  for (;;) {
    const r = await gen.next();
    if (r.done) {
      expect(r.value.ended).toBe(true);
      expect(r.value.members).toBe(1);
      expect(r.value.decompressed).toBe(BOMB_MIB * MiB);
      break;
    }
    total += r.value.data.length;
    biggest = Math.max(biggest, r.value.data.length);
    if (r.value.data.length > 4 * MiB) over4MiB++;
    expect(r.value.compressedConsumed).toBeGreaterThanOrEqual(consumed);
    consumed = r.value.compressedConsumed;
    // Spot-check the content without keeping it.
    expect(r.value.data[r.value.data.length - 1]).toBe(0);
    peak = Math.max(peak, process.memoryUsage().rss);
  }
  const growth = (peak - start) / MiB;
  console.log(`bomb: RSS grew by ${growth.toFixed(0)} MiB at most; largest chunk ${(biggest / MiB).toFixed(1)} MiB`);
  expect(total).toBe(BOMB_MIB * MiB);
  expect(consumed).toBeLessThan(250_000);
  // One 16 KiB slice can make 16.5 MiB; after that the slices shrink to keep chunks near 1 MiB.
  expect(biggest).toBeLessThanOrEqual(17 * MiB);
  expect(over4MiB).toBeLessThanOrEqual(1);
  // Keeping the output would take 200 MiB; what is measured is garbage not yet collected.
  expect(growth).toBeLessThan(160);
});
