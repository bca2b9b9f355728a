import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { zstdDecode } from "../../src/codec/zstd.ts";
import { chunked, collect, concat, expectCode, jagged, le32, run, sampleData, type Bytes } from "./helpers.ts";

const data = sampleData(400_000, 21);
const small = sampleData(3000, 22);

/** zstd CLI on a file, so the frame header carries the content size (single segment when small). */
function zstdFile(input: Uint8Array, args: string[] = []): Bytes {
  const dir = mkdtempSync(join(tmpdir(), "codec-zstd-"));
  try {
    const f = join(dir, "in");
    writeFileSync(f, input);
    const r = Bun.spawnSync(["zstd", "-q", "-c", ...args, f], { stdout: "pipe", stderr: "pipe" });
    if (r.exitCode !== 0) throw new Error(r.stderr.toString());
    return new Uint8Array(r.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** zstd CLI on stdin: no content size, a window descriptor instead. */
const zstdPipe = (input: Uint8Array, args: string[] = []): Bytes => run(["zstd", "-q", "-c", ...args], input);

function skippable(payload: Uint8Array, nibble = 0): Bytes {
  return concat([new Uint8Array([0x50 | nibble, 0x2a, 0x4d, 0x18, ...le32(payload.length)]), payload]);
}

const withCheck = zstdPipe(data);
const noCheck = zstdPipe(data, ["--no-check"]);
const single = zstdFile(small);

describe("zstdDecode", () => {
  test("a frame with and without checksum, from a file and from a pipe, in any pieces", async () => {
    expect(withCheck[4]! & 4).toBe(4);
    expect(noCheck[4]! & 4).toBe(0);
    expect(single[4]! & 0x20).toBe(0x20); // single segment, content size in the header
    for (const [frame, want] of [
      [withCheck, data],
      [noCheck, data],
      [single, small],
      [zstdFile(data, ["-19"]), data],
    ] as const) {
      for (const source of [chunked(frame, 1 << 20), chunked(frame, 1000), jagged(frame, 4, 300)]) {
        const { out, chunks, summary } = await collect(zstdDecode(source));
        expect(out).toEqual(want);
        expect(summary).toEqual({ compressedConsumed: frame.length, decompressed: want.length, ended: true, members: 1 });
        for (const c of chunks) expect(c.end - (chunks[chunks.indexOf(c) - 1]?.end ?? 0)).toBeLessThanOrEqual(128 * 1024);
      }
    }
  });

  test("several frames, skippable frames (first, between, last) and zero padding", async () => {
    const stream = concat([
      skippable(new Uint8Array([1, 2, 3])),
      withCheck,
      skippable(new Uint8Array(70_000), 0xf),
      single,
      zstdPipe(new Uint8Array(0)),
      noCheck,
      skippable(new Uint8Array(0), 5),
      new Uint8Array(100),
    ]);
    const { out, summary } = await collect(zstdDecode(jagged(stream, 8, 9000)));
    expect(out).toEqual(concat([data, small, data]));
    expect(summary).toEqual({ compressedConsumed: stream.length, decompressed: 2 * data.length + small.length, ended: true, members: 7 });
  });

  test("compressedConsumed is exact at every block boundary", async () => {
    const stream = concat([withCheck, single, noCheck]);
    const full = concat([data, small, data]);
    const { chunks } = await collect(zstdDecode(chunked(stream, 4096)));
    expect(chunks.length).toBeGreaterThan(6);
    let prevEnd = 0;
    for (const c of chunks) {
      const exact = await collect(zstdDecode(chunked(stream.subarray(0, c.consumed), 1 << 20)));
      expect(exact.out).toEqual(full.subarray(0, c.end));
      const less = await collect(zstdDecode(chunked(stream.subarray(0, c.consumed - 1), 1 << 20)));
      expect(less.out.length).toBe(prevEnd);
      prevEnd = c.end;
    }
  });

  test("cutting anywhere never throws, yields a prefix, ended only at a frame boundary", async () => {
    const a = zstdFile(small);
    const stream = concat([a, skippable(new Uint8Array(10)), withCheck]);
    const full = concat([small, data]);
    const cuts = new Set<number>();
    for (let i = 0; i < 30; i++) cuts.add(i);
    for (let i = a.length - 6; i < a.length + 30; i++) cuts.add(i);
    for (let i = stream.length - 8; i < stream.length; i++) cuts.add(i);
    for (let i = 0; i < 120; i++) cuts.add(Math.floor((i / 120) * stream.length));
    for (const cut of cuts) {
      const { out, summary } = await collect(zstdDecode(chunked(stream.subarray(0, cut), 5000)));
      expect(out).toEqual(full.subarray(0, out.length));
      expect(summary.compressedConsumed).toBe(cut);
      expect(summary.ended).toBe(cut === a.length || cut === a.length + 18);
    }
    const empty = await collect(zstdDecode(chunked(new Uint8Array(0))));
    expect(empty.summary).toEqual({ compressedConsumed: 0, decompressed: 0, ended: false, members: 0 });
  });

  test("window sizes from 128 KiB (window buffer compacted often) to 128 MiB (no per-block window copy)", async () => {
    const big = concat([data, data.subarray(0, 200_000), sampleData(600_000, 23), data]);
    for (const wlog of [17, 20, 27]) {
      const frame = zstdPipe(big, [`--zstd=wlog=${wlog}`]);
      expect(frame[5]! >> 3).toBe(wlog - 10); // the window descriptor says so
      const { out, summary } = await collect(zstdDecode(chunked(frame, 65536)));
      expect(out).toEqual(big);
      expect(summary.ended).toBe(true);
    }
  });

  test("32 MiB of zeros come out in blocks of at most 128 KiB", async () => {
    const r = Bun.spawnSync(["sh", "-c", "head -c 33554432 /dev/zero | zstd -q -c"], { stdout: "pipe" });
    const bomb = new Uint8Array(r.stdout);
    expect(bomb.length).toBeLessThan(10_000);
    let total = 0;
    for await (const c of zstdDecode(chunked(bomb, 65536))) {
      expect(c.data.length).toBeLessThanOrEqual(128 * 1024);
      total += c.data.length;
    }
    expect(total).toBe(32 << 20);
  });
});

describe("zstdDecode: bad input", () => {
  test("not zstd", async () => {
    await expectCode(collect(zstdDecode(chunked(data))), "CORRUPT", /not zstd/);
  });

  test("garbage after a frame", async () => {
    await expectCode(collect(zstdDecode(chunked(concat([single, new Uint8Array([1, 2, 3, 4])])))), "CORRUPT", /after zstd frame 1/);
    await expectCode(collect(zstdDecode(chunked(concat([single, new Uint8Array([0, 0, 7])])))), "CORRUPT", /padding/);
  });

  test("reserved header bit, reserved block type, oversized block", async () => {
    const hdr = single.slice();
    hdr[4]! |= 0x08;
    await expectCode(collect(zstdDecode(chunked(hdr))), "CORRUPT", /reserved header bit/);
    // A frame header with no content size (pipe), then a block header of our own.
    const headerLen = 6;
    const block = (v: number) => concat([noCheck.subarray(0, headerLen), new Uint8Array([v & 0xff, (v >> 8) & 0xff, v >> 16])]);
    expect(noCheck[4]! & 0xe3).toBe(0); // no content size, no dictionary: header is magic + FHD + WD
    await expectCode(collect(zstdDecode(chunked(block(1 | (3 << 1) | (10 << 3))))), "CORRUPT", /reserved block type/);
    await expectCode(collect(zstdDecode(chunked(block(1 | (2 << 1) | (200_000 << 3))))), "CORRUPT", /exceeds 128 KiB/);
  });

  test("content size in the header disagrees with the data", async () => {
    const bad = single.slice();
    // Single segment with content size < 256: one FCS byte right after the FHD.
    expect(bad[4]! >> 6).toBe(1); // 2-byte FCS (value - 256) for 3000 bytes
    bad[5]! += 1;
    await expectCode(collect(zstdDecode(chunked(bad))), "CORRUPT", /header says/);
  });

  test("dictionaries and huge windows are refused as unsupported", async () => {
    const dict = new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 0x01, 0x58, 0x07]); // dictionary id 7
    await expectCode(collect(zstdDecode(chunked(dict))), "UNSUPPORTED", /dictionary 7/);
    const huge = new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 0x00, 30 << 3, 1, 0, 0]); // 1 TiB window
    await expectCode(collect(zstdDecode(chunked(huge))), "UNSUPPORTED", /window/);
  });

  test("damaged data in a frame with a checksum is always caught, as CORRUPT", async () => {
    const frame = zstdPipe(data); // no content size: only the checksum can tell
    for (let i = 0; i < 16; i++) {
      const at = 12 + Math.floor((i / 16) * (frame.length - 20));
      const bad = frame.slice();
      bad[at]! ^= 0x5a;
      await expectCode(collect(zstdDecode(chunked(bad, 8192))), "CORRUPT");
    }
    const badSum = frame.slice();
    badSum[badSum.length - 1]! ^= 1;
    await expectCode(collect(zstdDecode(chunked(badSum))), "CORRUPT", /checksum mismatch/);
  });

  test("without a checksum, damage mostly goes unnoticed by fzstd: anything thrown is still CORRUPT", async () => {
    let caught = 0;
    for (let i = 0; i < 20; i++) {
      const at = 12 + Math.floor((i / 20) * (noCheck.length - 20));
      const bad = noCheck.slice();
      bad[at]! ^= 0x5a;
      try {
        await collect(zstdDecode(chunked(bad, 8192)));
      } catch (e) {
        expect((e as { code?: string }).code).toBe("CORRUPT");
        caught++;
      }
    }
    expect(caught).toBeLessThan(20);
  });

  test("verifyChecksum: false skips the check", async () => {
    const badSum = withCheck.slice();
    badSum[badSum.length - 1]! ^= 1;
    const { out, summary } = await collect(zstdDecode(chunked(badSum), { verifyChecksum: false }));
    expect(out).toEqual(data);
    expect(summary.ended).toBe(true);
  });
});
