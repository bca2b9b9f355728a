/**
 * Prompts on a terminal: a choice from a list, yes/no, and a line of text. While a prompt is
 * active it is redrawn in place (cursor moved up over its own lines, which are cut to the
 * terminal's width so none wraps); once answered, it is replaced by one line, "✔ question answer",
 * so no stale prompt lines stay on the screen.
 *
 * consola's prompts are not used here: under Bun their hidden readline echoes into the terminal
 * (Bun's tty.WriteStream ignores an overridden _write), which leaves a copy of each question behind
 * (tried again with consola 3.4.2 and Bun 1.4.5: docs/logging.md).
 */
import { escapeName } from "../names.ts";

/** Ctrl-C or Escape at a prompt. */
export class PromptCancelled extends Error {}

export interface Terminal {
  input: NodeJS.ReadStream;
  output: NodeJS.WriteStream;
}

const CSI = "\x1b[";
const KEYS = {
  up: ["\x1b[A", "\x1bOA", "k"],
  down: ["\x1b[B", "\x1bOB", "j"],
  left: ["\x1b[D", "\x1bOD", "h"],
  right: ["\x1b[C", "\x1bOC", "l"],
  enter: ["\r", "\n"],
  cancel: ["\x03", "\x1b"],
} as const;

function is(key: string, name: keyof typeof KEYS): boolean {
  return (KEYS[name] as readonly string[]).includes(key);
}

/**
 * One prompt's life on the terminal: frames drawn in place, then one summary line. Lines are
 * rewritten one by one (erase-line, never erase-to-end-of-screen: tmux, for one, moves what an
 * erase from the top of the screen removes into its scrollback, where old frames would pile up).
 */
class Frame {
  private lines = 0;
  constructor(private readonly term: Terminal) {}

  private fit(line: string): string {
    const width = Math.max(20, (this.term.output.columns ?? 80) - 1);
    return line.length > width ? `${line.slice(0, width - 1)}…` : line;
  }

  /** Back to the first line of the frame on the screen. */
  private home(): string {
    return `\r${this.lines > 1 ? `${CSI}${this.lines - 1}A` : ""}`;
  }

  /** The new frame over the old one, leftover lines blanked; the cursor ends after the last line of `lines`. */
  draw(lines: string[]): void {
    const fitted = lines.map((l) => this.fit(l));
    const rows = Math.max(fitted.length, this.lines);
    let out = this.home();
    for (let i = 0; i < rows; i++) out += `${CSI}2K${fitted[i] ?? ""}${i < rows - 1 ? "\r\n" : ""}`;
    const extra = rows - fitted.length;
    if (extra > 0) out += `${CSI}${extra}A\r${fitted.at(-1)?.length ? `${CSI}${fitted.at(-1)!.length}C` : ""}`;
    this.term.output.write(out);
    this.lines = fitted.length;
  }

  /** The summary in place of the frame, and the cursor on the line below it. */
  finish(summary: string): void {
    const rows = Math.max(1, this.lines);
    let out = `${this.home()}${CSI}2K${this.fit(summary)}\r\n`;
    for (let i = 1; i < rows; i++) out += `${CSI}2K\r\n`;
    if (rows > 1) out += `${CSI}${rows - 1}A`;
    this.term.output.write(out);
    this.lines = 0;
  }
}

/**
 * Reads keys in raw mode until `onKey` returns a value; restores the terminal whatever happens.
 * `draw` shows the prompt once raw mode is on: a key typed in cooked mode would be echoed and
 * move the cursor under the prompt, which could then not be redrawn in place. Several keys in
 * one read (typed fast, or pasted) are handled one by one.
 */
