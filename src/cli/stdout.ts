/**
 * Standard output of every command, through Bun's own file sink (`Bun.stdout.writer()`) rather
 * than `process.stdout`: the first touch of `process.stdout` sets up Node's stream machinery
 * (node:stream, node:events, the fs streams), measured at 7 MiB and 10-20 ms of a compiled
 * binary's start-up, more than a cached `ls` spends on everything else (docs/performance.md).
 *
 * Each write is flushed before it returns, so nothing waits in the sink behind a later write, and
 * a full pipe gives a promise resolved once the bytes are written (the caller waits on it: output
 * of any length in bounded memory). A reader gone away (EPIPE, `| head`) ends the process quietly
 * with exit 0, as it did when process.stdout's "error" event did that.
 */
import type { FileSink } from "bun";

let sink: FileSink | undefined;

function gone(e: unknown): never {
  if ((e as { code?: string })?.code === "EPIPE") process.exit(0);
  throw e;
}

/** Writes text or bytes to stdout; a promise when the pipe is full, resolved once they are written. */
export function toStdout(data: string | Uint8Array): Promise<void> | undefined {
  try {
    sink ??= Bun.stdout.writer();
    sink.write(data);
    const flushed = sink.flush();
    if (flushed instanceof Promise) return flushed.then(() => undefined, gone);
  } catch (e) {
    gone(e);
  }
  return undefined;
}

/** Writes to stdout and forgets it: a full pipe is still drained before the process exits. */
export function writeStdout(data: string | Uint8Array): void {
  // A rejection (EPIPE) is handled inside; the promise only says when the bytes left.
  void toStdout(data);
}
