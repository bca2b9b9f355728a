import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { zstdDecode } from "../../src/codec/zstd.ts";
import { LayerslayerError } from "../../src/errors.ts";
import { chunked, collect, concat, run, sampleData } from "./helpers.ts";

/** One frame holding one compressed block with the given body (no checksum, no content size). */
function frameWithBlock(body: Uint8Array): Uint8Array {
  const v = 1 | (2 << 1) | (body.length << 3);
  return concat([new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58, v & 0xff, (v >> 8) & 0xff, v >> 16]), body]);
}

async function decodeError(input: Uint8Array): Promise<LayerslayerError> {
  try {
    await collect(zstdDecode(chunked(input, 1 << 20)));
  } catch (e) {
    if (e instanceof LayerslayerError) return e;
    throw e;
  }
  throw new Error("decoded without an error");
}

describe("zstd block check", () => {
  test("every block real zstd writes passes, at every level and strategy", async () => {
    const inputs = [
      sampleData(150_000, 5),
      new TextEncoder().encode(readFileSync("/etc/services", "utf8").repeat(6)),
      new Uint8Array(readFileSync(process.execPath).subarray(0, 200_000)),
      new Uint8Array(200_000).fill(7),
    ];
    for (const input of inputs) {
      for (const args of [["-1"], ["-3"], ["-9"], ["-19"], ["--fast=5"], ["-3", "--long=24"]]) {
        const z = run(["zstd", "-q", "-c", ...args], input);
        const { out } = await collect(zstdDecode(chunked(z, 65536)));
        expect(out.length).toBe(input.length);
        expect(Buffer.compare(out, input)).toBe(0);
      }
    }
  });

  test("sequences that would write far more than a block holds are CORRUPT before they are decoded", async () => {
    // Raw literals of length 0; 20,000 sequences, all three codes RLE: literal length 0, offset code 1,
    // match length code 52 (65539 + 16 bits). fzstd alone would loop 20,000 × 65,539 times.
    const ns = 20_000;
    const bits = new Uint8Array(Math.ceil((ns * 17) / 8) + 1).fill(0xff);
    const body = concat([new Uint8Array([0x00, 0xff, (ns - 0x7f00) & 0xff, (ns - 0x7f00) >> 8, 0x54, 0, 1, 52]), bits]);
    const e = await decodeError(frameWithBlock(body));
    expect(e.code).toBe("CORRUPT");
    expect(e.message).toContain("more than a block may hold");
  });

  test("a Huffman weight table whose states read no bits is CORRUPT (fzstd would loop forever)", async () => {
    // Compressed literals (one stream); tree description: FSE-coded weights, accuracy log 5, one
    // symbol with every probability (value 63 in 6 bits → count 32), so after the two initial
    // 5-bit state reads no state reads a bit; the weight stream holds exactly those 10 bits.
    const fse = new Uint8Array([0xf0, 0x03]);
    const stream = new Uint8Array([0x00, 0x04]);
    const weights = concat([new Uint8Array([fse.length + stream.length]), fse, stream]);
    const lcs = weights.length + 4;
    const regen = 10;
    const header = new Uint8Array([0x02 | ((regen << 4) & 0xf0), ((regen >> 4) & 63) | ((lcs & 3) << 6), lcs >> 2]);
    const body = concat([header, weights, new Uint8Array([1, 2, 3, 0x80]), new Uint8Array([0])]);
    const e = await decodeError(frameWithBlock(body));
    expect(e.code).toBe("CORRUPT");
    expect(e.message).toContain("Huffman weights");
  });
});
