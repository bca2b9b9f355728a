/** The browser (`layerslayer browse …`) in a tmux terminal, for the tests of src/browse. */
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { startTerminal, type Terminal } from "./tmux.ts";

const root = join(import.meta.dir, "..", "..");

export interface BrowseRun {
  /** Where the program runs (its HOME and working directory); a fresh cache under it each run. */
  cwd: string;
  /** Arguments after the program, e.g. "browse 127.0.0.1:5000/lab/app:1". */
  args: string;
  width?: number;
  height?: number;
  /** Environment assignments put before the program ("NO_COLOR=1 PAGER=…"). */
  env?: string;
}

/**
 * Runs the CLI in tmux (then `echo EXIT=$?` so the exit code shows on the screen) and hands the
 * terminal to `body`; the session is killed afterwards.
 */
export async function onBrowseTerminal(run: BrowseRun, body: (t: Terminal) => Promise<void>): Promise<void> {
  const cache = mkdtempSync(join(run.cwd, "cache-"));
  const cmd = `cd ${run.cwd} && HOME=${run.cwd} XDG_CACHE_HOME=${cache} ${run.env ?? ""} ${process.execPath} ${join(root, "src/cli/main.ts")} ${run.args}; echo EXIT=$?; sleep 30`;
  const term = startTerminal(["sh", "-c", cmd], { width: run.width ?? 100, height: run.height ?? 30 });
  try {
    await body(term);
  } finally {
    term.kill();
  }
}

/** The screen without trailing blanks (and blank lines at the end), `host` replaced by REGISTRY. */
export function screenLines(t: Terminal, host: string): string[] {
  return t
    .screen()
    .split("\n")
    .map((l) => l.trimEnd().replaceAll(host, "REGISTRY"))
    .filter((l, i, all) => l !== "" || all.slice(i).some((x) => x.trim() !== ""));
}

/** `q`, and the program has ended with exit code 0. */
export async function quitBrowse(t: Terminal): Promise<void> {
  t.type("q");
  await t.waitFor(/EXIT=0/);
}
