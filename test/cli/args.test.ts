/**
 * The CLI refuses what it does not understand (src/cli/args.ts): extra positional arguments,
 * unknown options and sub-commands are usage errors (exit 2) with "did you mean", checked against
 * a real registry so a refused call is seen to print nothing a good one would.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { checkArgs, closest, editDistance } from "../../src/cli/args.ts";
import { commandTree } from "../../src/cli/completion.ts";
import { commands } from "../../src/cli/main.ts";
import { errorLine, runCli } from "../support/cli.ts";
import { layerFrom, pushImage } from "../support/fixtures.ts";
import { useRegistry } from "../support/registry.ts";

describe("edit distance and suggestions", () => {
  test("distance counts insertions, deletions, substitutions and swaps", () => {
    expect(editDistance("peek", "peek")).toBe(0);
    expect(editDistance("pek", "peek")).toBe(1);
    expect(editDistance("budgett", "budget")).toBe(1);
    expect(editDistance("pkee", "peek")).toBe(2);
    expect(editDistance("lsit", "list")).toBe(1);
    expect(editDistance("", "abc")).toBe(3);
  });
  test("a close name is suggested, a far one is not", () => {
    expect(closest("pek", ["peek", "ls", "cat"])).toBe("peek");
    expect(closest("serach", ["scan", "search"])).toBe("search");
    expect(closest("xyz", ["peek", "ls", "cat"])).toBeUndefined();
    expect(closest("verb", ["verbose", "json"])).toBe("verbose");
  });
});

describe("checkArgs against the commands' own definitions", () => {
  test("positional arguments beyond the command's are refused; scan's references take any number", async () => {
    const cat = await commands.cat!();
    await expect(checkArgs(cat, ["img", "/a", "/b"], "cat")).rejects.toThrow('cat: unexpected argument "/b" (it takes IMAGE PATH)');
    expect(await checkArgs(cat, ["img", "/a", "-o", "out"], "cat")).toEqual(["img", "/a", "-o", "out"]);
    const scan = await commands.scan!();
    expect(await checkArgs(scan, ["a:1", "b:2", "c:3", "--shard", "1/2"], "scan")).toEqual(["a:1", "b:2", "c:3", "--shard", "1/2"]);
    // A value of an option is not a positional argument; a negative one is joined to its option.
    const peek = await commands.peek!();
    expect(await checkArgs(peek, ["img", "-L", "-1", "--budget", "64K"], "peek")).toEqual(["img", "--layer=-1", "--budget", "64K"]);
    await expect(checkArgs(peek, ["img", "extra"], "peek")).rejects.toThrow('unexpected argument "extra"');
    // After "--" every word is a positional argument.
    await expect(checkArgs(cat, ["img", "--", "-x", "-y"], "cat")).rejects.toThrow('unexpected argument "-y"');
  });

  test("a sub-command takes its own options and its parent's; an unknown one gets a suggestion", async () => {
    const cache = await commands.cache!();
    expect(await checkArgs(cache, ["warm", "img", "--layer", "1", "--json"], "cache")).toEqual(["warm", "img", "--layer", "1", "--json"]);
    expect(await checkArgs(cache, ["--json", "info"], "cache")).toEqual(["--json", "info"]);
    await expect(checkArgs(cache, ["info", "extra"], "cache")).rejects.toThrow('cache info: unexpected argument "extra" (it takes no arguments)');
    await expect(checkArgs(cache, ["wram", "img"], "cache")).rejects.toThrow('unknown command "cache wram" (did you mean warm?)');
    await expect(checkArgs(cache, ["info", "--layer", "1"], "cache")).rejects.toThrow("unknown option --layer");
  });

  test("options that mean nothing for a command are not offered", async () => {
    const tree = new Map((await commandTree()).map((c) => [c.name, new Set(c.options.map((o) => o.long))]));
    for (const name of ["tags", "catalog"]) {
      expect({ name, platform: tree.get(name)!.has("platform"), cache: tree.get(name)!.has("cache") }).toEqual({ name, platform: false, cache: false });
      expect(tree.get(name)!.has("username")).toBe(true);
    }
    expect(tree.get("platforms")!.has("platform")).toBe(false);
    expect(tree.get("interactive")!.has("json")).toBe(false);
    expect(tree.get("completion")!.size).toBe(0);
    // Where they matter, they are there.
    for (const name of ["peek", "ls", "cat", "find", "inspect", "save"]) for (const o of ["platform", "json", "cache", "username"]) expect(tree.get(name)!.has(o)).toBe(true);
  });
});

describe("the CLI on a real registry", () => {
  const reg = useRegistry();
  let ref: string;
  beforeAll(async () => {
    const layer = layerFrom([
      { path: "etc/hostname", content: "fixture\n" },
      { path: "etc/debian_version", content: "12.5\n" },
    ]);
    await pushImage(reg, "args/app", "v1", { layers: [{ bytes: layer }] });
    ref = `${reg.host}/args/app:v1`;
  });

  test("cat of two files is a usage error that prints neither; cat of one prints it", async () => {
    const two = await runCli(["cat", ref, "/etc/hostname", "/etc/debian_version"]);
    expect(two.code).toBe(2);
    expect(two.stdout).toBe("");
    expect(errorLine(two)).toBe('layerslayer: cat: unexpected argument "/etc/debian_version" (it takes IMAGE PATH); see --help');
    const one = await runCli(["cat", ref, "/etc/hostname", "-q"]);
    expect(one.code).toBe(0);
    expect(one.stdout).toBe("fixture\n");
  });

  test("every command with a fixed number of arguments refuses one more", async () => {
    for (const [name, args] of [
      ["ls", [ref, "/etc", "/usr"]],
      ["inspect", [ref, "x"]],
      ["peek", [ref, "x"]],
      ["find", [ref, "host*", "x"]],
      ["tags", [`${reg.host}/args/app`, "x"]],
    ] as const) {
      const r = await runCli([name, ...args]);
      expect({ name, code: r.code, stdout: r.stdout }).toEqual({ name, code: 2, stdout: "" });
      expect(errorLine(r)).toContain(`${name}: unexpected argument "${args.at(-1)}"`);
    }
  });

  test("a mistyped option or command is refused with what was probably meant", async () => {
    const flag = await runCli(["peek", ref, "--budgett", "1K"]);
    expect(flag.code).toBe(2);
    expect(errorLine(flag)).toBe("layerslayer: unknown option --budgett (did you mean --budget?); see --help");
    const cmd = await runCli(["pek", ref]);
    expect(cmd.code).toBe(2);
    expect(errorLine(cmd)).toStartWith('layerslayer: unknown command "pek" (did you mean peek?)');
    const far = await runCli(["zzzzzz"]);
    expect(errorLine(far)).not.toContain("did you mean");
    const twice = await runCli(["help", "peek", "ls"]);
    expect(twice.code).toBe(2);
    expect(errorLine(twice)).toBe('layerslayer: help: unexpected argument "ls" (it takes COMMAND); see --help');
    const help = await runCli(["help", "inspct"]);
    expect(errorLine(help)).toStartWith('layerslayer: help: unknown command "inspct" (did you mean inspect?)');
    const tagsPlatform = await runCli(["tags", `${reg.host}/args/app`, "--platform", "linux/amd64"]);
    expect(tagsPlatform.code).toBe(2);
    expect(errorLine(tagsPlatform)).toStartWith("layerslayer: unknown option --platform");
  });

  test("a bare call prints the usage on stderr and exits 2; --help prints it on stdout", async () => {
    const bare = await runCli([]);
    expect(bare.code).toBe(2);
    expect(bare.stdout).toBe("");
    expect(bare.stderr).toContain("COMMANDS");
    const help = await runCli(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stderr).toBe("");
    expect(help.stdout).toContain("COMMANDS");
    // carve is an alias of cat: it works, and is listed once, under cat.
    expect(help.stdout).not.toMatch(/^\s*carve\s/m);
    expect(help.stdout).toContain("(alias carve)");
    expect((await runCli(["carve", ref, "/etc/hostname", "-q"])).stdout).toBe("fixture\n");
    expect((await runCli(["help", "carve"])).stdout).toContain("layerslayer carve alpine:3.20 /etc/os-release");
  });
});
