import { describe, expect, test } from "bun:test";
import { chooseDecoder, decodeLayer, passthrough, type OffsetPrecision } from "../../src/codec/index.ts";
import { gunzip } from "../../src/codec/gzip.ts";
import { nativeGunzip } from "../../src/codec/native-gzip.ts";
import { nativeZstd } from "../../src/codec/native-zstd.ts";
import { zstdDecode } from "../../src/codec/zstd.ts";
import { chunked, collect, concat, expectCode, run, sampleData } from "./helpers.ts";

const OCI = "application/vnd.oci.image.layer.v1.tar";
const tarBytes = run(["tar", "-C", import.meta.dir, "-cf", "-", "helpers.ts", "gzip.test.ts"], new Uint8Array(0));
const gz = Bun.gzipSync(tarBytes);
const zst = run(["zstd", "-q", "-c"], tarBytes);

/** A source that records how far it was read and whether it was closed. */
function tracked(data: Uint8Array, size: number) {
  const state = { pulled: 0, closed: false, finished: false };
  async function* gen(): AsyncGenerator<Uint8Array> {
    try {
      for (let i = 0; i < data.length; i += size) {
        state.pulled++;
        yield data.subarray(i, i + size);
      }
      state.finished = true;
    } finally {
      state.closed = true;
    }
  }
  return { source: gen(), state };
}

