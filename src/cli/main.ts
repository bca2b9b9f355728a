#!/usr/bin/env bun
import type { CommandDef } from "citty";
import { causeChain, EXIT_CODES, LayerslayerError } from "../errors.ts";
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
  save: () => import("./save.ts").then((m) => m.default),
  interactive: () => import("./interactive.ts").then((m) => m.default),
  browse: () => import("./browse.ts").then((m) => m.default),
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

/** Other names of a command (listed once, under the command's own name). */
export const ALIASES: Record<string, string> = { carve: "cat" };

/** The loader of a command by its name or alias. */
export function commandNamed(name: string): Loader | undefined {
  return Object.hasOwn(commands, name) ? commands[name] : Object.hasOwn(ALIASES, name) ? commands[ALIASES[name]!] : undefined;
}

/** " (did you mean peek?)" for a mistyped command (args.ts loaded only then). */
async function commandHint(name: string): Promise<string> {
  const { suggestion } = await import("./args.ts");
  return suggestion(name, [...Object.keys(commands), ...Object.keys(ALIASES), "help"]);
}

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
  save: "Download layer blobs, verified against their digests, resuming partial downloads",
  interactive: "Guided session on a terminal: pick a platform and layers, peek them, save the ones you want",
  browse: "Browse images full screen without pulling them: a registry's repositories or a Docker Hub search, tags, platforms, then layers, files, diffs",
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

async function showUsage(cmd: CommandDef<any>, parent?: CommandDef<any>, name?: string): Promise<void> {
  const help = await import("./help.ts");
  await help.showUsage(cmd, parent, name);
}

/** The tool's own usage, rendered without citty (usage.ts); on stderr when it answers a bad call. */
async function showToolUsage(to: "stdout" | "stderr" = "stdout"): Promise<void> {
  const usage = await import("./usage.ts");
  await usage.writeUsage(usage.toolUsageText(TOOL), to);
}

/** `help [COMMAND]`: the usage of the tool, or of one command (as COMMAND --help prints it). */
async function help(name: string | undefined): Promise<number> {
  if (!name) {
    await showToolUsage();
    return 0;
  }
  const loader = commandNamed(name);
  if (!loader) throw new LayerslayerError("USAGE", `help: unknown command "${name}"${await commandHint(name)}; commands: ${Object.keys(commands).join(", ")}`);
  await showUsage(await loader(), main, name);
  return 0;
}

export async function run(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h") {
    // A bare `layerslayer` is a bad call: its usage goes to stderr, and the exit code says so.
    await showToolUsage(name ? "stdout" : "stderr");
    return name ? 0 : EXIT_CODES.USAGE;
  }
  if (name === "--version" || name === "-v") {
    await Bun.write(Bun.stdout, `${version}\n`);
    return 0;
  }
  if (name === "help") {
    const names = rest.filter((a) => !a.startsWith("-"));
    if (names.length > 1) throw new LayerslayerError("USAGE", `help: unexpected argument "${names[1]}" (it takes COMMAND); see --help`);
    return await help(names[0]);
  }
  let loader = commandNamed(name);
  let cmdArgs = rest;
  if (!loader && !name.startsWith("-") && process.stdin.isTTY && process.stdout.isTTY) {
    // `layerslayer IMAGE` (or REGISTRY) on a terminal: the full-screen browser (`interactive` stays a command).
    loader = commands.browse!;
    cmdArgs = argv;
  }
  if (!loader) {
    const hint = /[/:.]/.test(name) ? `; to explore an image on a terminal: layerslayer interactive ${name}` : await commandHint(name);
    throw new LayerslayerError("USAGE", `unknown command "${name}"${hint}; commands: ${Object.keys(commands).join(", ")}`);
  }
  // Commands write through stdout.ts (Bun's file sink, which also ends the process quietly on
  // EPIPE): touching process.stdout would set up Node's stream machinery (~7 MiB, 10-20 ms).
  const cmd = await loader();
  if (cmdArgs.includes("--help") || cmdArgs.includes("-h")) {
    await showUsage(cmd, main, name);
    return 0;
  }
  const { checkArgs } = await import("./args.ts");
  const args = await checkArgs(cmd, cmdArgs, name);
  // The logging layer (consola) loads as the command starts, at the level -q / --verbose ask for.
  const { setLogLevel, startLog } = await import("./log.ts");
  setLogLevel(levelFlags(args));
  await startLog();
  const [{ runCommand }, signals] = await Promise.all([import("citty"), import("./signals.ts")]);
  let failure: { error: unknown } | undefined;
  try {
    await runCommand(cmd, { rawArgs: args });
  } catch (error) {
    failure = { error };
  }
  // Ctrl-C, kill or a closed terminal aborted the command's reads: one line, exit 128 + N (a
  // command that said what it left behind, as save does, has ended without an error).
  const stopped = signals.stoppedBy();
  signals.endCommandRun();
  if (stopped) {
    if (failure) (await import("./log.ts")).log.error("interrupted");
    return signals.SIGNAL_EXIT_CODE[stopped];
  }
  if (failure) throw failure.error;
  // A command that finished its output but met a failure on the way sets process.exitCode.
  return Number(process.exitCode ?? 0);
}

/** -q / --quiet and --verbose among checked arguments (q is quiet's short name in every command). */
function levelFlags(args: string[]): { quiet: boolean; verbose: boolean } {
  const words = args.slice(0, args.includes("--") ? args.indexOf("--") : args.length);
  return {
    quiet: words.some((a) => a === "--quiet" || (/^-[a-zA-Z]+$/.test(a) && a.includes("q"))),
    verbose: words.includes("--verbose"),
  };
}

async function report(e: unknown, verbose: boolean): Promise<number> {
  const { log, setLogLevel, startLog } = await import("./log.ts");
  if (verbose) setLogLevel({ verbose });
  await startLog();
  if (e instanceof LayerslayerError) {
    log.error(e.message);
    if (e.detail) log.detail(e.detail);
    // The cause chain, one line each: what the runtime said, never a stack.
    for (const line of causeChain(e)) log.detail(`  cause: ${line}`);
    return e.exitCode;
  }
  const err = e as { name?: string; code?: string; message?: string; stack?: string };
  // citty's own usage errors (missing positional, unknown command).
  if (err?.name === "CLIError" || err?.code?.startsWith?.("E_")) {
    // citty ends some messages with a full stop ("No command specified."): ours follows without one.
    const said = (err.message ?? "").replace(/\x1b\[[0-9;]*m/g, "").replace(/\.$/, "");
    log.error(`${said}; see --help`);
    return EXIT_CODES.USAGE;
  }
  if (err?.code === "EPIPE") return 0;
  log.error(`internal error: ${err?.message ?? String(e)}`);
  if (err?.stack) for (const line of err.stack.split("\n")) log.detail(line);
  return 1;
}

if (import.meta.main) {
  const argv = process.argv.slice(2);
  const verbose = argv.includes("--verbose");
  let code: number;
  try {
    code = await run(argv);
  } catch (e) {
    code = await report(e, verbose);
    // diff exits 1 when the images differ, as diff(1) does: a failure of its own is 2 or more.
    if (code === 1 && argv[0] === "diff") code = 2;
  }
  process.exitCode = code;
}
