import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = join(import.meta.dir, "..", "..");
export const MAIN = join(root, "src/cli/main.ts");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  bytes: Uint8Array;
  /**
   * Peak resident memory of the process, in bytes, with `measure` (GNU time's count for that one
   * process: Bun's `resourceUsage()` of a child reports the largest of every child so far).
   */
  maxRss?: number;
}

/** An isolated HOME/XDG cache so no test reads the developer's docker config or cache. */
export const isolatedHome = mkdtempSync(join(tmpdir(), "ls-home-"));

/** Runs the CLI from source (or the binary at `bin`) and collects everything. */
export async function runCli(args: string[], opts: { stdin?: string; env?: Record<string, string>; bin?: string; cwd?: string; measure?: boolean } = {}): Promise<CliResult> {
  // A fresh cache per run, so no test sees listings another one left; cache tests pass their own.
  const cache = mkdtempSync(join(tmpdir(), "ls-cache-"));
  const rssFile = join(cache, "max-rss");
  const cmd = [...(opts.measure ? ["/usr/bin/time", "-f", "%M", "-o", rssFile] : []), ...(opts.bin ? [opts.bin, ...args] : [process.execPath, MAIN, ...args])];
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
  const maxRss = opts.measure ? Number(readFileSync(rssFile, "utf8").trim().split("\n").at(-1)) * 1024 : undefined;
  rmSync(cache, { recursive: true, force: true });
  const bytes = new Uint8Array(out);
  return { code, stdout: new TextDecoder().decode(bytes), stderr, bytes, ...(maxRss !== undefined ? { maxRss } : {}) };
}

/**
 * The single line a failed command printed on stderr (without its newline). Throws when stderr is
 * not exactly one line starting "layerslayer: ", or holds a control character or a stack frame.
 */
export function errorLine(r: CliResult): string {
  const text = r.stderr;
  if (!text.endsWith("\n") || text.indexOf("\n") !== text.length - 1) throw new Error(`stderr is not one line: ${JSON.stringify(text)}`);
  const line = text.slice(0, -1);
  if (/[\x00-\x1f\x7f-\x9f\u2028\u2029]/.test(line)) throw new Error(`stderr holds a control character: ${JSON.stringify(line)}`);
  if (!line.startsWith("layerslayer: ") || line.startsWith("layerslayer: internal error")) throw new Error(`not an expected error: ${line}`);
  return line;
}

/**
 * Characters that must never reach a terminal raw (what src/names.ts escapes, less the backslash):
 * C0 controls but the newline, DEL, C1 controls, line/paragraph separators, bidi controls, BOM.
 */
const RAW_UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff]/;

/** Throws when text meant for a terminal holds a raw control or bidi character (names the first one). */
export function expectTerminalSafe(text: string, what = "output"): void {
  const m = RAW_UNSAFE.exec(text);
  if (m)
    throw new Error(
      `${what} holds a raw U+${m[0].charCodeAt(0).toString(16).padStart(4, "0")} at ${m.index}: ${JSON.stringify(text.slice(Math.max(0, m.index - 40), m.index + 40))}`,
    );
}
