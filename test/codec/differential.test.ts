/**
 * The two decode paths against each other: the exact decoders (fflate, fzstd under our framing)
 * and the native ones (zlib, libzstd) must give identical listings on every fixture, the same
 * "ended" verdict on a stream cut anywhere, and the same class of error on every corrupt input.
 * Native offsets must be upper bounds: the first `compressedConsumed` bytes always suffice.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { decodeLayer, type LayerSummary, type OffsetPrecision } from "../../src/codec/index.ts";
import { LayerslayerError } from "../../src/errors.ts";
import { gnuTar, makeTree, type FileSpec } from "../support/fixtures.ts";
import { makeFixtures } from "../tar/fixtures.ts";
import { list, strip } from "../tar/helpers.ts";
import { chunked, collect, concat, gzipMember, jagged, le32, run, sampleData, type Bytes } from "./helpers.ts";

const OCI = "application/vnd.oci.image.layer.v1.tar";
const fx = makeFixtures();
afterAll(() => fx.cleanup());

function layerTree(): Uint8Array {
  const files: FileSpec[] = [
    { path: "etc/passwd", content: "root:x:0:0:root:/root:/bin/sh\n" },
    { path: "bin/tool", content: new Uint8Array(5000).fill(7), mode: 0o4755 },
    { path: "bin/link", symlink: "tool" },
    { path: "bin/hard", hardlink: "bin/tool" },
    { path: "tmp", dir: true, mode: 0o1777 },
    { path: `${"d".repeat(120)}/${"e".repeat(150)}.txt`, content: "long\n" },
  ];
  for (let i = 0; i < 150; i++) files.push({ path: `data/f${i}`, content: sampleData(300 + i * 29, i) });
  const root = makeTree(files);
  try {
    return gnuTar(root, "pax");
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

const tars: Record<string, Uint8Array> = {
  ustar: fx.ustar,
  gnu: fx.gnu,
  pax: fx.pax,
  "pax-global": fx.gnuGlobal,
  "sparse-gnu": fx.sparseGnu,
  "sparse-pax": fx.sparsePax,
  layer: layerTree(),
};

const gzipCli = (b: Uint8Array): Bytes => run(["gzip", "-c", "-6"], b);
const zstdCli = (b: Uint8Array, args: string[] = []): Bytes => run(["zstd", "-q", "-c", ...args], b);

/** `pieces` gzip members (some by hand with optional header fields), then zero padding. */
function multiGzip(b: Uint8Array, pieces = 7): Bytes {
  const parts: Uint8Array[] = [];
  const step = Math.ceil(b.length / pieces);
  for (let i = 0, k = 0; i < b.length; i += step, k++) {
    const part = b.subarray(i, i + step);
    parts.push(k % 2 ? gzipMember(part, { name: `part${k}`, hcrc: true, extra: new Uint8Array([1, 2, 3, 4]) }) : Bun.gzipSync(part as Bytes));
  }
  parts.push(gzipMember(new Uint8Array(0)), new Uint8Array(777));
  return concat(parts);
}

function skippable(n: number): Bytes {
  return concat([new Uint8Array([0x5a, 0x2a, 0x4d, 0x18, ...le32(n)]), new Uint8Array(n).fill(9)]);
}

/** Several zstd frames (with and without checksums), skippable frames between, zero padding after. */
function multiZstd(b: Uint8Array): Bytes {
  const third = Math.ceil(b.length / 3);
  return concat([
    skippable(5),
    zstdCli(b.subarray(0, third)),
    skippable(70_000),
    zstdCli(b.subarray(third, 2 * third), ["--no-check", "-19"]),
    zstdCli(b.subarray(2 * third), ["--zstd=wlog=17"]),
    new Uint8Array(300),
  ]);
}

const encodings: Record<string, (b: Uint8Array) => Uint8Array> = {
  gzip: gzipCli,
  "gzip multi-member": multiGzip,
  zstd: (b) => zstdCli(b),
  "zstd multi-frame": multiZstd,
  tar: (b) => b,
};

interface Run {
  listing: Awaited<ReturnType<typeof list>>;
  summary?: LayerSummary;
  chunks: { end: number; consumed: number }[];
}

/** Lists `input` through decodeLayer with the given offsets, keeping the decoder's chunks too. */
async function listVia(input: Uint8Array, offsets: OffsetPrecision, pieces = 65536, jag = false, transient = false): Promise<Run> {
  const chunks: { end: number; consumed: number }[] = [];
  let total = 0;
  const out: Run = { listing: { entries: [], events: [] }, chunks };
  async function* tap() {
    const g = decodeLayer(jag ? jagged(input, 3, pieces) : chunked(input, pieces), OCI, { offsets, transient });
    for (;;) {
      const r = await g.next();
      if (r.done) {
        out.summary = r.value;
        return;
      }
      total += r.value.data.length;
      chunks.push({ end: total, consumed: r.value.compressedConsumed });
      yield r.value;
    }
  }
  out.listing = await list(tap(), { drain: true });
  return out;
}

