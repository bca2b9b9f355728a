import { describe, expect, test } from "bun:test";
import { gunzip } from "../../src/codec/gzip.ts";
import { chunked, collect, concat, crc32, expectCode, gzipMember, jagged, le32, run, sampleData } from "./helpers.ts";

const data = sampleData(300_000);
const small = sampleData(20_000, 3);
const cliGz = run(["gzip", "-c", "-n"], data);
const bunGz = Bun.gzipSync(small);

describe("gunzip: members", () => {
  test("single member from the gzip CLI, in pieces of every size", async () => {
    for (const source of [chunked(cliGz, 1 << 20), chunked(cliGz, 4096), jagged(cliGz, 5)]) {
      const { out, summary } = await collect(gunzip(source));
      expect(out).toEqual(data);
      expect(summary).toEqual({ compressedConsumed: cliGz.length, decompressed: data.length, ended: true, members: 1 });
    }
  });

  test("several members (gzip CLI + Bun.gzipSync + an empty one) concatenated", async () => {
    const empty = run(["gzip", "-c"], new Uint8Array(0));
    const stream = concat([cliGz, bunGz, empty, run(["gzip", "-1", "-c"], small)]);
    const { out, chunks, summary } = await collect(gunzip(jagged(stream, 9, 5000)));
    expect(out).toEqual(concat([data, small, small]));
    expect(summary.members).toBe(4);
    expect(summary.ended).toBe(true);
    // Output from the second member is attributed past the first member's bytes.
    const firstOfSecond = chunks.find((c) => c.end > data.length)!;
    expect(firstOfSecond.consumed).toBeGreaterThan(cliGz.length);
  });

  test("hundreds of small members (estargz-like)", async () => {
    const parts: Uint8Array[] = [];
    const members: Uint8Array[] = [];
    for (let i = 0; i < 300; i++) {
      const p = sampleData(1 + ((i * 97) % 3000), i);
      parts.push(p);
      members.push(Bun.gzipSync(p));
    }
    const { out, summary } = await collect(gunzip(chunked(concat(members), 8192)));
    expect(out).toEqual(concat(parts));
    expect(summary.members).toBe(300);
    expect(summary.ended).toBe(true);
  });

  test("optional header fields: FTEXT, FEXTRA, FNAME, FCOMMENT, FHCRC", async () => {
    const variants = [
      { text: true },
      { extra: new Uint8Array([0x41, 0x42, 4, 0, 1, 2, 3, 4]) },
      { name: "layer.tar" },
      { comment: "made by hand" },
      { hcrc: true },
      { extra: new Uint8Array(300).fill(7), name: "n".repeat(5000), comment: "c", hcrc: true, text: true },
    ];
    const members = variants.map((v) => gzipMember(small, v));
    // gzip(1) itself agrees these are valid.
    for (const m of members) expect(run(["gzip", "-dc"], m)).toEqual(small);
    for (const m of members) {
      const { out, summary } = await collect(gunzip(jagged(m, 2, 50)));
      expect(out).toEqual(small);
      expect(summary.ended).toBe(true);
    }
    const all = await collect(gunzip(chunked(concat(members), 1000)));
    expect(all.summary.members).toBe(variants.length);
  });

  test("zero padding after the last member is accepted", async () => {
    for (const pad of [1, 7, 512, 70_000]) {
      const stream = concat([bunGz, new Uint8Array(pad)]);
      const { out, summary } = await collect(gunzip(chunked(stream, 3000)));
      expect(out).toEqual(small);
      expect(summary).toEqual({ compressedConsumed: stream.length, decompressed: small.length, ended: true, members: 1 });
    }
  });

  test("the chunk carrying a member's last output is attributed inside that member", async () => {
    // The last output needs the deflate data up to its end, not the 8-byte trailer.
    const { chunks } = await collect(gunzip(chunked(bunGz, 1 << 20)));
    expect(chunks.at(-1)!.consumed).toBe(bunGz.length - 8);
  });
});

