/**
 * The command line checked against a command's own argument definitions before citty parses it:
 * an option the command does not define, a positional argument too many, or a sub-command that
 * does not exist is a usage error (exit 2), with "did you mean …" when a name is close to one that
 * exists. citty alone would take the first file of `cat IMAGE A B` and silently drop B.
 *
 * A positional whose valueHint ends in "..." takes every remaining word (scan's references).
 */
import type { ArgDef, ArgsDef, CommandDef } from "citty";
import { LayerslayerError } from "../errors.ts";
import { escapeName } from "../names.ts";

type Resolvable<T> = T | Promise<T> | (() => T | Promise<T>);

async function resolve<T>(v: Resolvable<T> | undefined): Promise<T | undefined> {
  return typeof v === "function" ? await (v as () => T | Promise<T>)() : await v;
}

/** Levenshtein distance with adjacent transpositions counted as one edit (optimal string alignment). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The candidate closest to `word` when it is close enough to be a typo (at most 2 edits, 1 for
 * words of up to 4 characters), else undefined. A candidate that starts with the word also counts.
 */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  const limit = word.length <= 4 ? 1 : 2;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const dist = c.startsWith(word) && word.length >= 3 ? 1 : editDistance(word, c);
    if (dist < bestDistance) [best, bestDistance] = [c, dist];
  }
  return bestDistance <= limit ? best : undefined;
}

/** " (did you mean X?)" or "" when nothing is close. */
export function suggestion(word: string, candidates: Iterable<string>, prefix = ""): string {
  const near = closest(word, candidates);
  return near === undefined ? "" : ` (did you mean ${prefix}${near}?)`;
}

interface Scope {
  /** Option name or alias → its type. */
  known: Map<string, ArgDef["type"]>;
  /** Option name or alias → the option's own name. */
  canonical: Map<string, string>;
  positionals: { name: string; variadic: boolean }[];
}

function scopeOf(def: ArgsDef | undefined, into?: Scope): Scope {
  const s: Scope = into ?? {
    known: new Map([
      ["help", "boolean"],
      ["h", "boolean"],
    ]),
    canonical: new Map(),
    positionals: [],
  };
  if (into) s.positionals = [];
  for (const [name, d] of Object.entries(def ?? {})) {
    if (d.type === "positional") {
      s.positionals.push({ name, variadic: !!d.valueHint?.endsWith("...") });
      continue;
    }
    s.known.set(name, d.type);
    s.canonical.set(name, name);
    if (d.type === "boolean") s.known.set(`no-${name}`, "boolean");
    for (const a of [(d as { alias?: string | string[] }).alias ?? []].flat()) {
      s.known.set(a, d.type);
      s.canonical.set(a, name);
    }
  }
  return s;
}

/** The option names a mistyped one is compared with (long names only for a long option). */
function optionNames(s: Scope, long: boolean): string[] {
  return [...s.known.keys()].filter((n) => (long ? n.length > 1 : n.length === 1));
}

/**
 * Rejects what the command does not define (options, positional arguments, sub-commands), naming
 * the first, and returns the arguments with "--opt -1" joined into "--opt=-1" so a negative value
 * is not read as a flag. `name` is the command as the user typed it, for the messages.
 */
export async function checkArgs(cmd: CommandDef<any>, rawArgs: string[], name = ""): Promise<string[]> {
  let scope = scopeOf(await resolve(cmd.args as Resolvable<ArgsDef>));
  let subs = await resolve(cmd.subCommands);
  let label = name;
  let positionals = 0;
  const out: string[] = [];
  const positional = async (word: string): Promise<void> => {
    if (subs) {
      const sub = subs[word];
      if (!sub)
        throw new LayerslayerError(
          "USAGE",
          `unknown command "${`${label} ${escapeName(word)}`.trim()}"${suggestion(word, Object.keys(subs))}; commands: ${Object.keys(subs).join(", ")}`,
        );
      const subCmd = (await resolve(sub))!;
      // The sub-command takes its own options and the parent's (given before or after its name).
      scope = scopeOf(await resolve(subCmd.args as Resolvable<ArgsDef>), scope);
      subs = await resolve(subCmd.subCommands);
      label = `${label} ${word}`.trim();
      return;
    }
    const slot = scope.positionals[Math.min(positionals, scope.positionals.length - 1)];
    if (positionals >= scope.positionals.length && !slot?.variadic) {
      const takes = scope.positionals.map((p) => p.name.toUpperCase()).join(" ");
      throw new LayerslayerError(
        "USAGE",
        `${label ? `${label}: ` : ""}unexpected argument "${escapeName(word)}" (${takes ? `it takes ${takes}` : "it takes no arguments"}); see --help`,
      );
    }
    positionals++;
  };
  for (let i = 0; i < rawArgs.length; i++) {
    const arg = rawArgs[i]!;
    out.push(arg);
    if (arg === "--") {
      for (const rest of rawArgs.slice(i + 1)) await positional(rest);
      out.push(...rawArgs.slice(i + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-" || /^-\d/.test(arg)) {
      await positional(arg);
      continue;
    }
    const long = arg.startsWith("--");
    const flag = arg.replace(/^--?/, "").split("=")[0]!;
    for (const n of long ? [flag] : flag.split("")) {
      if (!scope.known.has(n)) {
        const dash = long ? "--" : "-";
        throw new LayerslayerError("USAGE", `unknown option ${dash}${escapeName(n)}${suggestion(n, optionNames(scope, long), dash)}; see --help`);
      }
    }
    const last = long ? flag : flag.slice(-1);
    if (arg.includes("=") || scope.known.get(last) !== "string") continue;
    const value = rawArgs[i + 1];
    // The next word is the value, unless it is an option itself (citty then sees a missing value).
    if (value === undefined || (value.startsWith("-") && value !== "-" && !/^-\d/.test(value))) continue;
    i++;
    // "--opt -1": one word, so citty does not read -1 as a flag.
    if (/^-\d/.test(value)) out[out.length - 1] = `--${scope.canonical.get(last) ?? last}=${value}`;
    else out.push(value);
  }
  return out;
}