function errorClass(e: unknown): string | undefined {
  if (e === undefined) return undefined;
  return e instanceof LayerslayerError ? e.code : `not a LayerslayerError: ${String(e)}`;
}

/** Tar bytes the exact decoder makes from the first `n` compressed bytes. */
async function exactPrefix(input: Uint8Array, n: number): Promise<number> {
  return (await collect(decodeLayer(chunked(input.subarray(0, n), 1 << 20), OCI))).out.length;
}

describe("native and exact decoders give the same listings", () => {
  for (const [enc, encode] of Object.entries(encodings)) {
    test(`${enc}: every fixture, identical entries, completeness and summaries; native offsets are upper bounds`, async () => {
      for (const [name, tar] of Object.entries(tars)) {
        const input = encode(tar);
        const exact = await listVia(input, "exact");
        const native = await listVia(input, "bounded", 1000, true);
        expect(exact.listing.error).toBeUndefined();
        expect(native.listing.error).toBeUndefined();
        expect(exact.listing.summary?.complete).toBe(true);
        expect(native.listing.summary?.complete).toBe(true);
        expect(strip(native.listing.entries)).toEqual(strip(exact.listing.entries));
        expect(native.listing.entries.length).toBeGreaterThan(name.startsWith("sparse") ? 0 : 5);
        const { summary: es } = exact;
        const { summary: ns } = native;
        expect(es?.offsets).toBe("exact");
        expect(ns?.offsets).toBe(enc === "tar" ? "exact" : "bounded");
        expect({ c: ns?.compressedConsumed, d: ns?.decompressed, e: ns?.ended }).toEqual({ c: es?.compressedConsumed, d: es?.decompressed, e: es?.ended });
        expect(ns?.ended).toBe(true);
        // Offsets only grow and never pass the input; a few sampled ones really are upper bounds.
        let prev = 0;
        for (const c of native.chunks) {
          expect(c.consumed).toBeGreaterThanOrEqual(prev);
          expect(c.consumed).toBeLessThanOrEqual(input.length);
          prev = c.consumed;
        }
        for (const c of [native.chunks[0]!, native.chunks[native.chunks.length >> 1]!, native.chunks.at(-1)!]) {
          expect(await exactPrefix(input, c.consumed)).toBeGreaterThanOrEqual(c.end);
        }
        if (name === "layer" && enc !== "tar") expect(native.chunks.length).toBeGreaterThan(1);
        // Chunks in reused buffers (a listing's tar reader copies what it keeps): the same listing.
        const transient = await listVia(input, "bounded", 5000, true, true);
        expect(transient.listing.error).toBeUndefined();
        expect(strip(transient.listing.entries)).toEqual(strip(exact.listing.entries));
        expect(transient.summary?.decompressed).toBe(es?.decompressed);
      }
    });
  }
});

