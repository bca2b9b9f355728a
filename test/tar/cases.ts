/**
 * Small tricky tar archives for the differential tests: every case of docs/tar-semantics.md, hand
 * built (test/tar/helpers.ts) or written by GNU tar. Each is read by our reader and by the
 * reference readers (reference.ts); `valid` says whether Go's archive/tar reads it to a clean end.
 */
import { closeSync, ftruncateSync, linkSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { base256, bytesOf, concat, content, END, gnuLongMember, header, member, padBlock, paxMember } from "./helpers.ts";

export interface TarCase {
  name: string;
  tar: Uint8Array;
}

const b = (...x: number[]) => Uint8Array.from(x);

/** A PAX 'x' member whose records are raw bytes (names that are not UTF-8). */
function paxRaw(records: Array<[string, Uint8Array]>, typeflag: "x" | "g" | "X" = "x"): Uint8Array {
  const parts = records.map(([k, v]) => {
    const body = concat(bytesOf(` ${k}=`), v, bytesOf("\n"));
    let len = body.length + 1;
    while (String(len).length + body.length !== len) len = String(len).length + body.length;
    return concat(bytesOf(String(len)), body);
  });
  return member({ name: "PaxHeader", typeflag }, concat(...parts));
}

/** The header with its type flag changed and the checksum fixed. */
function retype(block: Uint8Array, flag: string): Uint8Array {
  const out = block.slice();
  out[156] = flag.charCodeAt(0);
  out.fill(0x20, 148, 156);
  const sum = out.subarray(0, 512).reduce((a, c) => a + c, 0);
  out.set(bytesOf(`${sum.toString(8).padStart(6, "0")}\0 `), 148);
  return out;
}

const f = (name: string | Uint8Array, data = "x\n") => member({ name }, bytesOf(data));

/** Hand-built cases. */
function handBuilt(): TarCase[] {
  const a = member({ name: "a" }, content(600));
  return [
    {
      name: "pax-multi-x",
      tar: concat(
        paxMember([
          ["path", "first"],
          ["uid", "7"],
        ]),
        paxMember([["gid", "9"]]),
        member({ name: "a", uid: 1, gid: 2 }, bytesOf("data")),
        END,
      ),
    },
    {
      name: "pax-solaris-X",
      tar: concat(
        retype(
          paxMember([
            ["path", "from-X"],
            ["size", "3"],
          ]),
          "X",
        ),
        member({ name: "b", size: 0 }),
        padBlock(bytesOf("abc")),
        f("after"),
        END,
      ),
    },
    { name: "pax-nul-path", tar: concat(f("before"), paxMember([["path", "a\0b"]]), f("after"), END) },
    { name: "pax-nul-linkpath", tar: concat(f("before"), paxMember([["linkpath", "a\0b"]]), header({ name: "l", typeflag: "2" }), END) },
    { name: "pax-nul-key", tar: concat(f("before"), paxMember([["SCHILY.xattr.a\0b", "v"]]), f("after"), END) },
    { name: "pax-bad-mtime", tar: concat(f("before"), paxMember([["mtime", "1.5e9"]]), f("after"), END) },
    { name: "pax-bad-size", tar: concat(f("before"), paxMember([["size", "0x10"]]), f("after"), END) },
    { name: "pax-bad-uid", tar: concat(f("before"), paxMember([["uid", "root"]]), f("after"), END) },
    { name: "pax-bad-gid", tar: concat(f("before"), paxMember([["gid", "1.0"]]), f("after"), END) },
    { name: "pax-bad-length", tar: concat(f("before"), member({ name: "PaxHeader", typeflag: "x" }, bytesOf("13 path=ab\n")), f("after"), END) },
    { name: "pax-nul-padding", tar: concat(f("before"), member({ name: "PaxHeader", typeflag: "x" }, bytesOf("12 path=ab\n\0\0\0\0")), f("after"), END) },
    {
      name: "pax-empty-value",
      tar: concat(
        paxMember([
          ["path", ""],
          ["uname", ""],
        ]),
        member({ name: "kept", uname: "u" }),
        END,
      ),
    },
    {
      name: "pax-global",
      tar: concat(
        paxMember(
          [
            ["path", "gname-path"],
            ["uname", "g"],
            ["mtime", "5"],
          ],
          "g",
        ),
        f("a"),
        paxMember([["size", "99"]], "g"),
        f("b"),
        END,
      ),
    },
    { name: "pax-global-drops-pending", tar: concat(paxMember([["path", "lost"]]), paxMember([["comment", "c"]], "g"), f("kept"), END) },
    { name: "pax-then-gnu-long", tar: concat(paxMember([["path", "from-pax"]]), gnuLongMember("from-L"), f("short"), END) },
    { name: "gnu-long-empty", tar: concat(member({ name: "././@LongLink", typeflag: "L", magic: "gnu" }, b(0)), f("short"), END) },
    {
      name: "not-utf8-names",
      tar: concat(
        f(b(0x63, 0x61, 0x66, 0xe9)),
        f(b(0x63, 0x61, 0x66, 0xc3, 0xa9)),
        f(b(0x78, 0x80, 0xff)),
        paxRaw([["path", b(0x70, 0xe9, 0x2f, 0xfe)]]),
        f("p"),
        header({ name: "sl", typeflag: "2", linkname: "t\xe9" }),
        END,
      ),
    },
    { name: "v7-dir-slash-size", tar: concat(header({ name: "olddir/", typeflag: "\0", magic: "v7", size: 600 }), f("next"), END) },
    { name: "reg-slash-data", tar: concat(member({ name: "regdir/", typeflag: "0" }, bytesOf("data")), f("next"), END) },
    { name: "dir-slashes", tar: concat(header({ name: "d//", typeflag: "5" }), header({ name: "./e/", typeflag: "5" }), header({ name: "/", typeflag: "5" }), END) },
    { name: "empty-name", tar: concat(member({ name: "" }, bytesOf("nameless")), f("next"), END) },
    { name: "ustar-prefix", tar: concat(member({ name: "file.txt", prefix: "a/very/long/prefix" }, bytesOf("p")), END) },
    {
      name: "base256",
      tar: concat(
        member({ name: "big-ids", uid: 0, mtime: base256(-86400n) }, bytesOf("x")),
        header({ name: "huge", size: base256(9n * 1024n ** 3n), magic: "gnu", typeflag: "5" }),
        END,
      ),
    },
    { name: "octal-space-inside", tar: concat(f("first"), header({ name: "bad", poke: [[108, bytesOf("12 34\0\0")]] }), END) },
    { name: "hardlink-to-later", tar: concat(header({ name: "link", typeflag: "1", linkname: "./target" }), f("target", "t"), END) },
    {
      name: "devices-fifo",
      tar: concat(
        header({ name: "dev/null", typeflag: "3", devmajor: 1, devminor: 3 }),
        header({ name: "dev/sda", typeflag: "4", devmajor: 8 }),
        header({ name: "p", typeflag: "6" }),
        END,
      ),
    },
    { name: "unknown-type", tar: concat(member({ name: "weird", typeflag: "Z" }, bytesOf("zzz")), f("next"), END) },
    { name: "sparse-flag-in-ustar", tar: concat(f("first"), header({ name: "s", typeflag: "S" }), END) },
    { name: "odd-padding", tar: concat(header({ name: "p", size: 3 }), bytesOf("abc"), new Uint8Array(509).fill(0x5a), f("next"), END) },
    { name: "end-none", tar: concat(a, f("b")) },
    { name: "end-one-zero-block", tar: concat(a, new Uint8Array(512)) },
    { name: "end-zero-then-partial", tar: concat(a, new Uint8Array(700)) },
    { name: "end-zero-then-header", tar: concat(a, new Uint8Array(512), f("c"), END) },
    { name: "end-in-padding", tar: a.subarray(0, 512 + 600 + 100) },
    { name: "end-in-data", tar: a.subarray(0, 512 + 599) },
    { name: "end-partial-header", tar: concat(a, new Uint8Array(100).fill(0x41)) },
    { name: "end-dangling-pax", tar: concat(a, paxMember([["path", "nothing"]])) },
    { name: "end-after-end-garbage", tar: concat(a, END, new Uint8Array(512).fill(0x41)) },
  ];
}

function gnuTar(dir: string, args: string[]): Uint8Array {
  const out = join(dir, `out-${args.join("_").replace(/[^a-z0-9]/gi, "")}.tar`);
  const r = Bun.spawnSync(["tar", "--sort=name", "--mtime=2020-01-01", "--owner=0", "--group=0", "--numeric-owner", "-cf", out, ...args, "-C", join(dir, "root"), "."], {
    stderr: "pipe",
  });
  if (r.exitCode !== 0) throw new Error(`tar failed: ${r.stderr.toString()}`);
  return new Uint8Array(readFileSync(out));
}

/** Cases written by GNU tar from a small tree: long names and links, sparse files, names that are not UTF-8. */
function byGnuTar(): TarCase[] {
  const dir = mkdtempSync(join(tmpdir(), "tar-cases-"));
  try {
    const root = join(dir, "root");
    mkdirSync(join(root, "d".repeat(80), "e".repeat(80)), { recursive: true });
    writeFileSync(join(root, "d".repeat(80), "e".repeat(80), `${"f".repeat(120)}.txt`), "long\n");
    symlinkSync(`../${"t".repeat(150)}`, join(root, "longlink"));
    writeFileSync(join(root, "target"), "hard\n");
    linkSync(join(root, "target"), join(root, "zlink"));
    writeFileSync(Buffer.concat([Buffer.from(`${root}/caf`), Buffer.from([0xe9])]), "latin-1 name\n");
    const fd = openSync(join(root, "holes"), "w");
    writeSync(fd, content(3000, 5), 0, 3000, 100000);
    writeSync(fd, content(1000, 6), 0, 1000, 700000);
    ftruncateSync(fd, 1 << 20);
    closeSync(fd);
    return [
      { name: "gnu-format", tar: gnuTar(dir, ["--format=gnu", "--sparse"]) },
      { name: "pax-format", tar: gnuTar(dir, ["--format=pax"]) },
      { name: "oldgnu-format", tar: gnuTar(dir, ["--format=oldgnu", "--sparse"]) },
      { name: "pax-sparse-0.0", tar: gnuTar(dir, ["--format=pax", "--sparse", "--sparse-version=0.0"]) },
      { name: "pax-sparse-0.1", tar: gnuTar(dir, ["--format=pax", "--sparse", "--sparse-version=0.1"]) },
      { name: "pax-sparse-1.0", tar: gnuTar(dir, ["--format=pax", "--sparse", "--sparse-version=1.0"]) },
      { name: "pax-global-by-gnu", tar: gnuTar(dir, ["--format=pax", "--pax-option=globexthdr.name=gl,uname=gowner"]) },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function tarCases(): TarCase[] {
  return [...handBuilt(), ...byGnuTar()];
}
