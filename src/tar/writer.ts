/**
 * Writing tar: the headers of one member, as GNU tar and Go's archive/tar write them. A USTAR
 * header carries what fits; a PAX extended header ('x') before it carries what does not: a path or
 * link target longer than the field (or with bytes a USTAR reader could cut), a uid/gid, size or
 * mtime beyond the octal fields, a fractional mtime, an owner name longer than 31 bytes. Names
 * that came from a tar with bytes that are not UTF-8 (escaped in our strings, tar/text.ts) are
 * written back as those bytes.
 */
import { LayerslayerError } from "../errors.ts";
import type { Entry, EntryType } from "../types.ts";
import { BLOCK, TF } from "./header.ts";
import { encodeName } from "./text.ts";

const TYPEFLAG: Record<EntryType, number> = {
  file: TF.REG,
  hardlink: TF.LINK,
  symlink: TF.SYM,
  char: TF.CHR,
  block: TF.BLK,
  dir: TF.DIR,
  fifo: TF.FIFO,
  contiguous: TF.CONT,
  "pax-global": TF.PAX_GLOBAL,
};

const enc = new TextEncoder();
const MAX_OCTAL_8 = 0o7777777;
const MAX_OCTAL_12 = 0o77777777777;

/** What one member's headers need: an entry with its path and link target as they are to be written. */
export type MemberHeader = Pick<Entry, "path" | "type" | "mode" | "size" | "uid" | "gid" | "mtime" | "uname" | "gname" | "linkname" | "devmajor" | "devminor">;

function octal(b: Uint8Array, at: number, len: number, n: number): void {
  b.set(enc.encode(`${n.toString(8).padStart(len - 1, "0")}\0`), at);
}

/** One PAX record: "LEN key=value\n", LEN counting itself. */
function record(key: string, value: Uint8Array): Uint8Array {
  const rest = enc.encode(` ${key}=`).byteLength + value.byteLength + 1;
  let len = rest + 1;
  while (String(len).length + rest !== len) len++;
  return Buffer.concat([enc.encode(`${len} ${key}=`), value, enc.encode("\n")]);
}

/** Zero bytes that pad `n` bytes of content to a whole block. */
export function padding(n: number): Uint8Array {
  return new Uint8Array((BLOCK - (n % BLOCK)) % BLOCK);
}

/** The two zero blocks that end an archive. */
export const END_OF_ARCHIVE = new Uint8Array(2 * BLOCK);

function ustar(name: Uint8Array, typeflag: number, m: MemberHeader, size: number, link: Uint8Array): Uint8Array {
  const b = new Uint8Array(BLOCK);
  b.set(name.subarray(0, 100), 0);
  octal(b, 100, 8, m.mode & 0o7777);
  octal(b, 108, 8, Math.min(m.uid, MAX_OCTAL_8));
  octal(b, 116, 8, Math.min(m.gid, MAX_OCTAL_8));
  octal(b, 124, 12, Math.min(size, MAX_OCTAL_12));
  octal(b, 136, 12, Math.max(0, Math.min(Math.floor(m.mtime), MAX_OCTAL_12)));
  b[156] = typeflag;
  b.set(link.subarray(0, 100), 157);
  b.set(enc.encode("ustar\u000000"), 257);
  b.set(enc.encode(m.uname ?? "").subarray(0, 31), 265);
  b.set(enc.encode(m.gname ?? "").subarray(0, 31), 297);
  if (m.type === "char" || m.type === "block") {
    octal(b, 329, 8, Math.min(m.devmajor ?? 0, MAX_OCTAL_8));
    octal(b, 337, 8, Math.min(m.devminor ?? 0, MAX_OCTAL_8));
  }
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const c of b) sum += c;
  b.set(enc.encode(`${sum.toString(8).padStart(6, "0")}\0 `), 148);
  return b;
}

const fits = (s: Uint8Array) => s.byteLength <= 100 && !s.includes(0) && s.every((c) => c < 0x80);

/**
 * The header blocks of one member (a PAX header first when needed); its content, `size` bytes
 * padded to a block, is the caller's to write after them. Directories get a trailing "/".
 */
export function memberHeaders(m: MemberHeader): Uint8Array[] {
  if (m.type === "pax-global") throw new LayerslayerError("USAGE", "a PAX global header is not written as a member");
  const path = m.type === "dir" && !m.path.endsWith("/") ? `${m.path}/` : m.path;
  const name = encodeName(path);
  const link = encodeName(m.linkname ?? "");
  const size = m.type === "file" || m.type === "contiguous" ? m.size : 0;
  const records: Uint8Array[] = [];
  if (!fits(name)) records.push(record("path", name));
  if (!fits(link)) records.push(record("linkpath", link));
  if (m.uid > MAX_OCTAL_8) records.push(record("uid", enc.encode(String(m.uid))));
  if (m.gid > MAX_OCTAL_8) records.push(record("gid", enc.encode(String(m.gid))));
  if (size > MAX_OCTAL_12) records.push(record("size", enc.encode(String(size))));
  if (!Number.isInteger(m.mtime) || m.mtime < 0 || m.mtime > MAX_OCTAL_12) records.push(record("mtime", enc.encode(String(m.mtime))));
  for (const [key, value] of [
    ["uname", m.uname],
    ["gname", m.gname],
  ] as const) {
    if (value !== undefined && (enc.encode(value).byteLength > 31 || /[^\x20-\x7e]/.test(value))) records.push(record(key, encodeName(value)));
  }
  const out: Uint8Array[] = [];
  if (records.length > 0) {
    const data = Buffer.concat(records);
    const paxName = enc.encode(`PaxHeaders.0/${baseOf(path)}`).subarray(0, 100);
    out.push(ustar(paxName, TF.PAX, { ...m, type: "file", mode: 0o644, uid: 0, gid: 0, uname: "", gname: "" }, data.byteLength, new Uint8Array()), data, padding(data.byteLength));
  }
  out.push(ustar(name, TYPEFLAG[m.type], m, size, link));
  return out;
}

function baseOf(path: string): string {
  const clean = path.replace(/\/+$/, "");
  const name = clean.slice(clean.lastIndexOf("/") + 1);
  return /^[\x20-\x7e]{1,80}$/.test(name) ? name : "member";
}
