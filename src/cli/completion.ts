/**
 * `layerslayer completion bash|zsh|fish`: a completion script generated from the command tree
 * itself (every command's citty argument definitions), so it never drifts from the CLI.
 */
import { defineCommand, type ArgDef, type CommandDef } from "citty";
import { LayerslayerError } from "../errors.ts";
import { ALIASES, commands } from "./main.ts";
import { writeStdout } from "./stdout.ts";

export interface OptionSpec {
  long: string;
  short?: string;
  /** Takes a value (a string option); booleans do not. */
  value: boolean;
  description: string;
}

export interface CommandSpec {
  name: string;
  /** Other names of the command (completed after it, never listed among the commands). */
  aliases: string[];
  description: string;
  options: OptionSpec[];
  subcommands: CommandSpec[];
}

/** What an option's value completes to: a fixed list, files, or directories. */
const VALUE_COMPLETIONS: Record<string, string[] | "file" | "dir"> = {
  output: "file",
  authfile: "file",
  from: "file",
  type: ["f", "d", "l", "c", "b", "p"],
  platform: ["linux/amd64", "linux/arm64", "linux/arm/v7", "linux/386", "linux/ppc64le", "linux/s390x", "windows/amd64"],
};

const SHELLS = ["bash", "zsh", "fish"] as const;
type Shell = (typeof SHELLS)[number];

async function resolve<T>(v: T | (() => T | Promise<T>) | Promise<T> | undefined): Promise<T | undefined> {
  return typeof v === "function" ? await (v as () => T | Promise<T>)() : await v;
}

async function describe(name: string, cmd: CommandDef<any>): Promise<CommandSpec> {
  const meta = (await resolve(cmd.meta)) ?? {};
  const args = ((await resolve(cmd.args)) ?? {}) as Record<string, ArgDef>;
  const options: OptionSpec[] = [];
  for (const [long, def] of Object.entries(args)) {
    if (def.type === "positional") continue;
    const alias = [(def as { alias?: string | string[] }).alias ?? []].flat().find((a) => a.length === 1);
    options.push({ long, ...(alias ? { short: alias } : {}), value: def.type !== "boolean", description: oneLine(def.description ?? "") });
    if (def.type === "boolean" && (def as { negativeDescription?: string }).negativeDescription) {
      options.push({ long: `no-${long}`, value: false, description: oneLine((def as { negativeDescription?: string }).negativeDescription!) });
    }
  }
  const subs = ((await resolve(cmd.subCommands)) ?? {}) as Record<string, CommandDef<any> | (() => Promise<CommandDef<any>>)>;
  const subcommands: CommandSpec[] = [];
  for (const [sub, def] of Object.entries(subs)) subcommands.push(await describe(sub, (await resolve(def))!));
  const aliases = Object.keys(ALIASES).filter((a) => ALIASES[a] === name);
  return { name, aliases, description: oneLine(meta.description ?? ""), options, subcommands };
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, " ").trim();
}

/** Every command of the tool, described from its definitions (each command's module is loaded). */
export async function commandTree(): Promise<CommandSpec[]> {
  const out: CommandSpec[] = [];
  for (const [name, load] of Object.entries(commands)) out.push(await describe(name, await load()));
  out.push({ name: "help", aliases: [], description: "Show the usage of the tool or of one command", options: [], subcommands: [] });
  return out;
}

