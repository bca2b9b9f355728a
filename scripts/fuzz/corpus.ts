/**
 * The fuzz corpus: small real layers made by GNU tar from fixture trees (every tar format and
 * member kind the reader knows: ustar, GNU long names, PAX records, sparse files, links, fifos),
 * each as plain tar, gzip (one and several members, GNU gzip and Bun's) and zstd (one and several
 * frames, with a checksum and a skippable frame). Kept small so a case costs well under a millisecond.
 */
import { rmSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { concatBytes } from "../../test/support/bytes.ts";
import { gnuTar, makeTree, type FileSpec, type TarFormat } from "../../test/support/fixtures.ts";

export interface Seed {
  name: string;
  /** What the bytes are: the mutators and targets treat each kind its own way. */
  codec: "tar" | "gzip" | "zstd";
  bytes: Uint8Array;
}

function text(n: number, salt: number): string {
  let s = "";
  for (let i = 0; s.length < n; i++) s += `${salt}:${i} the quick brown fox\n`;
  return s.slice(0, n);
}

const TREES: Record<string, FileSpec[]> = {
  small: [
    { path: "etc", dir: true },
    { path: "etc/hostname", content: "box\n" },
    { path: "etc/os-release", content: text(300, 1) },
    { path: "bin/sh", content: text(1025, 2), mode: 0o755 },
    { path: "bin/ash", hardlink: "bin/sh" },
    { path: "usr/bin", dir: true },
    { path: "lib", symlink: "usr/lib" },
    { path: "run/pipe", fifo: true },
    { path: "var/.wh.cache", content: "" },
    { path: "opt/.wh..wh..opq", content: "" },
    { path: "empty", content: "" },
    { path: "s511", content: text(511, 3) },
    { path: "s512", content: text(512, 4) },
  ],
  long: [
    { path: `${"d".repeat(120)}/${"f".repeat(150)}`, content: text(40, 5) },
    { path: `x/${"n".repeat(99)}`, content: text(3, 6) },
    { path: "ln", symlink: "t".repeat(180) },
    { path: "ünï/cödé-日本語.txt", content: text(70, 7) },
    { path: "esc\x1b[31m", content: "red" },
  ],
};

function tarOf(name: string, format: TarFormat, extra?: (root: string) => string[]): Uint8Array {
  const root = makeTree(TREES[name]!);
  try {
    const order = extra?.(root);
    return gnuTar(root, format, order);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** A GNU or PAX sparse member: a 64 KiB file with two small data regions. */
function sparseTar(format: "gnu" | "pax"): Uint8Array {
  const root = makeTree([{ path: "keep", content: "k" }]);
  try {
    const f = join(root, "holes");
    writeFileSync(f, "");
    truncateSync(f, 65536);
    Bun.spawnSync(["dd", "if=/dev/urandom", `of=${f}`, "bs=700", "count=1", "seek=20", "conv=notrunc"], { stderr: "ignore" });
    Bun.spawnSync(["dd", "if=/dev/urandom", `of=${f}`, "bs=300", "count=1", "seek=100", "conv=notrunc"], { stderr: "ignore" });
    const args = ["tar", `--format=${format}`, "--sparse", "--owner=0", "--group=0", "--numeric-owner", "-C", root, "-cf", "-", "keep", "holes"];
    if (format === "pax") args.splice(2, 0, "--sparse-version=1.0");
    const r = Bun.spawnSync(args, { stderr: "pipe" });
    if (r.exitCode !== 0) throw new Error(`tar failed: ${r.stderr.toString()}`);
    return new Uint8Array(r.stdout);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function tool(cmd: string[], input: Uint8Array): Uint8Array {
  const r = Bun.spawnSync(cmd, { stdin: input, stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${cmd[0]} failed: ${r.stderr.toString()}`);
  return new Uint8Array(r.stdout);
}

const concat = (...parts: Uint8Array[]): Uint8Array => concatBytes(parts);

/** A zstd skippable frame (magic 0x184D2A50..5F) holding `n` bytes. */
function skippable(n: number): Uint8Array {
  const b = new Uint8Array(8 + n);
  const v = new DataView(b.buffer);
  v.setUint32(0, 0x184d2a53, true);
  v.setUint32(4, n, true);
  return b;
}

export function buildCorpus(): Seed[] {
  const tars: Array<[string, Uint8Array]> = [
    ["small.pax", tarOf("small", "pax")],
    ["small.gnu", tarOf("small", "gnu")],
    ["small.ustar", tarOf("small", "ustar")],
    ["long.gnu", tarOf("long", "gnu")],
    ["long.pax", tarOf("long", "pax")],
    ["sparse.gnu", sparseTar("gnu")],
    ["sparse.pax", sparseTar("pax")],
  ];
  const seeds: Seed[] = [];
  for (const [name, tar] of tars) {
    const half = Math.floor(tar.length / 1024) * 512;
    seeds.push({ name, codec: "tar", bytes: tar });
    seeds.push({ name: `${name}.gz`, codec: "gzip", bytes: tool(["gzip", "-9", "-n", "-c"], tar) });
    seeds.push({ name: `${name}.bun.gz`, codec: "gzip", bytes: Bun.gzipSync(tar as Uint8Array<ArrayBuffer>, { level: 1 }) });
    seeds.push({
      name: `${name}.2members.gz`,
      codec: "gzip",
      bytes: concat(tool(["gzip", "-1", "-c"], tar.subarray(0, half)), tool(["gzip", "-6", "-n", "-c"], tar.subarray(half))),
    });
    seeds.push({ name: `${name}.zst`, codec: "zstd", bytes: tool(["zstd", "-q", "-c", "-3", "--check"], tar) });
    seeds.push({
      name: `${name}.2frames.zst`,
      codec: "zstd",
      bytes: concat(tool(["zstd", "-q", "-c", "-1", "--no-check"], tar.subarray(0, half)), skippable(5), tool(["zstd", "-q", "-c", "-19"], tar.subarray(half))),
    });
  }
  return seeds;
}
