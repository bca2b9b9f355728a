/** The reader against hand-built archives: edge cases GNU tar will not write for us. */
import { describe, expect, test } from "bun:test";
import { LayerslayerError } from "../../src/errors.ts";
import { MAX_META_SIZE } from "../../src/tar/pax.ts";
import { base256, bytesOf, chunked, concat, content, END, gnuLongMember, header, list, listBytes, member, padBlock, paxMember, type SourceStats, strip } from "./helpers.ts";

function code(e: unknown): string | undefined {
  return e instanceof LayerslayerError ? e.code : undefined;
}

describe("sizes", () => {
  test("a file over 8 GiB with a base-256 size: listed, then truncation (complete false, no error)", async () => {
    const big = 9 * 1024 ** 3 + 7;
    const tar = concat(header({ name: "big.bin", size: base256(BigInt(big)) }), content(1000));
    for (const size of [1, 300, 65536]) {
      const r = await listBytes(tar, size, { wantContent: () => true });
      expect(r.error).toBeUndefined();
      expect(r.entries.map((e) => [e.path, e.size])).toEqual([["big.bin", big]]);
      expect(r.summary).toEqual({ complete: false, cleanEnd: false, entries: 1, tarBytes: 1512 });
      const data = r.events.filter((e) => e.kind === "data");
      expect(data.reduce((n, e) => n + (e.kind === "data" ? e.chunk.length : 0), 0)).toBe(1000);
      expect(data.some((e) => e.kind === "data" && e.done)).toBe(false);
    }
  });

  test("a size beyond 2^53 or negative is CORRUPT", async () => {
    const ok = member({ name: "first" }, content(3));
    for (const size of [base256(2n ** 53n + 1n), base256(2n ** 80n), base256(-1n)]) {
      const r = await listBytes(concat(ok, header({ name: "bad", size }), END));
      expect(r.entries.map((e) => e.path)).toEqual(["first"]);
      expect(code(r.error)).toBe("CORRUPT");
      expect((r.error as Error).message).toContain("at tar offset 1024");
    }
  });

  test("PAX size overrides the header's size, for skipping and for content", async () => {
    const data = content(700);
    const tar = concat(paxMember([["size", "700"]]), header({ name: "f", size: 0 }), padBlock(data), member({ name: "next" }, bytesOf("hi")), END);
    const r = await listBytes(tar, 100, { wantContent: (e) => e.path === "f" });
    expect(r.error).toBeUndefined();
    expect(r.entries.map((e) => [e.path, e.size])).toEqual([
      ["f", 700],
      ["next", 2],
    ]);
    const got = concat(...r.events.flatMap((e) => (e.kind === "data" ? [e.chunk] : [])));
    expect(got).toEqual(data);
  });

  test("header-only types skip no data whatever their size field says (as Go's archive/tar)", async () => {
    const tar = concat(
      header({ name: "hl", typeflag: "1", linkname: "./target", size: 100 }),
      header({ name: "dir/", typeflag: "5", size: 4096 }),
      member({ name: "after" }, bytesOf("x")),
      END,
    );
    const r = await listBytes(tar, 512, { wantContent: () => true });
    expect(r.error).toBeUndefined();
    expect(r.entries.map((e) => [e.path, e.type, e.size, e.linkname])).toEqual([
      ["hl", "hardlink", 0, "target"],
      ["dir", "dir", 0, undefined],
      ["after", "file", 1, undefined],
    ]);
    expect(r.events.filter((e) => e.kind === "data").length).toBe(3);
  });
});

