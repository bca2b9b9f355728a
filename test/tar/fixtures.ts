/**
 * Real archives made by GNU tar (1.34 at /usr/bin/tar) from a directory tree made here, and the
 * listing we expect, computed from the tree itself (lstat), not from tar's text output.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { EntryType } from "../../src/types.ts";
import { content } from "./helpers.ts";

export interface Expected {
  path: string;
  type: EntryType;
  size: number;
  mode: number;
  uid: number;
  gid: number;
  mtimeNs: bigint;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** Absolute path on disk (for content checks). */
  file: string;
}

export interface Fixtures {
  root: string;
  /** Files whose sizes sit around 512 boundaries, by name in std/. */
  sizes: number[];
  ustar: Uint8Array; // std/ only (ustar cannot hold the long names)
  gnu: Uint8Array; // std/ and long/
  pax: Uint8Array; // std/ and long/
  gnuGlobal: Uint8Array; // pax with a global header uname=gowner
  sparseGnu: Uint8Array;
  sparsePax: Uint8Array;
  expectStd: Expected[];
  expectAll: Expected[];
  hasDevice: boolean;
  cleanup(): void;
}

export const FRACTION_FILE = "std/frac";
export const FRACTION_MTIME = 1600000000.123456789;

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr}`);
}

function tar(format: string, out: string, cwd: string, what: string, extra: string[] = []): Uint8Array {
  run("/usr/bin/tar", [`--format=${format}`, "--sort=name", ...extra, "-cf", out, "-C", cwd, what]);
  return new Uint8Array(fs.readFileSync(out));
}

const byBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** What GNU tar --sort=name writes: depth first, each directory before its children, children in byte order. */
function walk(root: string, rel: string, out: Expected[], seen: Map<string, string>): void {
  const file = rel === "" ? root : path.join(root, rel);
  const st = fs.lstatSync(file, { bigint: true });
  const name = rel === "" ? "." : rel;
  const e: Expected = {
    path: name,
    type: "file",
    size: 0,
    mode: Number(st.mode & 0o7777n),
    uid: Number(st.uid),
    gid: Number(st.gid),
    mtimeNs: st.mtimeNs,
    file,
  };
  if (st.isDirectory()) e.type = "dir";
  else if (st.isSymbolicLink()) {
    e.type = "symlink";
    e.linkname = fs.readlinkSync(file);
  } else if (st.isFIFO()) e.type = "fifo";
  else if (st.isCharacterDevice() || st.isBlockDevice()) {
    e.type = st.isCharacterDevice() ? "char" : "block";
    e.devmajor = Number(st.rdev >> 8n) & 0xfff;
    e.devminor = Number(st.rdev & 0xffn);
  } else {
    const key = `${st.dev}:${st.ino}`;
    const first = seen.get(key);
    if (st.nlink > 1n && first !== undefined) {
      e.type = "hardlink";
      e.linkname = first;
    } else {
      seen.set(key, name);
      e.size = Number(st.size);
    }
  }
  out.push(e);
  if (e.type === "dir") {
    for (const child of fs.readdirSync(file).sort(byBytes)) {
      walk(root, rel === "" ? child : `${rel}/${child}`, out, seen);
    }
  }
}

export function makeFixtures(): Fixtures {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), "layerslayer-tar-"));
  const root = path.join(base, "tree");
  const std = path.join(root, "std");
  const long = path.join(root, "long");
  fs.mkdirSync(std, { recursive: true });
  fs.mkdirSync(long);
  let t = 1500000000;
  const write = (p: string, data: Uint8Array, mode = 0o644) => {
    fs.writeFileSync(p, data);
    fs.chmodSync(p, mode);
    t += 1000;
    fs.utimesSync(p, t, t);
  };
  const sizes = [0, 1, 100, 511, 512, 513, 1023, 1024, 1025, 10240, 70001];
  for (const n of sizes) write(path.join(std, `s${n}`), content(n, n + 1));
  write(path.join(std, "exec.sh"), content(33, 2), 0o755);
  write(path.join(std, "setuid"), content(10, 3), 0o4755);
  write(path.join(std, "ünïcödé-日本語-😀.txt"), content(600, 4));
  write(path.join(std, "\x1b[31mred"), content(5, 5));
  write(path.join(std, "new\nline"), content(6, 6));
  write(path.join(std, "frac"), content(7, 7));
  run("touch", ["-m", "-d", `@${FRACTION_MTIME.toFixed(9)}`, path.join(std, "frac")]);
  fs.mkdirSync(path.join(std, "dir/nested/deeper"), { recursive: true });
  write(path.join(std, "dir/nested/deeper/file"), content(1500, 8));
  fs.mkdirSync(path.join(std, "sticky"));
  fs.chmodSync(path.join(std, "sticky"), 0o1777);
  const mid = path.join(std, "p".repeat(90));
  fs.mkdirSync(mid);
  write(path.join(mid, "q".repeat(90)), content(3, 9)); // 100 < name ≤ 255: the ustar prefix field
  fs.symlinkSync("s1", path.join(std, "link"));
  fs.linkSync(path.join(std, "s512"), path.join(std, "hard")); // "hard" < "s512": hard is the file, s512 the link
  run("mkfifo", [path.join(std, "fifo")]);
  fs.writeFileSync(path.join(std, "owned"), "x");
  fs.chownSync(path.join(std, "owned"), 1000, 1001);
  let hasDevice = true;
  try {
    run("mknod", [path.join(std, "null"), "c", "1", "3"]);
  } catch {
    hasDevice = false;
  }

  const deep = path.join(long, "a".repeat(200), "b".repeat(200));
  fs.mkdirSync(deep, { recursive: true });
  write(path.join(deep, "c".repeat(50)), content(2000, 10)); // > 255 bytes: GNU 'L' / PAX path
  write(path.join(long, "u".repeat(101)), content(1, 11));
  fs.symlinkSync("t".repeat(150), path.join(long, "longlink")); // target > 100: GNU 'K' / PAX linkpath
  fs.linkSync(path.join(deep, "c".repeat(50)), path.join(long, "zhard")); // hard link to a long name
  fs.writeFileSync(path.join(long, "hugeid"), "y");
  fs.chownSync(path.join(long, "hugeid"), 4000000, 4000001); // > 2097151: base-256 / PAX uid
  for (const d of [path.join(std, "dir/nested/deeper"), path.join(std, "dir/nested"), path.join(std, "dir"), mid]) {
    t += 1000;
    fs.utimesSync(d, t, t);
  }

  const sp = path.join(base, "sparse");
  fs.mkdirSync(sp);
  const fd = fs.openSync(path.join(sp, "holes"), "w");
  fs.writeSync(fd, content(5000, 12), 0, 5000, 300000);
  fs.ftruncateSync(fd, 1 << 20);
  fs.closeSync(fd);
  fs.writeFileSync(path.join(sp, "zafter"), "after\n");

  const out = (n: string) => path.join(base, n);
  const f: Fixtures = {
    root,
    sizes,
    ustar: tar("ustar", out("u.tar"), std, "."),
    gnu: tar("gnu", out("g.tar"), root, "."),
    pax: tar("pax", out("p.tar"), root, "."),
    gnuGlobal: tar("pax", out("gg.tar"), std, ".", ["--pax-option=uname=gowner"]),
    sparseGnu: tar("gnu", out("sg.tar"), sp, ".", ["--sparse"]),
    sparsePax: tar("pax", out("sp.tar"), sp, ".", ["--sparse"]),
    expectStd: [],
    expectAll: [],
    hasDevice,
    cleanup: () => fs.rmSync(base, { recursive: true, force: true }),
  };
  walk(std, "", f.expectStd, new Map());
  walk(root, "", f.expectAll, new Map());
  return f;
}
