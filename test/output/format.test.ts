import { describe, expect, test } from "bun:test";
import { isLayerslayerError } from "../../src/errors.ts";
import { formatTable, formatTime, humanSize, modeString, pad, parseSize, width } from "../../src/output/format.ts";
import { escapeName, unescapeName } from "../../src/names.ts";

describe("modeString", () => {
  test("types and permissions", () => {
    expect(modeString("file", 0o644)).toBe("-rw-r--r--");
    expect(modeString("dir", 0o755)).toBe("drwxr-xr-x");
    expect(modeString("symlink", 0o777)).toBe("lrwxrwxrwx");
    expect(modeString("char", 0o666)).toBe("crw-rw-rw-");
    expect(modeString("block", 0o660)).toBe("brw-rw----");
    expect(modeString("fifo", 0o600)).toBe("prw-------");
    expect(modeString("hardlink", 0o755)).toBe("-rwxr-xr-x");
    expect(modeString("contiguous", 0o400)).toBe("-r--------");
    expect(modeString("file", 0)).toBe("----------");
  });

  test("setuid, setgid, sticky with and without x", () => {
    expect(modeString("file", 0o4755)).toBe("-rwsr-xr-x");
    expect(modeString("file", 0o4644)).toBe("-rwSr--r--");
    expect(modeString("file", 0o2755)).toBe("-rwxr-sr-x");
    expect(modeString("file", 0o2745)).toBe("-rwxr-Sr-x");
    expect(modeString("dir", 0o1777)).toBe("drwxrwxrwt");
    expect(modeString("dir", 0o1776)).toBe("drwxrwxrwT");
    expect(modeString("file", 0o7000)).toBe("---S--S--T");
    // file-type bits in mode are ignored
    expect(modeString("file", 0o100644)).toBe("-rw-r--r--");
  });
});

describe("humanSize", () => {
  test("like ls -h (1024-based, rounded up)", () => {
    expect(humanSize(0)).toBe("0");
    expect(humanSize(1023)).toBe("1023");
    expect(humanSize(1024)).toBe("1.0K");
    expect(humanSize(1025)).toBe("1.1K");
    expect(humanSize(1536)).toBe("1.5K");
    expect(humanSize(10 * 1024 - 1)).toBe("10K");
    expect(humanSize(10 * 1024)).toBe("10K");
    expect(humanSize(23 * 1024 * 1024)).toBe("23M");
    expect(humanSize(1024 * 1024 - 1)).toBe("1.0M");
    expect(humanSize(5.5 * 1024 ** 3)).toBe("5.5G");
    expect(humanSize(2 ** 60)).toBe("1.0E");
    expect(humanSize(-1)).toBe("?");
    expect(humanSize(Number.NaN)).toBe("?");
  });
});

describe("parseSize", () => {
  test("accepted forms (K, KB, KiB all 1024)", () => {
    expect(parseSize("1000")).toBe(1000);
    expect(parseSize("64K")).toBe(65536);
    expect(parseSize("64k")).toBe(65536);
    expect(parseSize("256KB")).toBe(256 * 1024);
    expect(parseSize("1MiB")).toBe(1024 * 1024);
    expect(parseSize("1M")).toBe(1024 * 1024);
    expect(parseSize("1.5M")).toBe(1572864);
    expect(parseSize("2 G")).toBe(2 * 1024 ** 3);
    expect(parseSize("100B")).toBe(100);
    expect(parseSize(" 0 ")).toBe(0);
    expect(parseSize("1.0001K")).toBe(1024); // rounded down
  });

  test("bad inputs are USAGE errors naming the value", () => {
    for (const bad of ["", "abc", "-1", "1X", "1.2.3", "K", "1.5", "1e3", "64KK", "1 K B", "0x10", "Infinity", "99999999999P"]) {
      let err: unknown;
      try {
        parseSize(bad, "--budget");
      } catch (e) {
        err = e;
      }
      expect(isLayerslayerError(err)).toBe(true);
      if (isLayerslayerError(err)) {
        expect(err.code).toBe("USAGE");
        expect(err.message).toContain(`"${bad}"`);
        expect(err.message).toContain("--budget");
      }
    }
  });

  test("the bad value is escaped in the message", () => {
    try {
      parseSize("\x1b[2J");
      throw new Error("no throw");
    } catch (e) {
      expect((e as Error).message).toContain("\\x1b[2J");
      expect((e as Error).message).not.toContain("\x1b");
    }
  });
});

describe("escapeName", () => {
  test("terminal escapes become visible", () => {
    expect(escapeName("\x1b[31mred")).toBe("\\x1b[31mred");
    expect(escapeName("a\nb")).toBe("a\\nb");
    expect(escapeName("a\tb\rc")).toBe("a\\tb\\rc");
    expect(escapeName("back\\slash")).toBe("back\\\\slash");
    expect(escapeName("\u009b2J")).toBe("\\u009b2J");
    expect(escapeName("\x00\x07\x7f")).toBe("\\x00\\x07\\x7f");
    expect(escapeName("evil\u202etxt.exe")).toBe("evil\\u202etxt.exe");
    expect(escapeName("a\u2028b")).toBe("a\\u2028b");
  });

  test("escaping is unambiguous: a literal backslash-x is not a control char", () => {
    expect(escapeName("\\x1b")).not.toBe(escapeName("\x1b"));
  });

  test("printable unicode is kept, lone surrogates are not", () => {
    expect(escapeName("héllo wörld 日本語 😀 ")).toBe("héllo wörld 日本語 😀 ");
    expect(escapeName("plain/path.txt")).toBe("plain/path.txt");
    expect(escapeName("x\ud800y")).toBe("x\\ud800y");
    expect(escapeName("x\udc00")).toBe("x\\udc00");
  });

  test("bytes of names that are not UTF-8 print as \\xHH, the byte itself", () => {
    expect(escapeName("caf\udce9")).toBe("caf\\xe9");
    expect(escapeName("\udcff\udc80")).toBe("\\xff\\x80");
  });
});