describe("meta headers", () => {
  test("PAX global headers are entries of their own and apply to nothing (Go); 'x' overrides; empty value falls back to the header", async () => {
    const parts = [
      paxMember(
        [
          ["uname", "gu"],
          ["mtime", "1234.5"],
          ["uid", "42"],
          ["comment", "x=y\nz"],
        ],
        "g",
      ),
      member({ name: "a", uname: "root", uid: 1 }),
      paxMember([
        ["uname", "own"],
        ["path", "b-from-pax"],
      ]),
      member({ name: "b", uname: "root", uid: 2 }),
      paxMember([["uid", ""]]),
      member({ name: "c", uid: 5 }),
      paxMember(
        [
          ["uid", "43"],
          ["path", "renamed"],
        ],
        "g",
      ),
      member({ name: "d", uid: 6 }),
      END,
    ];
    const tar = concat(...parts);
    const r = await listBytes(tar, 7);
    expect(r.error).toBeUndefined();
    expect(r.entries.map((e) => [e.path, e.type, e.uname, e.uid])).toEqual([
      ["PaxHeader", "pax-global", undefined, 0],
      ["a", "file", "root", 1],
      ["b-from-pax", "file", "own", 2],
      ["c", "file", undefined, 5],
      ["renamed", "pax-global", undefined, 0],
      ["d", "file", undefined, 6],
    ]);
    // headerOffset: a 'g' is its own entry, an 'x' belongs to the entry after it.
    const off = (i: number) => parts.slice(0, i).reduce((n, p) => n + p.length, 0);
    expect(r.entries.map((e) => e.headerOffset)).toEqual([off(0), off(1), off(2), off(4), off(6), off(7)]);
  });

  test("several PAX headers before one entry: the last replaces the earlier ones whole (Go); 'X' is read as 'x'", async () => {
    const solaris = paxMember([["path", "from-X"]]);
    solaris[156] = "X".charCodeAt(0);
    // fix the checksum after changing the type flag
    solaris.fill(0x20, 148, 156);
    const sum = solaris.subarray(0, 512).reduce((a, c) => a + c, 0);
    solaris.set(new TextEncoder().encode(sum.toString(8).padStart(6, "0") + "\0 "), 148);
    const tar = concat(
      paxMember([
        ["path", "first"],
        ["uid", "7"],
      ]),
      paxMember([["gid", "9"]]),
      member({ name: "a", uid: 1, gid: 2 }),
      solaris,
      member({ name: "b" }),
      END,
    );
    const r = await listBytes(tar);
    expect(r.error).toBeUndefined();
    expect(r.entries.map((e) => [e.path, e.uid, e.gid])).toEqual([
      ["a", 1, 9],
      ["from-X", 0, 0],
    ]);
  });

  test("a global header drops the meta headers pending before it (Go)", async () => {
    const tar = concat(paxMember([["path", "lost"]]), gnuLongMember("lost-too"), paxMember([["comment", "c"]], "g"), member({ name: "kept" }), END);
    const r = await listBytes(tar);
    expect(r.entries.map((e) => [e.path, e.type])).toEqual([
      ["PaxHeader", "pax-global"],
      ["kept", "file"],
    ]);
  });

  test("invalid PAX records and values are CORRUPT; the entries before them are kept", async () => {
    const bad: Array<[string, Uint8Array]> = [
      ["NUL in path", paxMember([["path", "a\0b"]])],
      ["NUL in linkpath", paxMember([["linkpath", "a\0b"]])],
      ["NUL in a key", paxMember([["SCHILY.xattr.a\0", "v"]])],
      ["bad mtime", paxMember([["mtime", "12:00"]])],
      ["bad atime", paxMember([["atime", "x"]])],
      ["bad size", paxMember([["size", "10k"]])],
      ["bad uid", paxMember([["uid", "root"]])],
      ["bad gid", paxMember([["gid", "1.0"]])],
      ["length mismatch", member({ name: "PaxHeader", typeflag: "x" }, bytesOf("12 path=ab\n"))],
    ];
    for (const [why, meta] of bad) {
      const r = await listBytes(concat(member({ name: "before" }), meta, member({ name: "after" }), END));
      expect([why, r.entries.map((e) => e.path)]).toEqual([why, ["before"]]);
      expect([why, (r.error as LayerslayerError | undefined)?.code]).toEqual([why, "CORRUPT"]);
    }
  });

  test("PAX mtime with fraction, negative, uid/gid/uname/gname/linkpath", async () => {
    const tar = concat(
      paxMember([
        ["mtime", "1600000000.123456789"],
        ["uid", "3000000000"],
        ["gid", "7"],
        ["gname", "grüppe"],
      ]),
      member({ name: "f" }),
      paxMember([
        ["mtime", "-1.25"],
        ["linkpath", "../ziel ✓"],
      ]),
      header({ name: "l", typeflag: "2", linkname: "short" }),
      END,
    );
    const r = await listBytes(tar);
    const [f, l] = r.entries;
    expect(Math.abs(f!.mtime - 1600000000.123456789)).toBeLessThan(1e-6);
    expect([f!.uid, f!.gid, f!.gname]).toEqual([3000000000, 7, "grüppe"]);
    expect([l!.mtime, l!.type, l!.linkname]).toEqual([-1.25, "symlink", "../ziel ✓"]);
  });

  test("GNU L and K: long names, hardlink targets normalised, symlink targets verbatim; L beats PAX path", async () => {
    const longName = `./${"x".repeat(300)}/`;
    const parts = [
      gnuLongMember(longName, "L"),
      header({ name: "trunc", typeflag: "5", magic: "gnu" }),
      gnuLongMember(`./${"y".repeat(200)}`, "K"),
      header({ name: "hl", typeflag: "1", linkname: "trunc", magic: "gnu" }),
      gnuLongMember(`./${"z".repeat(200)}`, "K"),
      gnuLongMember("sym-long-name", "L"),
      header({ name: "sl", typeflag: "2", linkname: "trunc", magic: "gnu" }),
      paxMember([["path", "from-pax"]]),
      gnuLongMember("from-gnu", "L"),
      member({ name: "ustar-name" }),
      END,
    ];
    const tar = concat(...parts);
    for (const size of [1, 512, 65536]) {
      const r = await listBytes(tar, size);
      expect(r.error).toBeUndefined();
      expect(r.entries.map((e) => [e.path, e.type, e.linkname])).toEqual([
        ["x".repeat(300), "dir", undefined],
        ["hl", "hardlink", "y".repeat(200)],
        ["sym-long-name", "symlink", `./${"z".repeat(200)}`],
        ["from-gnu", "file", undefined],
      ]);
      const off = (i: number) => parts.slice(0, i).reduce((n, p) => n + p.length, 0);
      expect(r.entries.map((e) => e.headerOffset)).toEqual([off(0), off(2), off(4), off(7)]);
      if (size === 1) expect(r.entries.map((e) => e.compressedOffset)).toEqual([off(2), off(4), off(7), off(10)]);
    }
  });

  test("meta headers over the bound are CORRUPT before any of their data is read", async () => {
    for (const typeflag of ["x", "g", "L", "K"]) {
      const stats: SourceStats = { pulled: 0, closed: false, finished: false };
      const tar = concat(member({ name: "ok" }), header({ name: "meta", typeflag, size: MAX_META_SIZE + 1 }));
      const r = await list(chunked(tar, 512, stats));
      expect(r.entries.length).toBe(1);
      expect(code(r.error)).toBe("CORRUPT");
      expect((r.error as Error).message).toContain("at tar offset 512");
    }
    // Many small ones for one entry add up.
    const half = paxMember([["comment", "c".repeat(MAX_META_SIZE / 2)]]);
    const r = await listBytes(concat(half, half, half, member({ name: "f" }), END));
    expect(code(r.error)).toBe("CORRUPT");
    // Bad PAX records are CORRUPT too.
    const bad = concat(member({ name: "PaxHeader", typeflag: "x" }, bytesOf("9 a=b=c\n")), member({ name: "f" }), END);
    expect(code((await listBytes(bad)).error)).toBe("CORRUPT");
  });
});

