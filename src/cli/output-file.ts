/** Where a command writes bytes it produces (cat's file, export's tar): a file, atomically, or stdout. */
import { closeSync, fchmodSync, openSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { LayerslayerError } from "../errors.ts";
import { escapeName } from "../names.ts";
import { toStdout } from "./stdout.ts";

/**
 * Writes to a temp file beside `target` and renames it into place only when everything arrived.
 * A target that exists and is not a regular file (/dev/null, a fifo, /dev/stdout) is written directly.
 */
export class FileSink {
  private readonly tmp: string | undefined;
  private readonly fd: number;
  constructor(private readonly target: string) {
    let special = false;
    try {
      special = !statSync(target).isFile();
    } catch {}
    this.tmp = special ? undefined : join(dirname(target), `.${basename(target)}.layerslayer-${process.pid}.partial`);
    try {
      this.fd = openSync(this.tmp ?? target, "w", 0o644);
    } catch (e) {
      throw new LayerslayerError("IO", `cannot write ${escapeName(target)}: ${(e as Error).message}`);
    }
  }
  write(chunk: Uint8Array): void {
    let off = 0;
    while (off < chunk.byteLength) off += writeSync(this.fd, chunk, off);
  }
  /** Closes the file and moves it into place, with `mode` when given (a special target keeps its own). */
  commit(mode?: number): void {
    if (this.tmp && mode !== undefined) fchmodSync(this.fd, mode);
    closeSync(this.fd);
    if (this.tmp) renameSync(this.tmp, this.target);
  }
  abandon(): void {
    try {
      closeSync(this.fd);
    } catch {}
    if (this.tmp) rmSync(this.tmp, { force: true });
  }
}

/** stdout, binary-safe, waiting when the pipe is full. */
export function stdoutSink(): (chunk: Uint8Array) => Promise<void> {
  return async (chunk) => await toStdout(chunk);
}
