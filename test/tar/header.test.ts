import { describe, expect, test } from "bun:test";
import { LayerslayerError } from "../../src/errors.ts";
import { normalizePath } from "../../src/tar/entry.ts";
import { checksumOk, entryTypeOf, parseHeader, parseNumeric } from "../../src/tar/header.ts";
import { base256, bytesOf, header } from "./helpers.ts";

function field(s: string | Uint8Array, len = 12): Uint8Array {
  const b = new Uint8Array(len);
  b.set(typeof s === "string" ? bytesOf(s) : s);
  return b;
}
const num = (s: string | Uint8Array, len = 12) => parseNumeric(field(s, len), 0, len, "size", 0);

function corruptOf(f: () => unknown): LayerslayerError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(LayerslayerError);
    expect((e as LayerslayerError).code).toBe("CORRUPT");
    return e as LayerslayerError;
  }
  throw new Error("expected a CORRUPT error");
}

describe("numeric fields", () => {
  test("octal with NUL or space terminators and leading spaces", () => {
    expect(num("0000644\0", 8)).toBe(0o644);
    expect(num("   644 \0", 8)).toBe(0o644);
    expect(num("644 ", 8)).toBe(0o644);
    expect(num("77777777777\0")).toBe(8 * 1024 ** 3 - 1);
    expect(num("777777777777")).toBe(8 ** 12 - 1); // field filled, no terminator
    expect(num("")).toBe(0); // all NUL
    expect(num("        ", 8)).toBe(0);
  });

  test("junk in an octal field is CORRUPT", () => {
    expect(corruptOf(() => num("12x4\0")).message).toContain("size");
    corruptOf(() => num("0000899\0"));
    corruptOf(() => num("-1\0"));
    corruptOf(() => num("12 34\0")); // Go: only spaces/NULs around the digits (GNU tar stops at the space)
  });

  test("base-256 positive, up to 2^53 and beyond", () => {
    expect(num(base256(9n * 1024n ** 3n))).toBe(9 * 1024 ** 3);
    expect(num(base256(2n ** 53n - 1n))).toBe(Number.MAX_SAFE_INTEGER);
    expect(num(base256(0n))).toBe(0);
    const big = num(base256(2n ** 53n + 2n));
    expect(Number.isSafeInteger(big)).toBe(false);
    expect(big).toBeGreaterThan(Number.MAX_SAFE_INTEGER);
    // Go: a base-256 value must fit in 63 bits.
    expect(() => num(base256(2n ** 63n))).toThrow(LayerslayerError);
    expect(num(base256(2n ** 63n - 1n))).toBeGreaterThan(Number.MAX_SAFE_INTEGER);
  });

  test("base-256 negative (two's complement)", () => {
    expect(num(base256(-1n))).toBe(-1);
    expect(num(base256(-2n))).toBe(-2);
    expect(num(base256(-1234567890123n))).toBe(-1234567890123);
    expect(num(base256(-5n, 8), 8)).toBe(-5);
  });
});

describe("header blocks", () => {
  test("zero block is the end marker", () => {
    expect(parseHeader(new Uint8Array(512), 0, 0)).toBeNull();
  });

  test("a header at an odd position inside a bigger buffer", () => {
    const buf = new Uint8Array(2000);
    buf.set(header({ name: "x/y", size: 5, uname: "alice", gname: "staff" }), 333);
    const h = parseHeader(buf, 333, 7)!;
    expect(h.name).toBe("x/y");
    expect(h.size).toBe(5);
    expect(h.uname).toBe("alice");
    expect(h.gname).toBe("staff");
    expect(h.format).toBe("ustar");
  });

  test("unsigned and signed checksums are both accepted, a wrong one is CORRUPT with the offset", () => {
    const latin = new Uint8Array([0x63, 0x61, 0x66, 0xe9]); // "caf\xe9": a byte >= 0x80 makes the sums differ
    const u = header({ name: latin, checksum: "unsigned" });
    const s = header({ name: latin, checksum: "signed" });
    expect(u.subarray(148, 156)).not.toEqual(s.subarray(148, 156));
    expect(checksumOk(u, 0, 0)).toBe(true);
    expect(checksumOk(s, 0, 0)).toBe(true);
    expect(parseHeader(s, 0, 0)!.name).toBe("caf\udce9"); // the byte kept (text.ts)
    const bad = header({ name: "f", checksum: 12345 });
    expect(corruptOf(() => parseHeader(bad, 0, 4096)).message).toContain("at tar offset 4096");
    const garbage = new Uint8Array(512).fill(0x41);
    corruptOf(() => parseHeader(garbage, 0, 0));
  });

  test("ustar prefix is joined with '/', GNU magic ignores that area", () => {
    const p = "p".repeat(150);
    expect(parseHeader(header({ name: "n".repeat(100), prefix: p }), 0, 0)!.name).toBe(`${p}/${"n".repeat(100)}`);
    // GNU: bytes 345.. are atime/ctime/etc., never part of the name.
    const g = header({ name: "short", magic: "gnu", poke: [[345, bytesOf("12345670123\0")]] });
    const h = parseHeader(g, 0, 0)!;
    expect(h.format).toBe("gnu");
    expect(h.name).toBe("short");
  });

  test("v7 headers: no magic, no user names", () => {
    const h = parseHeader(header({ name: "olddir/", typeflag: "\0", magic: "v7", mode: 0o755 }), 0, 0)!;
    expect(h.format).toBe("v7");
    expect(h.uname).toBe("");
    expect(h.name).toBe("olddir/");
  });

  test("device numbers for char and block devices", () => {
    const h = parseHeader(header({ name: "dev/sda", typeflag: "4", devmajor: 8, devminor: 1 }), 0, 0)!;
    expect([h.devmajor, h.devminor]).toEqual([8, 1]);
  });

  test("negative base-256 mtime", () => {
    const h = parseHeader(header({ mtime: base256(-86400n) }), 0, 0)!;
    expect(h.mtime).toBe(-86400);
  });

  test("type flags map to words; unknown flags are files", () => {
    const cases: Array<[string, string]> = [
      ["0", "file"],
      ["1", "hardlink"],
      ["2", "symlink"],
      ["3", "char"],
      ["4", "block"],
      ["5", "dir"],
      ["6", "fifo"],
      ["7", "contiguous"],
      ["D", "dir"],
      ["Z", "file"],
      ["V", "file"],
    ];
    for (const [flag, word] of cases) expect([flag, entryTypeOf(flag.charCodeAt(0))]).toEqual([flag, word]);
  });
});

describe("normalizePath", () => {
  test("leading ./ and /, trailing /, root", () => {
    const cases: Array<[string, string]> = [
      ["./etc/passwd", "etc/passwd"],
      ["etc/passwd", "etc/passwd"],
      ["/etc/passwd", "etc/passwd"],
      [".//./etc/", "etc"],
      ["usr/", "usr"],
      ["./", "."],
      [".", "."],
      ["/", "."],
      ["", "."],
      ["..", ".."],
      ["../x", "../x"],
      ["a//b/./c", "a//b/./c"],
      [".hidden", ".hidden"],
      ["./.wh..wh..opq", ".wh..wh..opq"],
    ];
    for (const [input, want] of cases) expect([input, normalizePath(input)]).toEqual([input, want]);
  });
});