describe("decodeLayer", () => {
  test("each codec, sniffed from a source that hands over one byte at a time, by each decoder", async () => {
    for (const offsets of ["exact", "bounded"] as const) {
      for (const [input, mt, codec] of [
        [gz, `${OCI}+gzip`, "gzip"],
        [zst, `${OCI}+zstd`, "zstd"],
        [tarBytes, OCI, "tar"],
      ] as const) {
        const { out, chunks, summary } = await collect(decodeLayer(chunked(input, input === tarBytes ? 1 : 7), mt, { offsets }));
        expect(out).toEqual(tarBytes);
        const d = chooseDecoder(codec, offsets);
        const members = codec === "tar" ? 0 : d.name === "zlib" ? undefined : 1;
        expect(summary).toEqual({
          compressedConsumed: input.length,
          decompressed: tarBytes.length,
          ended: true,
          ...(members !== undefined ? { members } : {}),
          codec,
          offsets: d.offsets,
          decoder: d.name,
        });
        expect(chunks.at(-1)!.consumed).toBeLessThanOrEqual(input.length);
      }
    }
  });

  test("the decoder set: exact decoders for every codec, native ones for gzip and zstd when bounded offsets will do", () => {
    const names = (need: OffsetPrecision) => (["gzip", "zstd", "tar"] as const).map((c) => `${chooseDecoder(c, need).name}:${chooseDecoder(c, need).offsets}`);
    expect(names("exact")).toEqual(["fflate:exact", "fzstd:exact", "plain:exact"]);
    expect(names("bounded")).toEqual(["zlib:bounded", "libzstd:bounded", "plain:exact"]);
  });

  test("a mislabeled layer is decoded by what it is", async () => {
    const { out, summary } = await collect(decodeLayer(chunked(gz, 100), OCI));
    expect(out).toEqual(tarBytes);
    expect(summary.codec).toBe("gzip");
    const plain = await collect(decodeLayer(chunked(tarBytes, 100), `${OCI}+zstd`));
    expect(plain.summary.codec).toBe("tar");
  });

  test("an empty source, and one that is only empty chunks", async () => {
    const a = await collect(decodeLayer(chunked(new Uint8Array(0)), `${OCI}+gzip`));
    expect(a.summary).toEqual({ compressedConsumed: 0, decompressed: 0, ended: false, members: 0, codec: "gzip", offsets: "exact", decoder: "fflate" });
    const n = await collect(decodeLayer(chunked(new Uint8Array(0)), `${OCI}+gzip`, { offsets: "bounded" }));
    expect(n.summary).toEqual({ compressedConsumed: 0, decompressed: 0, ended: false, codec: "gzip", offsets: "bounded", decoder: "zlib" });
    const zs = await collect(decodeLayer(chunked(new Uint8Array(0)), `${OCI}+zstd`, { offsets: "bounded" }));
    expect(zs.summary).toEqual({ compressedConsumed: 0, decompressed: 0, ended: false, members: 0, codec: "zstd", offsets: "bounded", decoder: "libzstd" });
    async function* empties() {
      yield new Uint8Array(0);
      yield new Uint8Array(0);
    }
    const b = await collect(decodeLayer(empties(), OCI));
    expect(b.summary).toEqual({ compressedConsumed: 0, decompressed: 0, ended: true, members: 0, codec: "tar", offsets: "exact", decoder: "plain" });
  });

  test("a source cut short decodes what is there", async () => {
    const cut = gz.subarray(0, Math.floor(gz.length / 2));
    const { out, summary } = await collect(decodeLayer(chunked(cut, 333), `${OCI}+gzip`));
    expect(out.length).toBeGreaterThan(0);
    expect(out).toEqual(tarBytes.subarray(0, out.length));
    expect(summary.ended).toBe(false);
  });

  test("stopping early closes the source (the download), for every codec and every way of stopping", async () => {
    const big = concat([tarBytes, sampleData(1_000_000)]); // starts like a tar, which is all sniffing sees
    const inputs = [Bun.gzipSync(big), run(["zstd", "-q", "-c"], big), big];
    for (const input of inputs) {
      // break out of for-await
      const t1 = tracked(input, 1000);
      for await (const _ of decodeLayer(t1.source, OCI)) break;
      expect(t1.state.closed).toBe(true);
      expect(t1.state.finished).toBe(false);
      expect(t1.state.pulled).toBeLessThan(200);
      // return() on the generator
      const t2 = tracked(input, 1000);
      const g = decodeLayer(t2.source, OCI);
      await g.next();
      await g.next();
      await g.return(undefined as never);
      expect(t2.state.closed).toBe(true);
      expect(t2.state.finished).toBe(false);
      // the consumer throws
      const t3 = tracked(input, 1000);
      await expect(
        (async () => {
          for await (const _ of decodeLayer(t3.source, OCI)) throw new Error("consumer gave up");
        })(),
      ).rejects.toThrow("consumer gave up");
      expect(t3.state.closed).toBe(true);
    }
  });

  test("the codecs on their own close their source when stopped early", async () => {
    const big = sampleData(500_000);
    for (const [decode, input] of [
      [gunzip, Bun.gzipSync(big)],
      [nativeGunzip, Bun.gzipSync(big)],
      [zstdDecode, run(["zstd", "-q", "-c"], big)],
      [nativeZstd, run(["zstd", "-q", "-c"], big)],
      [passthrough, big],
    ] as const) {
      const t = tracked(input, 1000);
      for await (const _ of decode(t.source)) break;
      expect(t.state.closed).toBe(true);
      expect(t.state.finished).toBe(false);
    }
  });

  test("errors close the source too: unsupported format, corrupt data", async () => {
    const bz = tracked(concat([new TextEncoder().encode("BZh91AY&SY"), new Uint8Array(5000)]), 100);
    await expectCode(collect(decodeLayer(bz.source, OCI)), "UNSUPPORTED", /bzip2/);
    expect(bz.state.closed).toBe(true);
    const bad = Bun.gzipSync(sampleData(200_000));
    bad[bad.length - 8]! ^= 1;
    for (const offsets of ["exact", "bounded"] as const) {
      const t = tracked(concat([bad, new Uint8Array(100_000).fill(1)]), 4096);
      await expectCode(collect(decodeLayer(t.source, OCI, { offsets })), "CORRUPT", /CRC32/);
      expect(t.state.closed).toBe(true);
      expect(t.state.finished).toBe(false);
    }
  });

  test("a source that throws: the error comes through unchanged", async () => {
    async function* failing() {
      yield gz.subarray(0, 1000);
      throw new Error("connection reset");
    }
    await expect(collect(decodeLayer(failing(), OCI))).rejects.toThrow("connection reset");
  });
});
