import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = join(import.meta.dir, "..", "..");
export const MAIN = join(root, "src/cli/main.ts");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  bytes: Uint8Array;
}

/** An isolated HOME/XDG cache so no test reads the developer's docker config or cache. */
export const isolatedHome = mkdtempSync(join(tmpdir(), "ls-home-"));

/** Runs the CLI from source (or the binary at `bin`) and collects everything. */
export async function runCli(args: string[], opts: { stdin?: string; env?: Record<string, string>; bin?: string; cwd?: string } = {}): Promise<CliResult> {
  const cmd = opts.bin ? [opts.bin, ...args] : [process.execPath, MAIN, ...args];
  // A fresh cache per run, so no test sees listings another one left; cache tests pass their own.
  const cache = mkdtempSync(join(tmpdir(), "ls-cache-"));
  const proc = Bun.spawn(cmd, {
    stdin: opts.stdin !== undefined ? new TextEncoder().encode(opts.stdin) : "ignore",
    stdout: "pipe",
    stderr: "pipe",
    cwd: opts.cwd ?? root,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: isolatedHome,
      XDG_CACHE_HOME: cache,
      NO_COLOR: "1",
      ...opts.env,
    },
  });
  const [code, out, stderr] = await Promise.all([proc.exited, new Response(proc.stdout).arrayBuffer(), new Response(proc.stderr).text()]);
  rmSync(cache, { recursive: true, force: true });
  const bytes = new Uint8Array(out);
  return { code, stdout: new TextDecoder().decode(bytes), stderr, bytes };
}