describe("native and exact decoders agree on cut and corrupt input", () => {
  const tar = tars.layer!;
  for (const [enc, encode] of Object.entries(encodings)) {
    if (enc === "tar") continue;
    const input = encode(tar);
    test(`${enc}: cut anywhere, the same verdict (ended or not) and no error`, async () => {
      const cuts = new Set<number>([0, 1, 2, 5, 10, 17, 18, 30, input.length - 1]);
      for (let i = 0; i < 25; i++) cuts.add(Math.floor((i / 25) * input.length));
      for (let i = 1; i <= 12; i++) cuts.add(input.length - 300 - i * 3);
      for (const cut of cuts) {
        const part = input.subarray(0, cut);
        const mt = `${OCI}+${enc.slice(0, 4)}`;
        const outcome = async (offsets: OffsetPrecision) => {
          try {
            return { ...(await collect(decodeLayer(chunked(part, 4096), mt, { offsets }))), error: undefined };
          } catch (e) {
            return { error: errorClass(e), out: undefined, summary: undefined };
          }
        };
        const exact = await outcome("exact");
        const native = await outcome("bounded");
        expect({ cut, error: native.error }).toEqual({ cut, error: exact.error });
        if (exact.error) {
          expect(cut).toBeLessThan(4); // too short to tell what it is
          continue;
        }
        expect(native.summary!.ended).toBe(exact.summary!.ended);
        expect(native.out).toEqual(exact.out!.subarray(0, native.out!.length));
        expect(native.out!.length).toBeLessThanOrEqual(exact.out!.length);
        if (cut > input.length / 2) expect(native.out!.length).toBeGreaterThan(tar.length / 3);
      }
    });

    test(`${enc}: a byte flipped anywhere gives the same class of error on both paths`, async () => {
      const rnd = (i: number) => ((i * 2654435761) >>> 0) % input.length;
      const positions = new Set<number>([0, 3, 4, 9, 12, input.length - 2, input.length - 5, input.length - 9]);
      for (let i = 0; i < 30; i++) positions.add(rnd(i + 1));
      for (const at of positions) {
        const bad = input.slice();
        bad[at] = bad[at]! ^ 0x5a;
        const outcome = async (offsets: OffsetPrecision) => {
          try {
            const r = await collect(decodeLayer(chunked(bad, 8192), OCI, { offsets }));
            return { error: undefined, out: r.out, ended: r.summary.ended };
          } catch (e) {
            return { error: errorClass(e), out: undefined, ended: undefined };
          }
        };
        const exact = await outcome("exact");
        const native = await outcome("bounded");
        if (exact.error || !native.error) {
          expect({ at, error: native.error }).toEqual({ at, error: exact.error });
        } else {
          // The native path refused what the exact one let through. Either the exact path saw a
          // stream cut short (ended: false: the flip hid a gzip member's end, so inflate ran on
          // through the trailer and the input ran out mid-block; a whole-blob read reports that as
          // corrupt too), or, in zstd without checksums, it produced wrong bytes fzstd does not check.
          expect({ at, error: native.error }).toEqual({ at, error: "CORRUPT" });
          if (exact.ended) {
            expect(enc).toBe("zstd multi-frame");
            expect(exact.out).not.toEqual(tar);
          }
        }
        if (!exact.error && !native.error) {
          // Undetected: the flip hit bytes nothing checks (a skippable frame, zero padding), or it
          // made the stream look cut short (ended: false). Native output may stop earlier then:
          // zlib keeps back its last output when the input ends inside a block.
          expect(native.ended).toBe(exact.ended!);
          expect(native.out).toEqual(exact.out!.subarray(0, native.out!.length));
          if (exact.ended) expect(native.out!.length).toBe(exact.out!.length);
          else expect(native.out!.length).toBeGreaterThan(exact.out!.length - 128 * 1024);
        }
      }
    });
  }

  test("trailers, headers and padding: each check fails the same way on both paths", async () => {
    const data = sampleData(50_000, 5);
    const gz = gzipCli(data);
    const flip = (b: Uint8Array, at: number, x = 1) => {
      const c = b.slice();
      const i = at < 0 ? c.length + at : at;
      c[i] = c[i]! ^ x;
      return c;
    };
    const zs = zstdCli(data);
    const cases: Record<string, [Uint8Array, string | undefined]> = {
      "gzip CRC32": [flip(gz, -8), "CORRUPT"],
      "gzip ISIZE": [flip(gz, -2), "CORRUPT"],
      "gzip header CRC": [flip(gzipMember(data, { hcrc: true, name: "x" }), 12), "CORRUPT"],
      "gzip reserved flag": [flip(gz, 3, 0x20), "CORRUPT"],
      "gzip method": [flip(gz, 2, 1), "CORRUPT"],
      "gzip zero padding": [concat([gz, new Uint8Array(5000)]), undefined],
      "gzip padding then garbage": [concat([gz, new Uint8Array(50), new Uint8Array([7])]), "CORRUPT"],
      "gzip garbage after a member": [concat([gz, new Uint8Array([7, 7, 7])]), "CORRUPT"],
      "gzip then a second magic only": [concat([gz, new Uint8Array([0x1f])]), undefined],
      "zstd checksum": [flip(zs, -1), "CORRUPT"],
      "zstd reserved header bit": [flip(zs, 4, 0x08), "CORRUPT"],
      "zstd dictionary": [concat([zs.subarray(0, 4), new Uint8Array([0x01, 0x50, 5]), zs.subarray(6)]), "UNSUPPORTED"],
      "zstd content size": [flip(Bun.zstdCompressSync(new Uint8Array(200).fill(3)), 5, 1), "CORRUPT"],
      "zstd zero padding": [concat([zs, new Uint8Array(9)]), undefined],
      "zstd padding then garbage": [concat([zs, new Uint8Array(9), new Uint8Array([1])]), "CORRUPT"],
      "zstd garbage after a frame": [concat([zs, new Uint8Array([1, 2, 3, 4, 5])]), "CORRUPT"],
    };
    for (const [name, [input, want]] of Object.entries(cases)) {
      for (const offsets of ["exact", "bounded"] as const) {
        let got: string | undefined;
        try {
          await collect(decodeLayer(chunked(input, 1000), OCI, { offsets }));
        } catch (e) {
          got = errorClass(e);
        }
        expect({ name, offsets, got }).toEqual({ name, offsets, got: want });
      }
    }
  });
});