describe("gunzip: corruption", () => {
  test("CRC32 mismatch (a trailer byte flipped)", async () => {
    const bad = bunGz.slice();
    bad[bad.length - 8]! ^= 1;
    await expectCode(collect(gunzip(chunked(bad))), "CORRUPT", /CRC32 mismatch/);
  });

  test("CRC32 mismatch (a literal flipped inside stored deflate data)", async () => {
    // Level 0 makes stored blocks, so a flipped byte is still valid deflate, just different data.
    const stored = gzipMember(small, { level: 0 });
    const bad = stored.slice();
    bad[5000]! ^= 0x20;
    await expectCode(collect(gunzip(chunked(bad))), "CORRUPT", /CRC32 mismatch/);
  });

  test("a flipped byte in compressed deflate data never goes unnoticed", async () => {
    for (const at of [200, 1000, 3000]) {
      const bad = bunGz.slice();
      bad[at]! ^= 0x55;
      await expectCode(collect(gunzip(chunked(bad))), "CORRUPT");
    }
  });

  test("ISIZE mismatch", async () => {
    const bad = bunGz.slice();
    bad.set(le32(small.length + 1), bad.length - 4);
    await expectCode(collect(gunzip(chunked(bad))), "CORRUPT", /length mismatch/);
  });

  test("header CRC (FHCRC) mismatch", async () => {
    const m = gzipMember(small, { name: "x", hcrc: true });
    m[10]! ^= 1; // the name
    await expectCode(collect(gunzip(chunked(m))), "CORRUPT", /header CRC/);
  });

  test("compression method other than deflate, reserved flags", async () => {
    const m = bunGz.slice();
    m[2] = 7;
    await expectCode(collect(gunzip(chunked(m))), "CORRUPT", /method 7/);
    const f = bunGz.slice();
    f[3] = 0x20;
    await expectCode(collect(gunzip(chunked(f))), "CORRUPT", /reserved/);
  });

  test("not gzip at all", async () => {
    await expectCode(collect(gunzip(chunked(data))), "CORRUPT", /not gzip/);
  });

  test("garbage after a member", async () => {
    await expectCode(collect(gunzip(chunked(concat([bunGz, new Uint8Array([0x50, 0x4b])])))), "CORRUPT", /after gzip member 1/);
    await expectCode(collect(gunzip(chunked(concat([bunGz, new Uint8Array([0x1f, 0x00, 1, 2])])))), "CORRUPT", /after gzip member 1/);
    await expectCode(collect(gunzip(chunked(concat([bunGz, new Uint8Array([0, 0, 0, 9])])))), "CORRUPT", /padding/);
  });

  test("invalid deflate data", async () => {
    // Block type 3 is reserved.
    const m = new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0x07, 0, 0, 0, 0, 0, 0, 0, 0]);
    await expectCode(collect(gunzip(chunked(m))), "CORRUPT", /deflate/);
  });
});

describe("gunzip: truncation", () => {
  const a = gzipMember(small, { name: "first.tar", extra: new Uint8Array([1, 2, 3, 4]), comment: "c", hcrc: true });
  const b = run(["gzip", "-c", "-n"], data);
  const stream = concat([a, b]);
  const full = concat([small, data]);

  test("cutting anywhere never throws, yields a prefix, and says ended=false unless between members", async () => {
    const cuts = new Set<number>();
    for (let i = 0; i <= 40; i++) cuts.add(i); // inside the first header
    for (let i = a.length - 12; i <= a.length + 14; i++) cuts.add(i); // trailer, next header
    for (let i = stream.length - 10; i < stream.length; i++) cuts.add(i); // last trailer
    for (let i = 0; i < 100; i++) cuts.add(Math.floor((i / 100) * stream.length)); // deflate data
    for (const cut of cuts) {
      const { out, summary } = await collect(gunzip(chunked(stream.subarray(0, cut), 5000)));
      expect(out).toEqual(full.subarray(0, out.length));
      // A cut exactly between the members is a clean end of a one-member stream.
      expect(summary.ended).toBe(cut === a.length);
      expect(summary.compressedConsumed).toBe(cut);
      expect(summary.members).toBe(cut >= a.length ? 1 : 0);
    }
  });

  test("an empty source", async () => {
    const { out, summary } = await collect(gunzip(chunked(new Uint8Array(0))));
    expect(out.length).toBe(0);
    expect(summary).toEqual({ compressedConsumed: 0, decompressed: 0, ended: false, members: 0 });
  });

  test("a member cut inside its trailer still delivers all its data", async () => {
    const { out } = await collect(gunzip(chunked(bunGz.subarray(0, bunGz.length - 3))));
    expect(out).toEqual(small);
  });
});

test("crc32 helper agrees with gzip's trailer", () => {
  const t = cliGz.subarray(cliGz.length - 8);
  expect(le32(crc32(data))).toEqual(Array.from(t.subarray(0, 4)));
});
