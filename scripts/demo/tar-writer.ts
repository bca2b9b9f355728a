/** A minimal ustar writer for the demo image (PAX records for long names); the tests use GNU tar instead. */
import { lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";

const enc = new TextEncoder();

function octal(n: number, len: number): string {
  return n.toString(8).padStart(len - 1, "0") + "\0";
}

function header(name: string, size: number, type: string, mode: number, mtime: number, linkname = ""): Uint8Array {
  const b = new Uint8Array(512);
  const put = (at: number, s: string) => b.set(enc.encode(s).subarray(0, 100), at);
  put(0, name);
  put(100, octal(mode & 0o7777, 8));
  put(108, octal(0, 8));
  put(116, octal(0, 8));
  put(124, octal(size, 12));
  put(136, octal(Math.floor(mtime), 12));
  b[156] = type.charCodeAt(0);
  put(157, linkname);
  put(257, "ustar\u000000");
  put(265, "root");
  put(297, "root");
  b.fill(0x20, 148, 156);
  const sum = b.reduce((s, c) => s + c, 0);
  put(148, octal(sum, 7) + " ");
  return b;
}

function pad(n: number): Uint8Array {
  return new Uint8Array((512 - (n % 512)) % 512);
}

function pax(name: string, linkname: string): Uint8Array[] {
  const rec = (k: string, v: string) => {
    const body = ` ${k}=${v}\n`;
    let len = enc.encode(body).length + 1;
    while (String(len).length + enc.encode(body).length !== len) len++;
    return `${len}${body}`;
  };
  const data = enc.encode(rec("path", name) + (linkname ? rec("linkpath", linkname) : ""));
  return [header("././@PaxHeader", data.length, "x", 0o644, 0), data, pad(data.length)];
}

/** Tar of `dir` (stored under `prefix`), at most `maxBytes` of file content; unreadable files skipped. */
export function tarDirectory(dir: string, prefix: string, maxBytes: number, extra: { path: string; content: string }[] = []): Uint8Array {
  const parts: Uint8Array[] = [];
  let budget = maxBytes;
  const add = (name: string, size: number, type: string, mode: number, mtime: number, linkname = "", data?: Uint8Array) => {
    if (enc.encode(name).length > 99 || enc.encode(linkname).length > 99) parts.push(...pax(name, linkname));
    parts.push(header(name, size, type, mode, mtime, linkname));
    if (data) parts.push(data, pad(data.length));
  };
  const walk = (rel: string) => {
    let names: string[];
    try {
      names = readdirSync(join(dir, rel)).sort();
    } catch {
      return;
    }
    for (const n of names) {
      if (budget <= 0) return;
      const r = rel ? `${rel}/${n}` : n;
      const full = join(dir, r);
      let st;
      try {
        st = lstatSync(full);
      } catch {
        continue;
      }
      const name = `${prefix}/${r}`;
      if (st.isSymbolicLink()) add(name, 0, "2", 0o777, st.mtimeMs / 1000, readlinkSync(full));
      else if (st.isDirectory()) {
        add(`${name}/`, 0, "5", st.mode, st.mtimeMs / 1000);
        walk(r);
      } else if (st.isFile()) {
        let data: Uint8Array;
        try {
          data = readFileSync(full);
        } catch {
          continue;
        }
        budget -= data.length;
        add(name, data.length, "0", st.mode, st.mtimeMs / 1000, "", data);
      }
    }
  };
  walk("");
  for (const e of extra) {
    const data = enc.encode(e.content);
    add(e.path, data.length, "0", 0o644, Date.now() / 1000, "", data);
  }
  parts.push(new Uint8Array(1024));
  return new Uint8Array(Buffer.concat(parts));
}
