import { describe, expect, test } from "bun:test";
import { LayerslayerError } from "../../src/errors.ts";
import { gnuLongName, goInt, goPaxTime, parsePax, paxGet, paxInt, paxTime } from "../../src/tar/pax.ts";
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

  test("the last record for a key wins; anything after the records (NUL padding too) is CORRUPT, as in Go", () => {
    const r = parsePax(
      paxRecords([
        ["uid", "1"],
        ["uid", "2"],
      ]),
      0,
    );
    expect(r.get("uid")).toBe("2");
    expectCorrupt(() => parsePax(concat(paxRecords([["uid", "1"]]), new Uint8Array(20)), 0));
  });

  test("NUL: never in a key, never in path/linkpath/uname/gname values; allowed in other values", () => {
    expectCorrupt(() => parsePax(paxRecords([["path", "a\0b"]]), 0));
    expectCorrupt(() => parsePax(paxRecords([["linkpath", "a\0"]]), 0));
    expectCorrupt(() => parsePax(paxRecords([["uname", "\0"]]), 0));
    expectCorrupt(() => parsePax(paxRecords([["SCHILY.xattr.a\0b", "v"]]), 0));
    expect(parsePax(paxRecords([["SCHILY.xattr.user.x", "a\0b"]]), 0).get("SCHILY.xattr.user.x")).toBe("a\0b");
  });

  test("GNU sparse 0.0 offset/numbytes records are joined into GNU.sparse.map, in order", () => {
    const r = parsePax(
      paxRecords([
        ["GNU.sparse.numblocks", "2"],
        ["GNU.sparse.offset", "0"],
        ["GNU.sparse.numbytes", "5"],
        ["GNU.sparse.offset", "100"],
        ["GNU.sparse.numbytes", "7"],
      ]),
      0,
    );
    expect(r.get("GNU.sparse.map")).toBe("0,5,100,7");
    expectCorrupt(() => parsePax(paxRecords([["GNU.sparse.numbytes", "5"]]), 0));
    expectCorrupt(() => parsePax(paxRecords([["GNU.sparse.offset", "1,2"]]), 0));
  });

  test("bytes that are not UTF-8 are kept", () => {
    const data = concat(bytesOf("13 path=a"), new Uint8Array([0xff, 0x80]), bytesOf("b\n"));
    expect(parsePax(data, 0).get("path")).toBe("a\udcff\udc80b");
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

describe("values, as Go parses them", () => {
  test("integers: optional sign, decimal, 64-bit", () => {
    expect(goInt("42")).toBe(42);
    expect(goInt("+42")).toBe(42);
    expect(goInt("-3")).toBe(-3);
    expect(goInt("9223372036854775807")).toBe(9223372036854775807);
    expect(goInt("9223372036854775808")).toBeUndefined();
    expect(goInt("1.5")).toBeUndefined();
    expect(goInt("")).toBeUndefined();
    expect(goInt(" 1")).toBeUndefined();
  });

  test("times: seconds with an optional fraction (digits only)", () => {
    expect(goPaxTime("1600000000.5")).toBe(1600000000.5);
    expect(goPaxTime("-12.25")).toBe(-12.25);
    expect(goPaxTime("5.")).toBe(5);
    expect(goPaxTime("1.5e3")).toBeUndefined();
    expect(goPaxTime(".5")).toBeUndefined();
    expect(goPaxTime("bogus")).toBeUndefined();
  });

  test("records: absent or empty → undefined (the header's value stays); malformed → CORRUPT", () => {
    const r = new Map([
      ["uid", "4000000"],
      ["gid", ""],
      ["mtime", "1600000000.5"],
      ["size", "12x"],
      ["ctime", "soon"],
    ]);
    expect(paxGet(r, "gid")).toBeUndefined();
    expect(paxInt(r, "uid", 0)).toBe(4000000);
    expect(paxInt(r, "gid", 0)).toBeUndefined();
    expect(paxInt(null, "uid", 0)).toBeUndefined();
    expect(paxTime(r, "mtime", 0)).toBe(1600000000.5);
    expectCorrupt(() => paxInt(r, "size", 0));
    expectCorrupt(() => paxTime(r, "ctime", 0));
  });
});
