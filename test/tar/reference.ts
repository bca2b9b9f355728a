/**
 * The reference tar readers, run on an archive file: Go's archive/tar (the runtime's reader, built
 * once from reference/tarls.go and cached), Python's tarfile and GNU tar. Each listing is put in one
 * comparable form: names as bytes (hex) cleaned like our `normalizePath`, our type words, sizes of
 * files, content hashes (Go), and whether the reader ended in an error.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeName } from "../../src/tar/text.ts";
import type { Entry } from "../../src/types.ts";

export interface Listed {
  /** "type name-hex [size] [-> link-hex]" per entry. */
  entries: string[];
  /** Content sha256 by entry index ("" when the entry has no data). */
  sha256?: string[];
  error: boolean;
}

const TYPE_WORDS: Record<string, string> = {
  "0": "file",
  "\0": "file",
  "1": "hardlink",
  "2": "symlink",
  "3": "char",
  "4": "block",
  "5": "dir",
  "6": "fifo",
  "7": "contiguous",
  g: "pax-global",
  S: "file",
  D: "dir",
};

/** Bytes → hex of the name cleaned like tar/entry.ts normalizePath. */
export function cleanHex(b: Uint8Array): string {
  let s = Buffer.from(b).toString("latin1");
  for (;;) {
    if (s.startsWith("/")) s = s.slice(1);
    else if (s.startsWith("./")) s = s.slice(2);
    else break;
  }
  s = s.replace(/\/+$/, "");
  return Buffer.from(s === "" ? "." : s, "latin1").toString("hex");
}

export function line(type: string, name: Uint8Array, size: number, link: Uint8Array | undefined): string {
  const hasSize = type === "file" || type === "contiguous";
  const l = type === "hardlink" ? ` -> ${cleanHex(link!)}` : type === "symlink" ? ` -> ${Buffer.from(link!).toString("hex")}` : "";
  return `${type} ${cleanHex(name)}${hasSize ? ` ${size}` : ""}${l}`;
}

export function ours(entries: readonly Entry[], error: boolean, sha256?: string[]): Listed {
  const out: Listed = {
    entries: entries.map((e) => line(e.type, encodeName(e.path), e.size, e.linkname === undefined ? undefined : encodeName(e.linkname))),
    error,
  };
  if (sha256) out.sha256 = sha256;
  return out;
}

function fromJsonLines(text: string, withContent: boolean): Listed {
  const entries: string[] = [];
  const sums: string[] = [];
  let error = true;
  for (const l of text.split("\n")) {
    if (l === "") continue;
    const r = JSON.parse(l) as { name?: string; link?: string; type?: number; size?: number; sha256?: string; readErr?: string; end?: string; error?: string };
    if (r.end !== undefined) error = false;
    else if (r.error !== undefined) error = true;
    else {
      const flag = String.fromCharCode(r.type!);
      const name = Buffer.from(r.name!, "base64");
      entries.push(line(TYPE_WORDS[flag] ?? "file", name, r.size!, Buffer.from(r.link ?? "", "base64")));
      sums.push(r.sha256 ?? "");
      if (r.readErr) error = true;
    }
  }
  return withContent ? { entries, sha256: sums, error } : { entries, error };
}

let goBinary: string | undefined;

/** Builds reference/tarls.go once per source version (cached in the temp directory). */
export function goReader(): string {
  if (goBinary) return goBinary;
  const src = join(import.meta.dir, "reference", "tarls.go");
  const hash = createHash("sha256").update(readFileSync(src)).digest("hex").slice(0, 16);
  const dir = join(tmpdir(), "layerslayer-go-tarls");
  const bin = join(dir, `tarls-${hash}`);
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true });
    const tmp = `${bin}.${process.pid}`;
    const r = Bun.spawnSync(["go", "build", "-o", tmp, src], { env: { ...process.env, GO111MODULE: "off", GOCACHE: join(dir, "cache"), HOME: dir }, stderr: "pipe" });
    if (r.exitCode !== 0) throw new Error(`go build failed: ${r.stderr.toString()}`);
    renameSync(tmp, bin);
  }
  goBinary = bin;
  return bin;
}

/** Splits the output of a reference reader run on several files at its {"file": …} lines. */
function perFile(text: string, withContent: boolean): Map<string, Listed> {
  const out = new Map<string, Listed>();
  const parts = text.split(/^(?=\{"file": ?")/m).filter((p) => p !== "");
  for (const part of parts) {
    const nl = part.indexOf("\n");
    const file = (JSON.parse(part.slice(0, nl)) as { file: string }).file;
    out.set(file, fromJsonLines(part.slice(nl + 1), withContent));
  }
  return out;
}

/** Go's archive/tar on each file (one process for all). */
export function goList(files: string[]): Map<string, Listed> {
  const r = Bun.spawnSync([goReader(), ...files], { stdout: "pipe", stderr: "pipe" });
  return perFile(r.stdout.toString(), true);
}

/** Python's tarfile on each file (one process for all). */
export function pythonList(files: string[]): Map<string, Listed> {
  const r = Bun.spawnSync(["python3", join(import.meta.dir, "reference", "tarls.py"), ...files], { stdout: "pipe", stderr: "pipe" });
  return perFile(r.stdout.toString(), false);
}

const GNU_TYPES: Record<string, string> = { "-": "file", h: "hardlink", l: "symlink", c: "char", b: "block", d: "dir", p: "fifo", C: "contiguous", g: "pax-global", S: "file" };

/** GNU tar's octal escapes (--quoting-style=escape) back to bytes. */
function gnuUnquote(s: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === "\\" && /^[0-7]{3}$/.test(s.slice(i + 1, i + 4))) {
      out.push(parseInt(s.slice(i + 1, i + 4), 8));
      i += 3;
    } else if (s[i] === "\\" && s[i + 1] === "\\") {
      out.push(0x5c);
      i++;
    } else for (const b of Buffer.from(s[i]!, "utf8")) out.push(b);
  }
  return Uint8Array.from(out);
}

/** `tar -tv --numeric-owner --full-time`: the listing and whether tar reported an error. */
export function gnuTarList(file: string): Listed {
  const r = Bun.spawnSync(["tar", "-tv", "--numeric-owner", "--full-time", "--quoting-style=escape", "-f", file], {
    stdout: "pipe",
    stderr: "pipe",
    env: { LC_ALL: "C", PATH: process.env.PATH ?? "/usr/bin:/bin" },
  });
  const entries: string[] = [];
  for (const l of r.stdout.toString().split("\n")) {
    const m = /^(\S)\S{9} \d+\/\d+\s+(\d+|\d+,\s*\d+) \S+ \S+ (.*)$/.exec(l);
    if (!m) continue;
    const type = GNU_TYPES[m[1]!] ?? "file";
    let rest = m[3]!;
    let link: Uint8Array | undefined;
    const sep = type === "symlink" ? " -> " : type === "hardlink" ? " link to " : undefined;
    if (sep && rest.includes(sep)) {
      link = gnuUnquote(rest.slice(rest.indexOf(sep) + sep.length));
      rest = rest.slice(0, rest.indexOf(sep));
    }
    entries.push(line(type, gnuUnquote(rest), Number(m[2]!.split(",")[0]), link));
  }
  return { entries, error: r.exitCode !== 0 };
}
