/**
 * Text longer than the terminal, shown a page at a time: through $PAGER when it is set (run by
 * the shell, like git and man run it), else through a small built-in pager. Off a terminal, or
 * when the text fits, it is written as it is.
 */
import type { Terminal } from "./prompt.ts";
import { splitKeys } from "./prompt.ts";

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
  const { input, output } = term;
  let shown = Math.min(lines.length, pageLines(term));
  output.write(`${lines.slice(0, shown).join("\n")}\n`);
  const more = () => output.write(`\r${CSI}K-- more (${shown}/${lines.length} lines) -- space: next page, enter: next line, q: stop`);
  more();
  const wasRaw = input.isRaw;
  input.setRawMode?.(true);
  input.resume();
  try {
    await new Promise<void>((resolve) => {
      const onData = (chunk: Buffer) => {
        for (const key of splitKeys(chunk.toString("utf8"))) {
          if (key === "q" || key === "Q" || key === "\x03" || key === "\x1b") {
            input.off("data", onData);
            resolve();
            return;
          }
          const step = key === " " || key === "f" ? pageLines(term) : key === "\r" || key === "\n" || key === "j" || key === "\x1b[B" ? 1 : 0;
          if (step === 0) continue;
          const to = Math.min(lines.length, shown + step);
          output.write(`\r${CSI}K${lines.slice(shown, to).map((l) => `${l}\n`).join("")}`);
          shown = to;
          if (shown >= lines.length) {
            input.off("data", onData);
            resolve();
            return;
          }
          more();
        }
      };
      input.on("data", onData);
    });
  } finally {
    output.write(`\r${CSI}K`);
    input.setRawMode?.(wasRaw ?? false);
    input.pause();
  }
}
