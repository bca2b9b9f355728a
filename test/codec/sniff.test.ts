import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { codecFor, codecFromMediaType, identifyOther, sniff, tarChecksumOk } from "../../src/codec/sniff.ts";
import { LayerslayerError } from "../../src/errors.ts";
import { prng, run, sampleData } from "./helpers.ts";

const OCI = "application/vnd.oci.image.layer.v1.tar";
const DOCKER_GZ = "application/vnd.docker.image.rootfs.diff.tar.gzip";

/** A tar made by GNU tar in the given format, of one small file. */
function gnuTar(format: string): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), "codec-sniff-"));
  try {
    mkdirSync(join(dir, "etc"));
    writeFileSync(join(dir, "etc", "hostname"), "box\n");
    const r = Bun.spawnSync(["tar", `--format=${format}`, "-C", dir, "-cf", "-", "etc"], { stdout: "pipe" });
    return new Uint8Array(r.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const bytes = (...b: number[]) => new Uint8Array(b);
const text = (s: string) => new TextEncoder().encode(s);

function randomBlock(seed: number): Uint8Array {
  const rnd = prng(seed);
  return Uint8Array.from({ length: 512 }, () => Math.floor(rnd() * 256));
}

function unsupported(first: Uint8Array, mediaType = OCI): string {
  try {
    codecFor(first, mediaType);
  } catch (e) {
    expect(e).toBeInstanceOf(LayerslayerError);
    expect((e as LayerslayerError).code).toBe("UNSUPPORTED");
    return (e as LayerslayerError).message;
  }
  throw new Error("expected UNSUPPORTED");
}

describe("sniff", () => {
  test("compressed formats by magic", () => {
    expect(sniff(Bun.gzipSync(text("x")))).toBe("gzip");
    expect(sniff(run(["zstd", "-q", "-c"], text("x")))).toBe("zstd");
    expect(sniff(bytes(0x5e, 0x2a, 0x4d, 0x18, 0, 0, 0, 0))).toBe("zstd"); // skippable frame first
  });

  test("tar in every GNU tar format, including pre-POSIX v7 (checksum only) and an empty archive", () => {
    for (const f of ["ustar", "gnu", "pax", "posix", "oldgnu", "v7"]) expect(sniff(gnuTar(f))).toBe("tar");
    const v7 = gnuTar("v7");
    expect(Array.from(v7.subarray(257, 262))).toEqual([0, 0, 0, 0, 0]); // no magic: the checksum decided
    expect(tarChecksumOk(v7)).toBe(true);
    const broken = v7.slice();
    broken[10]! ^= 1;
    expect(tarChecksumOk(broken)).toBe(false);
    expect(sniff(broken)).toBe("unknown");
    expect(sniff(run(["tar", "-cf", "-", "-T", "/dev/null"], new Uint8Array(0)))).toBe("tar");
  });

  test("unknown: random bytes, text, too few bytes", () => {
    for (let s = 1; s < 50; s++) expect(sniff(randomBlock(s))).not.toBe("tar");
    expect(sniff(sampleData(512))).toBe("unknown");
    expect(sniff(new Uint8Array(100))).toBe("unknown"); // zeros, but not a whole block
    expect(sniff(new Uint8Array(0))).toBe("unknown");
  });

  test("other formats are named", () => {
    expect(identifyOther(text("BZh91AY&SY"))).toBe("bzip2-compressed");
    expect(identifyOther(bytes(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0, 4))).toBe("xz-compressed");
    expect(identifyOther(text("PK\x03\x04\x14\x00"))).toBe("a zip archive");
    expect(identifyOther(text('  \n{"schemaVersion": 2}'))).toBe("JSON");
    expect(identifyOther(text("<!DOCTYPE html><html>"))).toBe("HTML or XML");
    expect(identifyOther(bytes(0x04, 0x22, 0x4d, 0x18))).toBe("lz4-compressed");
    expect(identifyOther(randomBlock(3).fill(0x41, 0, 4))).toBeUndefined();
  });
});

describe("codecFromMediaType", () => {
  test("layer media types", () => {
    expect(codecFromMediaType(OCI)).toBe("tar");
    expect(codecFromMediaType(`${OCI}+gzip`)).toBe("gzip");
    expect(codecFromMediaType(`${OCI}+zstd`)).toBe("zstd");
    expect(codecFromMediaType(DOCKER_GZ)).toBe("gzip");
    expect(codecFromMediaType("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip")).toBe("gzip");
    expect(codecFromMediaType("application/vnd.oci.image.layer.nondistributable.v1.tar+zstd")).toBe("zstd");
    expect(codecFromMediaType("application/vnd.oci.image.config.v1+json")).toBeUndefined();
    expect(codecFromMediaType("")).toBeUndefined();
  });
});

describe("codecFor", () => {
  test("magic bytes win over a media type that disagrees", () => {
    const gz = Bun.gzipSync(sampleData(2000));
    expect(codecFor(gz, OCI)).toBe("gzip");
    expect(codecFor(gnuTar("pax"), DOCKER_GZ)).toBe("tar");
    expect(codecFor(run(["zstd", "-q", "-c"], text("hello")), DOCKER_GZ)).toBe("zstd");
  });

  test("unsupported formats are named in the error", () => {
    expect(unsupported(text("BZh91AY&SY"), DOCKER_GZ)).toStartWith("layer is bzip2-compressed, which is not supported");
    expect(unsupported(bytes(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00))).toStartWith("layer is xz-compressed, which is not supported");
    expect(unsupported(text("PK\x03\x04rest"))).toStartWith("layer is a zip archive, which is not supported");
    expect(unsupported(text('{"errors":[]}'))).toStartWith("layer is JSON, which is not supported");
    const block = new Uint8Array(512);
    block.set([0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99]);
    expect(unsupported(block)).toStartWith("layer starts with bytes 00 11 22 33 44 55 66 77 …, not gzip, zstd or tar");
    expect(unsupported(block)).toContain(`(media type ${OCI})`);
  });

  test("too few bytes to tell: the media type breaks the tie, if the bytes allow it", () => {
    expect(codecFor(new Uint8Array(0), `${OCI}+zstd`)).toBe("zstd");
    expect(codecFor(new Uint8Array(0), "")).toBe("tar");
    expect(codecFor(bytes(0x1f), DOCKER_GZ)).toBe("gzip");
    expect(codecFor(bytes(0x28, 0xb5), `${OCI}+zstd`)).toBe("zstd");
    expect(codecFor(sampleData(300), OCI)).toBe("tar"); // a tar cut short inside its first header
    expect(unsupported(bytes(0x1f), `${OCI}+zstd`)).toContain("not gzip, zstd or tar");
    expect(unsupported(sampleData(300), DOCKER_GZ)).toContain("not gzip, zstd or tar");
  });
});