export async function readKeys<T>(term: Terminal, draw: () => void, onKey: (key: string) => T | undefined): Promise<T> {
  const { input } = term;
  const wasRaw = input.isRaw;
  input.setRawMode?.(true);
  input.resume();
  draw();
  try {
    return await new Promise<T>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        for (const key of splitKeys(chunk.toString("utf8"))) {
          try {
            const v = onKey(key);
            if (v !== undefined) {
              input.off("data", onData);
              resolve(v);
              return;
            }
          } catch (e) {
            input.off("data", onData);
            reject(e);
            return;
          }
        }
      };
      input.on("data", onData);
    });
  } finally {
    input.setRawMode?.(wasRaw ?? false);
    input.pause();
  }
}

/** Splits a read into keys: escape sequences ("\x1b[A") stay whole, other characters one by one. */
export function splitKeys(s: string): string[] {
  const keys: string[] = [];
  for (let i = 0; i < s.length;) {
    const m = /^\x1b(?:\[[0-9;]*[A-Za-z~]|O[A-Za-z])/.exec(s.slice(i));
    const len = m ? m[0].length : 1;
    keys.push(s.slice(i, i + len));
    i += len;
  }
  return keys;
}

export interface Choice {
  label: string;
  value: string;
}

/** A choice from a list: arrows (or j/k) move, Enter picks; the list scrolls when it is long. */
export async function select(term: Terminal, message: string, options: Choice[], initial: string): Promise<string> {
  if (options.length === 0) throw new Error("select needs at least one option");
  const frame = new Frame(term);
  let cursor = Math.max(
    0,
    options.findIndex((o) => o.value === initial),
  );
  const visible = Math.min(options.length, Math.max(3, (term.output.rows ?? 24) - 3));
  const render = () => {
    const top = Math.min(Math.max(0, cursor - Math.floor(visible / 2)), options.length - visible);
    const rows = options.slice(top, top + visible).map((o, i) => `${top + i === cursor ? "❯" : " "} ${escapeName(o.label)}`);
    frame.draw([`? ${escapeName(message)} (↑/↓, Enter)`, ...rows]);
  };
  const chosen = await readKeys(term, render, (key) => {
    if (is(key, "cancel")) throw new PromptCancelled();
    if (is(key, "enter")) return options[cursor]!;
    if (is(key, "up") || is(key, "left")) cursor = (cursor + options.length - 1) % options.length;
    else if (is(key, "down") || is(key, "right")) cursor = (cursor + 1) % options.length;
    else return undefined;
    render();
    return undefined;
  });
  frame.finish(`✔ ${escapeName(message)} ${escapeName(chosen.label)}`);
  return chosen.value;
}

/** Yes or no: y/n answer at once; arrows toggle, Enter takes the one shown (No at first). */
export async function confirm(term: Terminal, message: string, initial = false): Promise<boolean> {
  const frame = new Frame(term);
  let value = initial;
  const render = () => frame.draw([`? ${escapeName(message)} ${value ? "❯ Yes / No" : "Yes / ❯ No"}  (y/n)`]);
  const answer = await readKeys(term, render, (key) => {
    if (is(key, "cancel")) throw new PromptCancelled();
    if (key === "y" || key === "Y") return true;
    if (key === "n" || key === "N") return false;
    if (is(key, "enter")) return value;
    if (is(key, "left") || is(key, "right") || is(key, "up") || is(key, "down") || key === "\t") {
      value = !value;
      render();
    }
    return undefined;
  });
  frame.finish(`✔ ${escapeName(message)} ${answer ? "Yes" : "No"}`);
  return answer;
}

/** A line of text in cooked mode (the terminal's own line editing); empty means `initial`. */
export async function text(term: Terminal, message: string, initial: string): Promise<string> {
  const { createInterface } = await import("node:readline/promises");
  const rl = createInterface({ input: term.input, output: term.output });
  const controller = new AbortController();
  rl.on("SIGINT", () => controller.abort());
  try {
    const answer = await rl.question(`? ${escapeName(message)} (${escapeName(initial)}) `, { signal: controller.signal });
    return answer.trim() === "" ? initial : answer;
  } catch {
    throw new PromptCancelled();
  } finally {
    rl.close();
  }
}
