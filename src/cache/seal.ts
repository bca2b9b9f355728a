/**
 * What binds the cache's rows to what was verified when they were written: a keyed MAC
 * (HMAC-SHA256) over each row's key and content, with a secret kept beside the database in
 * `cache.key` (32 random bytes, mode 0600, created atomically: written under a temporary name and
 * hard-linked into place, so concurrent first runs agree on one key). A row whose MAC does not
 * check is treated as absent. What this does and does not protect against: docs/cache.md.
 *
 * Bun's own HMAC (`Bun.CryptoHasher` with a key) and Web Crypto's random bytes, not node:crypto:
 * loading node:crypto sets up Node's stream machinery, 7 MiB and 10-20 ms of a cached `ls`
 * (docs/performance.md). The MACs are the same bytes either way.
 */
import { closeSync, constants, fstatSync, linkSync, openSync, readSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const KEY_FILE = "cache.key";
const KEY_BYTES = 32;

const utf8 = new TextEncoder();

/** Whether `a` is the MAC `b`, compared in time that does not depend on where they differ (as node:crypto's timingSafeEqual). */
export function sameMac(a: unknown, b: Uint8Array): boolean {
  if (!(a instanceof Uint8Array) || a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** The key file exists but cannot be trusted or used (not a private regular file of ours). */
export class KeyProblem extends Error {
  readonly code = "KEY";
}

export type SealField = string | number | Uint8Array | null;

/** MACs with one cache's key. */
export class Seal {
  constructor(private readonly key: Uint8Array) {}

  /** The MAC of a row: `kind` (the table) and its fields, each typed and length-prefixed so no two rows encode alike. */
  mac(kind: string, ...fields: SealField[]): Uint8Array {
    const h = new Bun.CryptoHasher("sha256", this.key);
    const head = new DataView(new ArrayBuffer(9));
    for (const f of [kind, ...fields]) {
      const bytes = f === null ? new Uint8Array(0) : typeof f === "string" ? utf8.encode(f) : typeof f === "number" ? utf8.encode(String(f)) : f;
      head.setUint8(0, f === null ? 0 : typeof f === "string" ? 1 : typeof f === "number" ? 2 : 3);
      head.setBigUint64(1, BigInt(bytes.length));
      h.update(new Uint8Array(head.buffer));
      h.update(bytes);
    }
    return new Uint8Array(h.digest());
  }

  check(mac: unknown, kind: string, ...fields: SealField[]): boolean {
    if (!(mac instanceof Uint8Array) || mac.length !== 32) return false;
    return sameMac(mac, this.mac(kind, ...fields));
  }

  /** A value that names the key without revealing it (kept in the database: a file written with another key is emptied). */
  keyCheck(): Uint8Array {
    return this.mac("layerslayer cache key");
  }
}

function readKey(path: string): Uint8Array | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  } catch (e) {
    if ((e as { code?: string }).code === "ENOENT") return undefined;
    if ((e as { code?: string }).code === "ELOOP") throw new KeyProblem(`the cache key ${path} is a symbolic link`);
    throw e;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new KeyProblem(`the cache key ${path} is not a regular file`);
    const uid = process.getuid?.();
    if (uid !== undefined && st.uid !== uid) throw new KeyProblem(`the cache key ${path} belongs to another user`);
    if (uid !== undefined && (st.mode & 0o077) !== 0) throw new KeyProblem(`the cache key ${path} can be read or written by others (mode ${(st.mode & 0o777).toString(8)})`);
    if (st.size !== KEY_BYTES) throw new KeyProblem(`the cache key ${path} is not ${KEY_BYTES} bytes long`);
    const key = new Uint8Array(KEY_BYTES);
    if (readSync(fd, key, 0, KEY_BYTES, 0) !== KEY_BYTES) throw new KeyProblem(`the cache key ${path} could not be read whole`);
    return key;
  } finally {
    closeSync(fd);
  }
}

/** The cache directory's key, made on first use (the directory must exist). */
export function loadKey(dir: string): Seal {
  const path = join(dir, KEY_FILE);
  let key = readKey(path);
  if (!key) {
    const tmp = join(dir, `${KEY_FILE}.${process.pid}.${crypto.randomUUID()}.tmp`);
    writeFileSync(tmp, crypto.getRandomValues(new Uint8Array(KEY_BYTES)), { mode: 0o600, flag: "wx" });
    try {
      linkSync(tmp, path);
    } catch (e) {
      // Another process made it first: use theirs.
      if ((e as { code?: string }).code !== "EEXIST") throw e;
    } finally {
      rmSync(tmp, { force: true });
    }
    key = readKey(path);
    if (!key) throw new KeyProblem(`the cache key ${path} vanished while it was made`);
  }
  return new Seal(key);
}
