import { describe, expect, test } from "bun:test";
import { LayerslayerError } from "../../src/errors.ts";
import { gnuLongName, mergePax, parsePax, paxGet, paxInt, paxSize, paxTime } from "../../src/tar/pax.ts";
import { bytesOf, concat, paxRecords } from "./helpers.ts";

function expectCorrupt(f: () => unknown): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(LayerslayerError);
  expect((err as LayerslayerError).code).toBe("CORRUPT");
}

describe("parsePax", () => {
  test("values may contain '=' and newlines; UTF-8; the length counts itself", () => {
    const data = paxRecords([
      ["path", "a=b\nc=d"],
      ["linkpath", "ziel/ünïcödé/😀"],
      ["mtime", "1600000000.123456789"],
      ["comment", ""],
    ]);
    const r = parsePax(data, 0);
    expect(r.get("path")).toBe("a=b\nc=d");
    expect(r.get("linkpath")).toBe("ziel/ünïcödé/😀");
    expect(r.get("mtime")).toBe("1600000000.123456789");
    expect(r.get("comment")).toBe("");
    // Exact text: "9 a=b=c\n" is 8 bytes (a wrong length), "8 a=b=c\n" is right.
    expect(parsePax(bytesOf("8 a=b=c\n"), 0).get("a")).toBe("b=c");
    expect(parsePax(bytesOf("10 path=\n\n"), 0).get("path")).toBe("\n");
  });

  test("the last record for a key wins; trailing NUL padding is fine", () => {
    const r = parsePax(concat(paxRecords([["uid", "1"], ["uid", "2"]]), new Uint8Array(20)), 0);
    expect(r.get("uid")).toBe("2");
  });

  test("malformed records are CORRUPT", () => {
    expectCorrupt(() => parsePax(bytesOf("9 a=b=c\n"), 0)); // length off by one
    expectCorrupt(() => parsePax(bytesOf("7 a=b=c\n"), 0));
    expectCorrupt(() => parsePax(bytesOf("6 abc\n"), 0)); // no '='
    expectCorrupt(() => parsePax(bytesOf("5 =b\n"), 0)); // empty key
    expectCorrupt(() => parsePax(bytesOf("x a=b\n"), 0)); // no length
    expectCorrupt(() => parsePax(bytesOf("6 a=bc"), 0)); // no newline, runs past the end
    expectCorrupt(() => parsePax(bytesOf("0 a=b\n"), 0));
    expectCorrupt(() => parsePax(bytesOf("99999999999999999999 a=b\n"), 0));
    expectCorrupt(() => parsePax(concat(paxRecords([["a", "b"]]), new Uint8Array([0, 0, 65])), 0));
  });

  test("GNU long names stop at the first NUL", () => {
    expect(gnuLongName(concat(bytesOf("long/name"), new Uint8Array([0, 0, 0])))).toBe("long/name");
    expect(gnuLongName(bytesOf("no-nul"))).toBe("no-nul");
  });
});

describe("merging and values", () => {
  test("an entry's records override the global ones; an empty value falls back to the header", () => {
    const g = new Map([
      ["uname", "global"],
      ["gname", "globalgroup"],
      ["uid", "7"],
    ]);
    const x = new Map([
      ["uname", "local"],
      ["gname", ""],
    ]);
    const m = mergePax(g, x);
    expect(paxGet(m, "uname")).toBe("local");
    expect(paxGet(m, "gname")).toBeUndefined();
    expect(paxInt(m, "uid")).toBe(7);
    expect(mergePax(null, x)).toBe(x);
    expect(mergePax(g, null)).toBe(g);
  });

  test("times with fractions, sizes and ints", () => {
    const r = new Map([
      ["mtime", "1600000000.5"],
      ["atime", "-12.25"],
      ["ctime", "bogus"],
      ["size", "9663676416"],
      ["uid", "4000000"],
      ["gid", "1.5"],
      ["bad", "-3"],
      ["huge", "9007199254740993"],
    ]);
    expect(paxTime(r, "mtime")).toBe(1600000000.5);
    expect(paxTime(r, "atime")).toBe(-12.25);
    expect(paxTime(r, "ctime")).toBeUndefined();
    expect(paxSize(r, "size", 0)).toBe(9663676416);
    expect(paxSize(r, "missing", 0)).toBeUndefined();
    expect(paxInt(r, "uid")).toBe(4000000);
    expect(paxInt(r, "gid")).toBeUndefined();
    expectCorrupt(() => paxSize(r, "bad", 0));
    expectCorrupt(() => paxSize(r, "huge", 0));
    expectCorrupt(() => paxSize(r, "mtime", 0));
  });
});
