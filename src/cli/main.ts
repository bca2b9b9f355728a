#!/usr/bin/env bun
import type { ArgDef, ArgsDef, CommandDef } from "citty";
import { causeChain, EXIT_CODES, LayerslayerError, printable } from "../errors.ts";
import { version } from "../version.ts";
import type { ToolUsage } from "./usage.ts";

type Loader = () => Promise<CommandDef<any>>;

/** Sub-commands, each loaded only when it runs. */
export const commands: Record<string, Loader> = {
  inspect: () => import("./inspect.ts").then((m) => m.default),
  history: () => import("./history.ts").then((m) => m.default),
  manifest: () => import("./manifest.ts").then((m) => m.default),
  config: () => import("./config.ts").then((m) => m.default),
  platforms: () => import("./platforms.ts").then((m) => m.default),
  tags: () => import("./tags.ts").then((m) => m.default),
  catalog: () => import("./catalog.ts").then((m) => m.default),
  peek: () => import("./peek.ts").then((m) => m.default),
  ls: () => import("./ls.ts").then((m) => m.default),
  find: () => import("./find.ts").then((m) => m.default),
  cat: () => import("./cat.ts").then((m) => m.default),
  carve: () => import("./cat.ts").then((m) => m.default),
  save: () => import("./save.ts").then((m) => m.default),
  interactive: () => import("./interactive.ts").then((m) => m.default),
  cache: () => import("./cache.ts").then((m) => m.default),
  scan: () => import("./scan.ts").then((m) => m.default),
  search: () => import("./search.ts").then((m) => m.default),
  discover: () => import("./discover.ts").then((m) => m.default),
  repos: () => import("./repos.ts").then((m) => m.default),
  login: () => import("./login.ts").then((m) => m.default),
  logout: () => import("./logout.ts").then((m) => m.default),
  completion: () => import("./completion.ts").then((m) => m.default),
  diff: () => import("./diff.ts").then((m) => m.default),
  efficiency: () => import("./efficiency.ts").then((m) => m.default),
  packages: () => import("./packages.ts").then((m) => m.default),
  export: () => import("./export.ts").then((m) => m.default),
  serve: () => import("./serve.ts").then((m) => m.default),
};

const EXIT_HELP = `Exit codes: 0 ok, 1 internal error, ${Object.entries(EXIT_CODES)
  .map(([k, v]) => `${v} ${k.toLowerCase().replace("_", " ")}`)
  .join(", ")}`;

/**
 * Each command's description, for the tool's own usage: `--help` then loads no command module (a
 * quarter of the start-up time and memory). test/cli/help.test.ts checks every line against the
 * command's own `meta.description`.
 */
export const SUMMARIES: Record<string, string> = {
  inspect: "Show an image's digest, platform, config and layers with the build step of each",
  history: "List the build steps of an image and the layer each one produced",
  manifest: "Print the resolved image manifest byte for byte (--index: the index itself)",
  config: "Print the image config blob byte for byte",
  platforms: "List the platforms a multi-platform image offers",
  tags: "List the tags of a repository",
  catalog: "List every repository of a registry (and with --tags, every tag)",
  peek: "List the files in an image's layers, downloading only a budget of compressed bytes",
  ls: "List a directory of the image's merged filesystem (whiteouts applied)",
  find: "Find paths in every layer: where each was added, modified, deleted or hidden",
  cat: "Print one file of the image (alias carve): stops downloading the moment the file is complete",
  carve: "Print one file of the image (alias carve): stops downloading the moment the file is complete",
  save: "Download layer blobs, verified against their digests, resuming partial downloads",
  interactive: "Guided session on a terminal: pick a platform and layers, peek them, save the ones you want",
  cache: "Show, clear or warm the local cache of layer listings, checkpoints, manifests and configs",
  scan: "Record many images (config, history, the listing of every layer) in the database for `search`",
  search: "Search every image recorded by `scan` for paths containing PATTERN",
  discover: "Search Docker Hub (or a registry that offers search) for repositories matching TERM",
  repos: "List every repository of a Docker Hub user or organisation, with pulls, stars and last update",
  login: "Check a login against a registry, then save it where docker and podman read it",
  logout: "Remove the saved login for a registry",
  completion: "Print a shell completion script (bash, zsh or fish) for the whole command tree",
  diff: "Compare two images (or two layers) without pulling them: paths added, removed and changed, config and history; exit 1 when they differ",
  efficiency: "Score an image's wasted space as dive does (files replaced or deleted by later layers); --ci fails on dive's rules",
  packages: "List the installed packages (dpkg, apk, rpm) from the image's own databases, with the layer that installed each",
  export: "Write the image's merged filesystem (whiteouts applied) as one tar, as crane export does; every layer read is verified",
  serve: "Serve the JSON API (/v1, /openapi.json) over HTTP: loopback by default, a bearer token and a registry allow-list to go further",
};

/** The tool as its usage shows it: its commands by name and description, none of them loaded. */
export const TOOL: ToolUsage = {
  name: "layerslayer",
  version,
  description: `Look inside container images in a remote registry without pulling them.\n\n${EXIT_HELP}\n\n\`layerslayer help COMMAND\` (or COMMAND --help) shows a command's options, defaults and examples.`,
  commands: SUMMARIES,
};

/** The tool as citty sees it: the parent of every command's usage. */
export const main: CommandDef<any> = {
  meta: { name: TOOL.name, version, description: TOOL.description },
  subCommands: Object.fromEntries(Object.entries(SUMMARIES).map(([name, description]) => [name, { meta: { name, description } }])),
};

/**
 * Rejects options the command does not define, naming the first one, and returns the arguments
 * with "--opt -1" joined into "--opt=-1" so a negative value is not read as a flag.
 */