/** Single-quoted for sh, bash, zsh and fish alike. */
function q(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function valueWords(opt: OptionSpec, shell: Shell): string {
  const c = VALUE_COMPLETIONS[opt.long];
  if (Array.isArray(c)) return c.join(" ");
  if (shell === "zsh") return c === "file" ? "_files" : c === "dir" ? "_files -/" : "";
  return "";
}

function bash(tree: CommandSpec[]): string {
  const flags = (o: OptionSpec) => [`--${o.long}`, ...(o.short ? [`-${o.short}`] : [])];
  const cases = tree.map((c) => {
    const all = c.options.flatMap(flags).join(" ");
    const valued = c.options.filter((o) => o.value);
    const values = valued
      .map((o) => {
        const words = valueWords(o, "bash");
        const kind = VALUE_COMPLETIONS[o.long];
        const action = words
          ? `COMPREPLY=($(compgen -W ${q(words)} -- "$cur"))`
          : kind === "file"
            ? `COMPREPLY=($(compgen -f -- "$cur"))`
            : kind === "dir"
              ? `COMPREPLY=($(compgen -d -- "$cur"))`
              : "COMPREPLY=()";
        return `        ${flags(o).join("|")}) ${action}; return;;`;
      })
      .join("\n");
    const subs = c.subcommands.map((s) => s.name).join(" ");
    return [
      `    ${[c.name, ...c.aliases].join("|")})`,
      valued.length ? `      case "$prev" in\n${values}\n      esac` : "",
      subs ? `      if [[ $COMP_CWORD -eq 2 && $cur != -* ]]; then COMPREPLY=($(compgen -W ${q(subs)} -- "$cur")); return; fi` : "",
      `      COMPREPLY=($(compgen -W ${q(`${all} --help`)} -- "$cur"))`,
      c.name === "completion" ? `      [[ $cur == -* ]] || COMPREPLY=($(compgen -W ${q(SHELLS.join(" "))} -- "$cur"))` : "",
      c.name === "help" ? `      COMPREPLY=($(compgen -W ${q(tree.map((t) => t.name).join(" "))} -- "$cur"))` : "",
      "      ;;",
    ]
      .filter(Boolean)
      .join("\n");
  });
  return `# bash completion for layerslayer (generated by \`layerslayer completion bash\`)
_layerslayer() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}"
  if [[ $COMP_CWORD -eq 1 ]]; then
    COMPREPLY=($(compgen -W ${q(`${tree.map((c) => c.name).join(" ")} --help --version`)} -- "$cur"))
    return
  fi
  case "\${COMP_WORDS[1]}" in
${cases.join("\n")}
  esac
}
complete -o default -F _layerslayer layerslayer
`;
}

/** Escapes text for a zsh _arguments/_describe spec (inside single quotes). */
function z(s: string): string {
  return s
    .replace(/\\/g, "\\\\")
    .replace(/([[\]:])/g, "\\$1")
    .replace(/'/g, `'\\''`);
}

function zshArgs(c: CommandSpec): string {
  const specs = c.options.map((o) => {
    const desc = z(o.description);
    const value = o.value ? `:${z(o.long)}:${valueWords(o, "zsh") ? `(${valueWords(o, "zsh")})`.replace(/^\((_files.*)\)$/, "$1") : " "}` : "";
    if (o.short) return `'(-${o.short} --${o.long})'{-${o.short},--${o.long}}'[${desc}]${value}'`;
    return `'--${o.long}[${desc}]${value}'`;
  });
  specs.push("'(- *)--help[Show usage]'");
  if (c.subcommands.length) specs.push(`'1:subcommand:(${c.subcommands.map((s) => s.name).join(" ")})'`);
  else if (c.name === "completion") specs.push(`'1:shell:(${SHELLS.join(" ")})'`);
  else specs.push("'*:argument: '");
  return specs.join(" \\\n        ");
}

function zsh(tree: CommandSpec[]): string {
  const described = tree.map((c) => `    '${z(c.name)}:${z(c.description)}'`).join("\n");
  const cases = tree.map((c) => `    ${[c.name, ...c.aliases].join("|")})\n      _arguments -s \\\n        ${zshArgs(c)}\n      ;;`).join("\n");
  return `#compdef layerslayer
# zsh completion for layerslayer (generated by \`layerslayer completion zsh\`)
_layerslayer() {
  local -a commands
  commands=(
${described}
  )
  if (( CURRENT == 2 )); then
    _describe -t commands 'layerslayer command' commands
    return
  fi
  local cmd=$words[2]
  shift words
  (( CURRENT-- ))
  case $cmd in
${cases}
  esac
}
if [[ $funcstack[1] == _layerslayer ]]; then
  _layerslayer "$@"
else
  compdef _layerslayer layerslayer
fi
`;
}

function fish(tree: CommandSpec[]): string {
  const lines = ["# fish completion for layerslayer (generated by `layerslayer completion fish`)", "complete -c layerslayer -f"];
  const names = tree.flatMap((c) => [c.name, ...c.aliases]).join(" ");
  for (const c of tree) lines.push(`complete -c layerslayer -n ${q(`not __fish_seen_subcommand_from ${names}`)} -a ${q(c.name)} -d ${q(c.description)}`);
  for (const c of tree) {
    const when = q(`__fish_seen_subcommand_from ${[c.name, ...c.aliases].join(" ")}`);
    for (const o of c.options) {
      const words = valueWords(o, "fish");
      const kind = VALUE_COMPLETIONS[o.long];
      const value = o.value ? (words ? ` -x -a ${q(words)}` : kind === "file" || kind === "dir" ? " -r -F" : " -x") : "";
      lines.push(`complete -c layerslayer -n ${when}${o.short ? ` -s ${o.short}` : ""} -l ${o.long}${value} -d ${q(o.description)}`);
    }
    for (const s of c.subcommands) lines.push(`complete -c layerslayer -n ${when} -a ${q(s.name)} -d ${q(s.description)}`);
    if (c.name === "completion") lines.push(`complete -c layerslayer -n ${when} -a ${q(SHELLS.join(" "))}`);
    if (c.name === "help") lines.push(`complete -c layerslayer -n ${when} -a ${q(tree.map((t) => t.name).join(" "))}`);
  }
  return `${lines.join("\n")}\n`;
}

/** The completion script for a shell. */
export async function completionScript(shell: string): Promise<string> {
  if (!(SHELLS as readonly string[]).includes(shell)) throw new LayerslayerError("USAGE", `completion: expected one of ${SHELLS.join(", ")}, got "${shell}"`);
  const tree = await commandTree();
  return shell === "bash" ? bash(tree) : shell === "zsh" ? zsh(tree) : fish(tree);
}

export default defineCommand({
  meta: { name: "completion", description: "Print a shell completion script (bash, zsh or fish) for the whole command tree" },
  args: {
    shell: { type: "positional", required: true, description: "bash, zsh or fish" },
  },
  async run({ args }) {
    writeStdout(await completionScript(String(args.shell)));
  },
});
