import { describe, expect, test } from "bun:test";
import { commandTree, completionScript } from "../../src/cli/completion.ts";
import { EXAMPLES } from "../../src/cli/help.ts";
import { checkArgs } from "../../src/cli/args.ts";
import { commands, main, SUMMARIES, TOOL } from "../../src/cli/main.ts";
import { toolUsageText } from "../../src/cli/usage.ts";
import { renderUsage } from "citty";
import { runCli } from "../support/cli.ts";

/** The words of an example before any pipe or redirection (|, <, >), quotes removed. */
function words(example: string): string[] {
  const cut = example.split(/\s[|<>]\s/)[0]!;
  return [...cut.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
}

describe("help, examples and short flags", () => {
  test("the tool's usage names every command with the command's own description (without loading any)", async () => {
    expect(Object.keys(SUMMARIES)).toEqual(Object.keys(commands));
    for (const [name, load] of Object.entries(commands)) {
      const meta = (await load()).meta as { description?: string } | undefined;
      expect({ name, description: SUMMARIES[name] }).toEqual({ name, description: meta?.description ?? "" });
    }
    const usage = await runCli(["--help"]);
    for (const [name, description] of Object.entries(SUMMARIES)) expect(usage.stdout).toContain(`${name}    ${description}`);
  });

  test("the tool's usage, rendered without citty, is citty's rendering to the byte", async () => {
    const strip = (t: string) => t.replace(/\x1b\[[0-9;]*m/g, "");
    const cittyText = `${(await renderUsage(main)).trimEnd()}\n`;
    const ours = toolUsageText(TOOL);
    expect(strip(ours)).toBe(strip(cittyText));
    expect(strip(ours)).toContain("COMMANDS");
    // Colours too, when citty (which decides once, as it loads) uses them.
    if (cittyText.includes("\x1b[")) expect(ours).toBe(cittyText);
  });

  test("every command has two or three examples, each accepted by the command's own options", async () => {
    for (const [name, load] of Object.entries(commands)) {
      const list = EXAMPLES[name];
      expect({ name, count: list?.length ?? 0 }).toEqual({ name, count: expect.any(Number) });
      expect(list!.length).toBeGreaterThanOrEqual(2);
      expect(list!.length).toBeLessThanOrEqual(3);
      const cmd = await load();
      for (const example of list!) {
        const [first, ...rest] = words(example);
        expect(first).toBe(name);
        // The cache command takes its sub-command first.
        const args = name === "cache" ? rest.filter((w) => w !== "info" && w !== "clear") : rest;
        await checkArgs(cmd, args, name); // throws on an option or argument the command does not have
      }
    }
  });

  test("a short flag means one thing in every command", async () => {
    const meaning = new Map<string, string>();
    for (const c of await commandTree()) {
      for (const o of c.options) {
        if (!o.short) continue;
        expect({ short: o.short, command: c.name, long: o.long }).toEqual({ short: o.short, command: c.name, long: meaning.get(o.short) ?? o.long });
        meaning.set(o.short, o.long);
      }
    }
    expect(meaning.get("l")).toBe("long");
    expect(meaning.get("L")).toBe("layer");
  });

  test("every option that takes a value says its default", async () => {
    for (const c of await commandTree()) {
      for (const o of c.options)
        if (o.value) expect({ command: c.name, option: o.long, says: /default/i.test(o.description) }).toEqual({ command: c.name, option: o.long, says: true });
    }
  });

  test("--help and help COMMAND print the same usage, with the examples", async () => {
    const a = await runCli(["peek", "--help"]);
    const b = await runCli(["help", "peek"]);
    expect(a.code).toBe(0);
    expect({ code: b.code, stdout: b.stdout, stderr: b.stderr }).toEqual({ code: a.code, stdout: a.stdout, stderr: a.stderr });
    expect(a.stdout).toContain("EXAMPLES\n\n  layerslayer peek alpine:3.20\n");
    expect(a.stdout).toContain("(default 256K)");
    const top = await runCli(["help"]);
    expect(top.code).toBe(0);
    expect(top.stdout).toContain("layerslayer help COMMAND");
    const bad = await runCli(["help", "nope"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toStartWith('layerslayer: help: unknown command "nope"');
    const version = await runCli(["--version"]);
    expect(version.stdout).toBe(`${(await Bun.file(`${import.meta.dir}/../../package.json`).json()).version}\n`);
  });
});

describe("completion scripts, generated from the command tree", () => {
  const sh = (cmd: string[]) => {
    const p = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });
    return { code: p.exitCode, out: p.stdout.toString(), err: p.stderr.toString() };
  };

  test("bash: commands, options, option values and sub-commands complete", async () => {
    const script = (await runCli(["completion", "bash"])).stdout;
    const complete = (...w: string[]) => {
      const r = sh(["bash", "-c", `${script}\nCOMP_WORDS=(${w.map((x) => `'${x}'`).join(" ")}); COMP_CWORD=${w.length - 1}; _layerslayer; printf '%s\\n' "\${COMPREPLY[@]}"`]);
      expect(r.err).toBe("");
      return r.out.trim().split("\n").filter(Boolean);
    };
    expect(complete("layerslayer", "pe")).toEqual(["peek"]);
    expect(complete("layerslayer", "peek", "img", "--bu")).toEqual(["--budget"]);
    expect(complete("layerslayer", "find", "img", "x", "--type", "")).toEqual(["f", "d", "l", "c", "b", "p"]);
    expect(complete("layerslayer", "cache", "")).toEqual(["info", "clear", "warm"]);
    expect(complete("layerslayer", "completion", "")).toEqual(["bash", "zsh", "fish"]);
    // Every option of every command is offered.
    for (const c of await commandTree()) {
      const offered = complete("layerslayer", c.name, "-");
      for (const o of c.options) expect(offered).toContain(`--${o.long}`);
    }
  });

  test("fish: the real fish completes commands, options and values", async () => {
    const file = `${process.env.TMPDIR ?? "/tmp"}/ls-completion-${process.pid}.fish`;
    await Bun.write(file, (await runCli(["completion", "fish"])).stdout);
    const complete = (line: string) =>
      sh(["fish", "--no-config", "-c", `source ${file}; complete -C ${JSON.stringify(line)}`])
        .out.trim()
        .split("\n")
        .map((l) => l.split("\t")[0]);
    expect(complete("layerslayer pe")).toEqual(["peek"]);
    expect(complete("layerslayer ls img -")).toContain("-L");
    expect(complete("layerslayer ls img --lo")).toEqual(["--long"]);
    expect(complete("layerslayer find img x --type ")).toEqual(["b", "c", "d", "f", "l", "p"]);
  });

  test("zsh: the script parses, loads under compinit and registers itself", async () => {
    const script = (await runCli(["completion", "zsh"])).stdout;
    expect(script.startsWith("#compdef layerslayer\n")).toBe(true);
    const file = `${process.env.TMPDIR ?? "/tmp"}/ls-completion-${process.pid}.zsh`;
    await Bun.write(file, script);
    expect(sh(["zsh", "-n", file]).code).toBe(0);
    const r = sh(["zsh", "-f", "-c", `autoload -U compinit; compinit -u -D; source ${file}; print -r -- $_comps[layerslayer]`]);
    expect(r.err).toBe("");
    expect(r.out.trim()).toBe("_layerslayer");
  });

  test("an unknown shell is a usage error", async () => {
    const r = await runCli(["completion", "tcsh"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('layerslayer: completion: expected one of bash, zsh, fish, got "tcsh"\n');
    await expect(completionScript("tcsh")).rejects.toThrow("expected one of");
  });
});