export async function checkFlags(cmd: CommandDef<any>, rawArgs: string[]): Promise<string[]> {
  const def = (typeof cmd.args === "function" ? await cmd.args() : await cmd.args) as ArgsDef | undefined;
  const known = new Map<string, ArgDef["type"]>([["help", "boolean"], ["h", "boolean"]]);
  const canonical = new Map<string, string>();
  for (const [name, d] of Object.entries(def ?? {})) {
    known.set(name, d.type);
    canonical.set(name, name);
    if (d.type === "boolean") known.set(`no-${name}`, "boolean");
    for (const a of [(d as { alias?: string | string[] }).alias ?? []].flat()) {
      known.set(a, d.type);
      canonical.set(a, name);
    }
  }
  const out: string[] = [];
  for (let i = 0; i < rawArgs.length; i++) {
    const arg = rawArgs[i]!;
    out.push(arg);
    if (arg === "--") {
      out.push(...rawArgs.slice(i + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-" || /^-\d/.test(arg)) continue;
    const long = arg.startsWith("--");
    const name = arg.replace(/^--?/, "").split("=")[0]!;
    for (const n of long ? [name] : name.split("")) {
      if (!known.has(n)) throw new LayerslayerError("USAGE", `unknown option ${long ? "--" : "-"}${n}; see --help`);
    }
    const last = long ? name : name.slice(-1);
    const value = rawArgs[i + 1];
    if (!arg.includes("=") && known.get(last) === "string" && value !== undefined && /^-\d/.test(value)) {
      out[out.length - 1] = `--${canonical.get(last) ?? last}=${value}`;
      i++;
    }
  }
  return out;
}

async function showUsage(cmd: CommandDef<any>, parent?: CommandDef<any>, name?: string): Promise<void> {
  const help = await import("./help.ts");
  await help.showUsage(cmd, parent, name);
}

/** The tool's own usage, rendered without citty (usage.ts). */
async function showToolUsage(): Promise<void> {
  const usage = await import("./usage.ts");
  await usage.writeUsage(usage.toolUsageText(TOOL));
}

/** `help [COMMAND]`: the usage of the tool, or of one command (as COMMAND --help prints it). */
async function help(name: string | undefined): Promise<number> {
  if (!name) {
    await showToolUsage();
    return 0;
  }
  const loader = commands[name];
  if (!loader) throw new LayerslayerError("USAGE", `help: unknown command "${name}"; commands: ${Object.keys(commands).join(", ")}`);
  await showUsage(await loader(), main, name);
  return 0;
}

export async function run(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h") {
    await showToolUsage();
    return name ? 0 : EXIT_CODES.USAGE;
  }
  if (name === "--version" || name === "-v") {
    await Bun.write(Bun.stdout, `${version}\n`);
    return 0;
  }
  if (name === "help") return await help(rest.find((a) => !a.startsWith("-")));
  let loader = commands[name];
  let cmdArgs = rest;
  if (!loader && !name.startsWith("-") && process.stdin.isTTY && process.stdout.isTTY) {
    // `layerslayer IMAGE` on a terminal: the guided session.
    loader = commands.interactive!;
    cmdArgs = argv;
  }
  if (!loader) {
    const hint = /[/:.]/.test(name) ? `; to explore an image on a terminal: layerslayer interactive ${name}` : "";
    throw new LayerslayerError("USAGE", `unknown command "${name}"; commands: ${Object.keys(commands).join(", ")}${hint}`);
  }
  // Touching process.stdout sets up Node's stream machinery (~8 MiB, tens of ms): only a command
  // needs it; usage and version go out through Bun.write.
  process.stdout.on("error", (e: { code?: string }) => {
    if (e.code === "EPIPE") process.exit(0);
  });
  const cmd = await loader();
  if (cmdArgs.includes("--help") || cmdArgs.includes("-h")) {
    await showUsage(cmd, main, name);
    return 0;
  }
  const args = await checkFlags(cmd, cmdArgs);
  const { runCommand } = await import("citty");
  await runCommand(cmd, { rawArgs: args });
  // A command that finished its output but met a failure on the way sets process.exitCode.
  return Number(process.exitCode ?? 0);
}

function report(e: unknown, verbose: boolean): number {
  if (e instanceof LayerslayerError) {
    process.stderr.write(`layerslayer: ${printable(e.message)}\n`);
    if (verbose && e.detail) process.stderr.write(`${printable(e.detail)}\n`);
    // The cause chain, one line each: what the runtime said, never a stack.
    if (verbose) for (const line of causeChain(e)) process.stderr.write(`  cause: ${line}\n`);
    return e.exitCode;
  }
  const err = e as { name?: string; code?: string; message?: string; stack?: string };
  // citty's own usage errors (missing positional, unknown command).
  if (err?.name === "CLIError" || err?.code?.startsWith?.("E_")) {
    // citty ends some messages with a full stop ("No command specified."): ours follows without one.
    const said = (err.message ?? "").replace(/\x1b\[[0-9;]*m/g, "").replace(/\.$/, "");
    process.stderr.write(`layerslayer: ${printable(said)}; see --help\n`);
    return EXIT_CODES.USAGE;
  }
  if (err?.code === "EPIPE") return 0;
  process.stderr.write(`layerslayer: internal error: ${printable(err?.message ?? String(e))}\n`);
  if (verbose && err?.stack) process.stderr.write(`${err.stack}\n`);
  return 1;
}

if (import.meta.main) {
  const argv = process.argv.slice(2);
  const verbose = argv.includes("--verbose");
  let code: number;
  try {
    code = await run(argv);
  } catch (e) {
    code = report(e, verbose);
  }
  process.exitCode = code;
}
