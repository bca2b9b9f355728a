/**
 * Tar archives too big or too odd to make from files on disk (a million entries, 100,000 names in
 * one directory, a path of 10,000 components): ustar headers written directly, PAX 'x' records
 * for names and link targets that do not fit, streamed in pieces so nothing holds the whole tar.
 */

export interface SyntheticEntry {
  path: string;
  type?: "file" | "dir" | "symlink";
  linkname?: string;
  size?: number;
}

const enc = new TextEncoder();
const TYPEFLAG = { file: 0x30, dir: 0x35, symlink: 0x32 } as const;

function octal(b: Uint8Array, at: number, len: number, v: number): void {
  const s = v.toString(8).padStart(len - 1, "0");
  for (let i = 0; i < len - 1; i++) b[at + i] = s.charCodeAt(i);
  b[at + len - 1] = 0;
}

function headerBlock(name: Uint8Array, typeflag: number, size: number, linkname: Uint8Array, mode: number): Uint8Array {
  const b = new Uint8Array(512);
  b.set(name.subarray(0, 100), 0);
  octal(b, 100, 8, mode);
  octal(b, 108, 8, 0);
  octal(b, 116, 8, 0);
  octal(b, 124, 12, size);
  octal(b, 136, 12, 1_700_000_000);
  b[156] = typeflag;
  b.set(linkname.subarray(0, 100), 157);
  b.set(enc.encode("ustar\x0000"), 257);
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += b[i]!;
  octal(b, 148, 7, sum);
  b[155] = 0x20;
  return b;
}

function paxRecord(key: string, value: Uint8Array): Uint8Array {
  const rest = enc.encode(` ${key}=`);
  const bodyLen = rest.length + value.length + 1;
  let len = bodyLen + 1;
  while (String(len).length + bodyLen !== len) len = String(len).length + bodyLen;
  const out = new Uint8Array(len);
  const head = enc.encode(String(len));
  out.set(head, 0);
  out.set(rest, head.length);
  out.set(value, head.length + rest.length);
  out[len - 1] = 0x0a;
  return out;
}

const padded = (n: number): number => Math.ceil(n / 512) * 512;

/** The blocks of one entry (a PAX header first when the name or link target is long). */
export function entryBlocks(e: SyntheticEntry): Uint8Array {
  const type = e.type ?? "file";
  const name = enc.encode(type === "dir" && !e.path.endsWith("/") ? `${e.path}/` : e.path);
  const link = enc.encode(e.linkname ?? "");
  const size = type === "file" ? (e.size ?? 0) : 0;
  const records: Uint8Array[] = [];
  if (name.length > 100) records.push(paxRecord("path", name));
  if (link.length > 100) records.push(paxRecord("linkpath", link));
  const paxLen = records.reduce((n, r) => n + r.length, 0);
  const out = new Uint8Array((paxLen > 0 ? 512 + padded(paxLen) : 0) + 512 + padded(size));
  let at = 0;
  if (paxLen > 0) {
    out.set(headerBlock(enc.encode("PaxHeader"), 0x78, paxLen, new Uint8Array(0), 0o644), 0);
    at = 512;
    for (const r of records) {
      out.set(r, at);
      at += r.length;
    }
    at = 512 + padded(paxLen);
  }
  out.set(headerBlock(name, TYPEFLAG[type], size, link, type === "dir" ? 0o755 : type === "symlink" ? 0o777 : 0o644), at);
  at += 512;
  for (let i = 0; i < size; i++) out[at + i] = 0x61 + (i % 26);
  return out;
}

/** A whole tar (with its end-of-archive marker) of entries, streamed through gzip -1 into a Uint8Array. */
export async function syntheticLayer(entries: Iterable<SyntheticEntry>): Promise<Uint8Array> {
  const gz = Bun.spawn(["gzip", "-1", "-c"], { stdin: "pipe", stdout: "pipe" });
  const out = new Response(gz.stdout).arrayBuffer();
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  const flush = async () => {
    for (const p of pending) gz.stdin.write(p);
    await gz.stdin.flush();
    pending = [];
    pendingBytes = 0;
  };
  for (const e of entries) {
    const b = entryBlocks(e);
    pending.push(b);
    pendingBytes += b.length;
    if (pendingBytes >= 1 << 20) await flush();
  }
  pending.push(new Uint8Array(1024));
  await flush();
  await gz.stdin.end();
  await gz.exited;
  return new Uint8Array(await out);
}
