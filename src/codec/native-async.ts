/**
 * A native decompressor's handle whose writes run on the runtime's thread pool (`handle.write`,
 * the asynchronous twin of `writeSync`, as Node's zlib streams use it): the decoder works on one
 * buffer while the main thread walks the tar in the previous one. That is decoding beside the rest
 * of a read without a Worker: no second JavaScript heap (a Bun Worker costs 7.5 MiB idle, a
 * decoding one 50 MiB more in a prototype), and the zlib and libzstd code the sync driver runs.
 *
 * The handle is made as Bun's own `node:zlib` makes it (the constructor of a Transform's handle,
 * then `init` with the Transform's defaults), with a completion callback of ours instead of the
 * stream's. Anything unexpected on the way leaves `overlapHandle` undefined and the codec takes the
 * sync driver (native-sync.ts).
 */

import type { Transform } from "node:stream";
import { constants } from "node:zlib";
import type { SyncHandle } from "./native-sync.ts";

interface RawHandle {
  init(...args: unknown[]): void;
  write(flush: number, input: Uint8Array, inOff: number, inLen: number, out: Uint8Array, outOff: number, outLen: number): void;
  writeSync(flush: number, input: Uint8Array, inOff: number, inLen: number, out: Uint8Array, outOff: number, outLen: number): void;
  close(): void;
  onerror: (message: string, errno: number, code: string) => void;
}

const zc = constants as unknown as Record<string, number>;

/** The decoder's mode number and `init` arguments, as node:zlib passes them for createGunzip / createZstdDecompress. */
function initArgs(codec: "gzip" | "zstd", state: Uint32Array, done: () => void): { mode: number; args: unknown[] } | undefined {
  if (codec === "gzip") {
    const mode = zc.GUNZIP;
    if (mode === undefined) return undefined;
    return { mode, args: [zc.Z_DEFAULT_WINDOWBITS ?? 15, zc.Z_DEFAULT_COMPRESSION ?? -1, zc.Z_DEFAULT_MEMLEVEL ?? 8, zc.Z_DEFAULT_STRATEGY ?? 0, state, done, undefined] };
  }
  const mode = zc.ZSTD_DECOMPRESS;
  if (mode === undefined) return undefined;
  // One slot per decompression parameter, all "unset" (-1): libzstd's defaults, as the Transform has.
  const maxParam = Math.max(0, ...Object.keys(zc).map((k) => (k.startsWith("ZSTD_d_") ? zc[k]! : 0)));
  const params = new Uint32Array(maxParam + 1).fill(0xffffffff);
  return { mode, args: [params, undefined, state, done] };
}

/**
 * A fresh handle of the same kind as `z`'s, whose `start` runs one write on the thread pool. `z`
 * only lends its handle's constructor: the caller destroys it. Undefined when this runtime does not
 * have what that needs.
 */
export function overlapHandle(z: Transform, codec: "gzip" | "zstd"): SyncHandle | undefined {
  try {
    const model = (z as unknown as { _handle?: { constructor?: unknown } })._handle;
    const Ctor = model?.constructor as (new (mode: number) => RawHandle) | undefined;
    if (typeof Ctor !== "function") return undefined;
    const state = new Uint32Array(2);
    let settle: (() => void) | undefined;
    const done = () => {
      const s = settle;
      settle = undefined;
      s?.();
    };
    const init = initArgs(codec, state, done);
    if (!init) return undefined;
    const handle = new Ctor(init.mode);
    if (typeof handle.write !== "function" || typeof handle.writeSync !== "function" || typeof handle.init !== "function") return undefined;
    handle.init(...init.args);
    return {
      handle,
      state,
      start(flush, input, inOff, inLen, out, outOff, outLen) {
        const p = new Promise<void>((resolve) => (settle = resolve));
        handle.write(flush, input, inOff, inLen, out, outOff, outLen);
        return p;
      },
      // An error ends the write without its callback: the driver's onerror calls this.
      settle: done,
    };
  } catch {
    return undefined;
  }
}