describe("types and names", () => {
  test("v7 '\\0' names ending in '/' are directories without data whatever their size says; '0' ones are files with data (Go)", async () => {
    const tar = concat(
      header({ name: "olddir/", typeflag: "\0", magic: "v7", size: 600 }),
      member({ name: "regdir/", typeflag: "0" }, bytesOf("data")),
      paxMember([["path", "paxdir/"]]),
      header({ name: "x", typeflag: "\0", size: 3000 }),
      member({ name: "last" }),
      END,
    );
    const r = await listBytes(tar, 100);
    expect(r.error).toBeUndefined();
    expect(r.entries.map((e) => [e.path, e.type, e.size])).toEqual([
      ["olddir", "dir", 0],
      ["regdir", "file", 4],
      ["paxdir", "dir", 0],
      ["last", "file", 0],
    ]);
  });

  test("unknown type flags are listed as files and their data skipped; v7 trailing-slash dirs; devices", async () => {
    const tar = concat(
      member({ name: "weird", typeflag: "Z" }, bytesOf("hello")),
      member({ name: "olddir/", typeflag: "\0", magic: "v7" }),
      member({ name: "./oldfile", typeflag: "\0", magic: "v7", uid: 9 }, bytesOf("abc")),
      header({ name: "./dev/sda1", typeflag: "4", devmajor: 8, devminor: 1, mode: 0o100660 }),
      member({ name: "/abs/path" }),
      member({ name: "./", typeflag: "5" }),
      END,
    );
    const r = await listBytes(tar, 3, { layer: 0 });
    expect(r.error).toBeUndefined();
    expect(r.entries.map((e) => [e.path, e.type, e.size])).toEqual([
      ["weird", "file", 5],
      ["olddir", "dir", 0],
      ["oldfile", "file", 3],
      ["dev/sda1", "block", 0],
      ["abs/path", "file", 0],
      [".", "dir", 0],
    ]);
    expect(r.entries[2]!.uid).toBe(9);
    expect(r.entries[2]!.uname).toBeUndefined();
    expect(r.entries[3]).toMatchObject({ devmajor: 8, devminor: 1, mode: 0o660, layer: 0 });
  });
});

