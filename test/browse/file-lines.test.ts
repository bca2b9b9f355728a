import { describe, expect, test } from "bun:test";
import { hexLines, isBinary, textLines } from "../../src/browse/file-lines.ts";

describe("file lines", () => {
  test("text: numbered, tabs expanded, escape sequences from the image shown escaped", () => {
    const bytes = new TextEncoder().encode("a\tb\n\x1b[31mred\r\n\n");
    expect(textLines(bytes)).toEqual(["1 │ a       b", "2 │ \\x1b[31mred", "3 │ "]);
  });

  test("binary: a NUL byte or bytes that are not UTF-8; a cut UTF-8 character at the end is still text", () => {
    expect(isBinary(new Uint8Array([0x41, 0, 0x42]))).toBe(true);
    expect(isBinary(new Uint8Array([0x41, 0xff, 0xfe, 0x41, 0x41, 0x41]))).toBe(true);
    const e = new TextEncoder().encode("héllo wörld");
    expect(isBinary(e.subarray(0, e.length - 1))).toBe(false);
  });

  test("hex: offset, two groups of eight, printable ASCII", () => {
    const bytes = new TextEncoder().encode("ELF\x7f\x00 hello, world!\n");
    expect(hexLines(bytes)).toEqual([
      "00000000  45 4c 46 7f 00 20 68 65  6c 6c 6f 2c 20 77 6f 72  |ELF.. hello, wor|",
      "00000010  6c 64 21 0a                                       |ld!.|",
    ]);
  });
});
