import { describe, expect, test } from "bun:test";
import { CheckpointSet, checkpointBefore, type Checkpoint } from "../../src/codec/checkpoint.ts";
import { gunzip } from "../../src/codec/gzip.ts";
import { chunked, collect, sampleData } from "./helpers.ts";

/** GNU gzip's output (the reference writer), level `level`, of `data`. */
function gnuGzip(data: Uint8Array, level = 6): Uint8Array {
  const r = Bun.spawnSync(["gzip", `-${level}`, "-c", "-n"], { stdin: data });
  if (r.exitCode !== 0) throw new Error("gzip failed");
  return new Uint8Array(r.stdout);
}

describe("gzip checkpoints", () => {
  const data = sampleData(6 * 1024 * 1024, 11);
  // Two members, the second starting mid-way: checkpoints in both, trailers checked from either.
  const half = 4 * 1024 * 1024 + 12345;
  const gz = new Uint8Array([...gnuGzip(data.subarray(0, half)), ...gnuGzip(data.subarray(half), 9)]);

  test("recorded about every MiB of output at block boundaries; each resumes to the same bytes, trailers checked", async () => {
    const set = new CheckpointSet(1024 * 1024);
    const full = await collect(gunzip(chunked(gz, 16384), { checkpoints: set }));
    expect(Buffer.compare(Buffer.from(full.out), Buffer.from(data))).toBe(0);
    const cps = set.list;
    expect(cps.length).toBeGreaterThanOrEqual(4);
    for (let i = 1; i < cps.length; i++) expect(cps[i]!.out).toBeGreaterThan(cps[i - 1]!.out);
    // Close to the spacing asked for: the search for a boundary ends with the next block or the one after.
    for (let i = 1; i < cps.length; i++) expect(cps[i]!.out - cps[i - 1]!.out).toBeLessThan(2 * 1024 * 1024);
    for (const cp of cps) {
      expect(cp.window.length).toBe(32768);
      const from = cp.bit >> 3;
      const rest = await collect(gunzip(chunked(gz.subarray(from), 7000), { resume: cp }));
      expect(rest.summary.ended).toBe(true);
      expect(rest.out.length).toBe(data.length - cp.out);
      expect(Buffer.compare(Buffer.from(rest.out), Buffer.from(data.subarray(cp.out)))).toBe(0);
      // Offsets count from the blob's start, as if it had been read from byte 0.
      expect(rest.chunks[rest.chunks.length - 1]!.consumed).toBe(full.chunks[full.chunks.length - 1]!.consumed);
      expect(rest.summary.compressedConsumed).toBe(gz.length);
    }
  });

  test("a resumed read still checks the member's CRC32: a wrong window is CORRUPT", async () => {
    const set = new CheckpointSet(1024 * 1024);
    await collect(gunzip(chunked(gz, 16384), { checkpoints: set }));
    const cp = set.list[1]!;
    const bad: Checkpoint = { ...cp, crc: (cp.crc ^ 1) >>> 0 };
    await expect(collect(gunzip(chunked(gz.subarray(cp.bit >> 3)), { resume: bad }))).rejects.toMatchObject({ code: "CORRUPT" });
  });

  test("checkpointBefore picks the last one at or before a tar offset", () => {
    const cps = [10, 20, 30].map((out) => ({ bit: out * 8, out, member: 0, crc: 0, size: 0, window: new Uint8Array(0) }));
    expect(checkpointBefore(cps, 5)).toBeUndefined();
    expect(checkpointBefore(cps, 20)!.out).toBe(20);
    expect(checkpointBefore(cps, 29)!.out).toBe(20);
    expect(checkpointBefore(cps, 1e9)!.out).toBe(30);
  });
});