describe("end of archive", () => {
  const two = concat(member({ name: "a" }, content(600)), member({ name: "b" }));

  test("two zero blocks: complete, and the reader stops there (the rest of the source is not read)", async () => {
    const tar = concat(two, END, new Uint8Array(8192));
    const stats: SourceStats = { pulled: 0, closed: false, finished: false };
    const r = await list(chunked(tar, 512, stats));
    expect(r.summary).toEqual({ complete: true, cleanEnd: false, entries: 2, tarBytes: two.length + 1024 });
    expect(stats.closed).toBe(true);
    expect(stats.finished).toBe(false);
    const d: SourceStats = { pulled: 0, closed: false, finished: false };
    const drained = await list(chunked(tar, 512, d), { drain: true });
    expect(drained.summary).toEqual({ complete: true, cleanEnd: false, entries: 2, tarBytes: tar.length });
    expect(d.finished).toBe(true);
  });

  test("one zero block then end of input is complete; a zero block and a partial one is not; a clean end without the marker is said so", async () => {
    expect((await listBytes(concat(two, new Uint8Array(512)), 100)).summary!.complete).toBe(true);
    const partial = (await listBytes(concat(two, new Uint8Array(700)), 100)).summary!;
    expect([partial.complete, partial.cleanEnd]).toEqual([false, false]);
    const none = await listBytes(two, 100);
    expect(none.error).toBeUndefined();
    expect(none.summary).toEqual({ complete: false, cleanEnd: true, entries: 2, tarBytes: two.length });
    expect((await listBytes(new Uint8Array(0))).summary).toEqual({ complete: false, cleanEnd: true, entries: 0, tarBytes: 0 });
    // Inside the padding after the last member's data: clean for Go; inside its data or a header: not.
    const a = member({ name: "a" }, content(600));
    expect((await listBytes(a.subarray(0, 512 + 600 + 10))).summary!.cleanEnd).toBe(true);
    expect((await listBytes(a.subarray(0, 512 + 599))).summary!.cleanEnd).toBe(false);
    expect((await listBytes(concat(a, new Uint8Array(100).fill(1)))).summary!.cleanEnd).toBe(false);
    // A dangling meta header at the end is dropped, as Go does.
    expect((await listBytes(concat(a, paxMember([["path", "x"]])))).summary!.cleanEnd).toBe(true);
  });

  test("a lone zero block followed by a header is CORRUPT", async () => {
    const r = await listBytes(concat(two, new Uint8Array(512), member({ name: "c" }), END));
    expect(r.entries.length).toBe(2);
    expect(code(r.error)).toBe("CORRUPT");
    expect((r.error as Error).message).toContain(`at tar offset ${two.length + 512}`);
  });

  test("garbage instead of a header: CORRUPT after the good entries, same for every chunking", async () => {
    const tar = concat(two, new Uint8Array(512).fill(0x41), END);
    const ref = await listBytes(tar);
    for (const size of [1, 511, 513]) {
      const r = await listBytes(tar, size);
      expect(strip(r.entries)).toEqual(strip(ref.entries));
      expect(r.entries.length).toBe(2);
      expect(code(r.error)).toBe("CORRUPT");
    }
  });

  test("a source that throws is closed and the error passes through", async () => {
    let closed = false;
    const source = {
      async *[Symbol.asyncIterator]() {
        try {
          yield { data: two.slice(0, 700), compressedConsumed: 10 };
          throw new LayerslayerError("NETWORK", "boom");
        } finally {
          closed = true;
        }
      },
    };
    const r = await list(source);
    expect(r.entries.length).toBe(1);
    expect(code(r.error)).toBe("NETWORK");
    expect(closed).toBe(true);
  });
});
