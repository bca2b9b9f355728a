import { describe, expect, test } from "bun:test";
import { decodeName, encodeName, hasRawBytes } from "../../src/tar/text.ts";

const bytes = (...b: number[]) => Uint8Array.from(b);

describe("names kept byte for byte", () => {
  test("UTF-8 decodes to its characters; other bytes to U+DC80..U+DCFF; encode gives the bytes back", () => {
    const cases: Array<[Uint8Array, string]> = [
      [new TextEncoder().encode("etc/passwd"), "etc/passwd"],
      [new TextEncoder().encode("grüße/😀"), "grüße/😀"],
      [bytes(0x61, 0x80, 0x62), "a\udc80b"],
      [bytes(0xff, 0xfe), "\udcff\udcfe"],
      [bytes(0xc3), "\udcc3"], // a sequence cut short
      [bytes(0xc0, 0xaf), "\udcc0\udcaf"], // overlong "/"
      [bytes(0xed, 0xa0, 0x80), "\udced\udca0\udc80"], // an encoded surrogate is not UTF-8
      [bytes(0xf4, 0x90, 0x80, 0x80), "\udcf4\udc90\udc80\udc80"], // beyond U+10FFFF
      [bytes(0xe9, 0x74, 0xc3, 0xa9), "\udce9té"], // latin-1 then UTF-8
    ];
    for (const [b, s] of cases) {
      expect(decodeName(b)).toBe(s);
      expect(Array.from(encodeName(s))).toEqual(Array.from(b));
      expect(hasRawBytes(s)).toBe(s !== new TextDecoder().decode(b) || /[\udc80-\udcff]/.test(s));
    }
  });

  test("one to one: every 1- and 2-byte name decodes to a different string that encodes back", () => {
    const seen = new Set<string>();
    for (let a = 1; a < 256; a++) {
      for (let b = 0; b < 256; b += a < 0x80 ? 255 : 1) {
        const b2 = b === 0 ? bytes(a) : bytes(a, b);
        const s = decodeName(b2);
        expect(seen.has(s)).toBe(false);
        seen.add(s);
        expect(Buffer.compare(Buffer.from(encodeName(s)), Buffer.from(b2))).toBe(0);
      }
    }
  });

  test("a valid surrogate pair is not a raw byte", () => {
    expect(hasRawBytes("😀")).toBe(false);
    expect(hasRawBytes("x\udc80")).toBe(true);
    expect(hasRawBytes("\udc7f")).toBe(false); // not a byte escape
  });
});
