/**
 * The one logging layer of the CLI: every error, warning, notice and verbose line on stderr goes
 * through `log`, backed by consola (its levels, its dispatch to a reporter) with our own reporter:
 *
 *   error    layerslayer: MESSAGE              always, -q too
 *   warn     layerslayer: warning: MESSAGE     hidden by -q
 *   info     MESSAGE                           notices and summaries, hidden by -q
 *   debug    · MESSAGE                         --verbose only (the HTTP log)
 *   detail   MESSAGE                           --verbose only (an error's detail and causes)
 *   always   MESSAGE                           shown whatever the level (a summary that reports failures)
 *
 * Every line is passed through `printable` (no control character from a server reaches the
 * terminal). On a terminal the labels are coloured unless NO_COLOR is set or TERM is dumb; off a
 * terminal the reporter is plain text. consola is loaded by `startLog`, which main.ts awaits when a
 * command starts (or an error is reported): `--help` and `--version` never load it. A line logged
 * before that (a unit test calling a command's helpers) is written by the same reporter directly.
 */
import type { ConsolaInstance, LogObject } from "consola/core";
import { printable } from "../errors.ts";

type Kind = "error" | "warn" | "info" | "debug" | "detail" | "always";

/** consola's numeric levels for our kinds (0 error … 4 debug); "always" is logged at -1 so no level hides it. */
const LEVELS: Record<Kind, number> = { always: -1, error: 0, warn: 1, info: 3, debug: 4, detail: 4 };

export interface LogLevelOptions {
  quiet?: boolean;
  verbose?: boolean;
}

/** The consola level for -q / --verbose: errors only, everything, or up to notices. */
export function levelFor(opts: LogLevelOptions): number {
  return opts.verbose ? LEVELS.debug : opts.quiet ? LEVELS.error : LEVELS.info;
}

/** Colours on stderr: a terminal, NO_COLOR unset (any value disables them, as no-color.org says), TERM not dumb. */
export function colourOnStderr(env: Record<string, string | undefined> = process.env, isTTY = !!process.stderr.isTTY): boolean {
  return isTTY && env.NO_COLOR === undefined && env.TERM !== "dumb";
}

const paint = (open: number, close: number) => (t: string) => `\x1b[${open}m${t}\x1b[${close}m`;
const LABEL: Partial<Record<Kind, (t: string) => string>> = { error: paint(31, 39), warn: paint(33, 39), debug: paint(2, 22) };

/** One stderr line for a message of a kind (the reporter's whole format). */
export function formatLine(kind: Kind, message: string, colour: boolean): string {
  const text = printable(message);
  const label = kind === "error" ? "layerslayer:" : kind === "warn" ? "layerslayer: warning:" : kind === "debug" ? "·" : "";
  if (!label) return `${text}\n`;
  return `${colour ? LABEL[kind]!(label) : label} ${text}\n`;
}

let instance: ConsolaInstance | undefined;
/** The level asked for before consola was loaded (or while it is). */
let level = LEVELS.info;

/** Where lines go instead of stderr while a full-screen program owns the terminal (see `divertLog`). */
let diverted: ((kind: Kind, line: string) => void) | undefined;

function write(kind: Kind, message: string): void {
  if (diverted) return diverted(kind, printable(message));
  process.stderr.write(formatLine(kind, message, colourOnStderr()));
}

/**
 * While `to` is set, every line that passes the level goes to it (made printable) instead of
 * stderr: `browse` shows them on its screen rather than letting them scribble over it.
 */
export function divertLog(to: ((kind: Kind, line: string) => void) | undefined): void {
  diverted = to;
}

/** Loads consola and routes `log` through it (once; later calls only return). */
export async function startLog(): Promise<void> {
  if (instance) return;
  const { createConsola, LogTypes } = await import("consola/core");
  const reporter = { log: (o: LogObject) => write(o.type as Kind, o.args.map(String).join(" ")) };
  instance ??= createConsola({
    level,
    // Our kinds beside consola's own; no throttling (it would hold back and merge repeated lines).
    types: { ...LogTypes, detail: { level: LEVELS.detail }, always: { level: LEVELS.always } } as typeof LogTypes,
    reporters: [reporter],
    throttle: 0,
  });
}

/** Sets the level from -q / --verbose (before or after consola is loaded). */
export function setLogLevel(opts: LogLevelOptions): void {
  level = levelFor(opts);
  if (instance) instance.level = level;
}

function emit(kind: Kind, message: string): void {
  if (instance) {
    (instance as unknown as Record<Kind, (m: string) => void>)[kind](message);
    return;
  }
  if (LEVELS[kind] <= level) write(kind, message);
}

/** The logging calls of the CLI (see the table above). */
export const log = {
  error: (message: string) => emit("error", message),
  warn: (message: string) => emit("warn", message),
  info: (message: string) => emit("info", message),
  debug: (message: string) => emit("debug", message),
  detail: (message: string) => emit("detail", message),
  always: (message: string) => emit("always", message),
};