describe("unescapeName reads back what escapeName prints", () => {
  test("round trip over controls, backslashes, raw bytes, bidi marks, unicode", () => {
    const names = ["plain", "a\\b", "a\\\\x80", "caf\udce9", "\x1b[31m", "tab\there", "nl\n", "\u202eevil", "héllo 😀", "\u009b", "x\udc80\udcff", "\\"];
    for (const n of names) expect([n, unescapeName(escapeName(n))]).toEqual([n, n]);
  });

  test("bytes are put together: \\xc3\\xa9 is é; a backslash before anything else is itself", () => {
    expect(unescapeName("caf\\xc3\\xa9")).toBe("café");
    expect(unescapeName("a\\qb")).toBe("a\\qb");
    expect(unescapeName("C:\\dir")).toBe("C:\\dir");
    expect(unescapeName("end\\")).toBe("end\\");
    expect(unescapeName("\\x80")).toBe("\udc80");
  });
});

describe("formatTime", () => {
  test("UTC YYYY-MM-DD HH:MM", () => {
    expect(formatTime(0)).toBe("1970-01-01 00:00");
    expect(formatTime(1_700_000_000)).toBe("2023-11-14 22:13");
    expect(formatTime(1_700_000_059.999)).toBe("2023-11-14 22:14");
    expect(formatTime(-1)).toBe("1969-12-31 23:59");
  });

  test("absurd times keep the width", () => {
    expect(formatTime(Number.NaN)).toBe("????-??-?? ??:??");
    expect(formatTime(1e20)).toBe("????-??-?? ??:??");
  });
});

describe("formatTable", () => {
  test("pads columns, right-aligns when asked, no trailing spaces", () => {
    const lines = formatTable(
      [
        ["a", "1", "x"],
        ["bbb", "100", "yy"],
      ],
      ["left", "right", "left"],
    );
    expect(lines).toEqual(["a     1 x", "bbb 100 yy"]);
  });

  test("widths count code points", () => {
    expect(
      formatTable([
        ["é", "1"],
        ["ab", "2"],
      ]),
    ).toEqual(["é  1", "ab 2"]);
  });
});

describe("formatTime and modeString made once per value", () => {
  // Independent of the cache: what the Date of the whole second prints.
  const reference = (t: number): string => new Date(Math.floor(t) * 1000).toISOString().slice(0, 16).replace("T", " ");

  test("every second of a minute, either side of the epoch, and past the cache's size", () => {
    const times = [0, 59, 59.9, 60, -1, -0.5, -60, -61, 1700000000, 1700000059.99, 253402300799];
    // 20,000 distinct minutes: more than the cache holds, so it starts over on the way.
    for (let i = 0; i < 20000; i++) times.push(1500000000 + i * 61 + (i % 7) / 10);
    for (const t of times) expect(formatTime(t)).toBe(reference(t));
    // Asked again after the cache started over: the same strings.
    for (const t of times.slice(0, 50)) expect(formatTime(t)).toBe(reference(t));
  });

  test("times a Date cannot hold keep the column's width", () => {
    for (const t of [NaN, Infinity, -Infinity, 1e16, -1e16]) expect(formatTime(t)).toBe("????-??-?? ??:??");
    // Years outside 0-9999 as they are (what the uncached formatter printed).
    expect(formatTime(-62198755200)).toBe("-1-01-01 00:00");
  });

  test("the same mode of two types gives two strings; bits above 0o7777 are ignored", () => {
    expect(modeString("dir", 0o644)).toBe("drw-r--r--");
    expect(modeString("file", 0o644)).toBe("-rw-r--r--");
    expect(modeString("file", 0o100644)).toBe("-rw-r--r--");
    expect(modeString("bogus" as never, 0o7777)).toBe("?rwsrwsrwt");
  });
});

describe("width and pad count code points", () => {
  test("surrogate pairs count once, lone surrogates once each", () => {
    expect(width("abc")).toBe(3);
    expect(width("é")).toBe(1);
    expect(width("\u{1d518}x")).toBe(2);
    expect(width("\ud800")).toBe(1);
    expect(width("\udc00\ud800")).toBe(2);
    expect(width("")).toBe(0);
    for (const s of ["a\u{1f600}b\u{1f600}", "\ud800a", "a\udc00\ud800\udc00"]) expect(width(s)).toBe([...s].length);
  });

  test("pads on either side, never cuts", () => {
    expect(pad("\u{1d518}", 3)).toBe("\u{1d518}  ");
    expect(pad("42", 5, "right")).toBe("   42");
    expect(pad("toolong", 3)).toBe("toolong");
    expect(pad("x", 70)).toBe(`x${" ".repeat(69)}`);
  });
});
