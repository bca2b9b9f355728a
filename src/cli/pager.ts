/**
 * Text longer than the terminal, shown a page at a time: through $PAGER when it is set (run by
 * the shell, like git and man run it), else through a small built-in pager. Off a terminal, or
 * when the text fits, it is written as it is.
 */
import { readKeys, type Terminal } from "./prompt.ts";

const CSI = "\x1b[";

export interface PageOptions {
  env?: Record<string, string | undefined>;
}

/** Lines the terminal shows at once, minus the line the pager's prompt takes. */
function pageLines(term: Terminal): number {
  return Math.max(3, (term.output.rows ?? 24) - 1);
}

export async function page(term: Terminal, text: string, opts: PageOptions = {}): Promise<void> {
  const env = opts.env ?? process.env;
  const lines = text.endsWith("\n") ? text.slice(0, -1).split("\n") : text.split("\n");
  if (!term.output.isTTY || !term.input.isTTY || lines.length <= pageLines(term) - 1) {
    term.output.write(text);
    return;
  }
  const pager = env.PAGER?.trim();
  if (pager) {
    await external(pager, text, env);
    return;
  }
  await builtIn(term, lines);
}

/** Runs `$PAGER` through the shell with the text on its standard input; the terminal is its own. */
async function external(pager: string, text: string, env: Record<string, string | undefined>): Promise<void> {
  const proc = Bun.spawn(["sh", "-c", pager], {
    stdin: "pipe",
    stdout: "inherit",
    stderr: "inherit",
    env: { LESS: "FRX", ...env } as Record<string, string>,
  });
  try {
    proc.stdin.write(text);
    await proc.stdin.end();
  } catch {
    // The pager quit before reading everything (q in less): that is the reader's choice.
  }
  await proc.exited;
}

/**
 * Space (or f) shows the next page, Enter (or j, ↓) the next line, q (or Ctrl-C, Escape) stops.
 * The "-- more --" line is redrawn in place and erased at the end.
 */
async function builtIn(term: Terminal, lines: string[]): Promise<void> {
  const { output } = term;
  let shown = Math.min(lines.length, pageLines(term));
  const more = () => output.write(`\r${CSI}K-- more (${shown}/${lines.length} lines) -- space: next page, enter: next line, q: stop`);
  const firstPage = () => {
    output.write(`${lines.slice(0, shown).join("\n")}\n`);
    more();
  };
  try {
    await readKeys(term, firstPage, (key) => {
      if (key === "q" || key === "Q" || key === "\x03" || key === "\x1b") return true;
      const step = key === " " || key === "f" ? pageLines(term) : key === "\r" || key === "\n" || key === "j" || key === "\x1b[B" ? 1 : 0;
      if (step === 0) return undefined;
      const to = Math.min(lines.length, shown + step);
      output.write(
        `\r${CSI}K${lines
          .slice(shown, to)
          .map((l) => `${l}\n`)
          .join("")}`,
      );
      shown = to;
      if (shown >= lines.length) return true;
      more();
      return undefined;
    });
  } finally {
    output.write(`\r${CSI}K`);
  }
}
