/**
 * Whether standard error (or output) is a terminal, without touching `process.stderr`: its first
 * touch sets up Node's stream machinery, measured at 9 MiB of a compiled binary's peak RSS, which
 * a `peek` that draws no progress (stderr not a terminal) would pay only to find that out. On
 * Linux the answer comes from what /proc/self/fd/N links to (a pty or a tty device); where that
 * cannot be read, from the stream as before.
 */
import { readlinkSync } from "node:fs";

const TERMINAL_DEVICE = /^\/dev\/(?:pts\/\d+|tty\w*|console)$/;

export function isTerminal(fd: 1 | 2): boolean {
  try {
    return TERMINAL_DEVICE.test(readlinkSync(`/proc/self/fd/${fd}`));
  } catch {
    return !!(fd === 1 ? process.stdout : process.stderr).isTTY;
  }
}
