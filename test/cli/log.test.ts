/**
 * The logging layer (src/cli/log.ts, consola underneath): one format per kind of line, levels from
 * -q and --verbose, colours only on a terminal without NO_COLOR, plain text off a terminal; the CLI
 * checked on the real registry and on a real terminal (tmux).
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { colourOnStderr, formatLine, levelFor } from "../../src/cli/log.ts";
import { MAIN, runCli } from "../support/cli.ts";
import { layerFrom, pushImage } from "../support/fixtures.ts";
import { useRegistry } from "../support/registry.ts";
import { startTerminal } from "../support/tmux.ts";

describe("the reporter", () => {
  test("each kind has its prefix; control characters are escaped; colours only on the labels", () => {
    expect(formatLine("error", "bad \x1b[31mthing", false)).toBe("layerslayer: bad \\x1b[31mthing\n");
    expect(formatLine("warn", "careful", false)).toBe("layerslayer: warning: careful\n");
    expect(formatLine("info", "a notice", false)).toBe("a notice\n");
    expect(formatLine("debug", "GET /v2/", false)).toBe("· GET /v2/\n");
    expect(formatLine("detail", "  cause: x", false)).toBe("  cause: x\n");
    expect(formatLine("error", "bad", true)).toBe("\x1b[31mlayerslayer:\x1b[39m bad\n");
    expect(formatLine("warn", "careful", true)).toBe("\x1b[33mlayerslayer: warning:\x1b[39m careful\n");
    expect(formatLine("info", "plain", true)).toBe("plain\n");
  });
  test("levels: -q errors only, --verbose everything, else up to notices", () => {
    expect(levelFor({ quiet: true })).toBe(0);
    expect(levelFor({})).toBe(3);
    expect(levelFor({ verbose: true })).toBe(4);
    expect(levelFor({ quiet: true, verbose: true })).toBe(4);
  });
  test("colours: a terminal, NO_COLOR unset (whatever its value), TERM not dumb", () => {
    expect(colourOnStderr({}, true)).toBe(true);
    expect(colourOnStderr({}, false)).toBe(false);
    expect(colourOnStderr({ NO_COLOR: "" }, true)).toBe(false);
    expect(colourOnStderr({ NO_COLOR: "1" }, true)).toBe(false);
    expect(colourOnStderr({ TERM: "dumb" }, true)).toBe(false);
  });
});

describe("the CLI's stderr", () => {
  const reg = useRegistry();
  let ref: string;
  beforeAll(async () => {
    await pushImage(reg, "log/app", "v1", { layers: [{ bytes: layerFrom([{ path: "etc/motd", content: "hello\n" }]) }] });
    ref = `${reg.host}/log/app:v1`;
  });

  test("notices by default, none with -q; --verbose adds the HTTP log; errors always", async () => {
    const plain = await runCli(["cat", ref, "/etc/motd"]);
    expect(plain.stdout).toBe("hello\n");
    expect(plain.stderr).toMatch(/^\/etc\/motd: 6 from layer 0, downloaded .*\n$/);
    const quiet = await runCli(["cat", ref, "/etc/motd", "-q"]);
    expect(quiet.stderr).toBe("");
    const verbose = await runCli(["cat", ref, "/etc/motd", "--verbose"]);
    expect(verbose.stderr).toMatch(/^· GET http:\/\/127\.0\.0\.1:\d+\/v2\//m);
    expect(verbose.stderr).toContain("/etc/motd: 6 from layer 0");
    const missing = await runCli(["cat", ref, "/nope", "-q"]);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toStartWith("layerslayer: ");
    // A mistyped option is an error too, with -q.
    expect((await runCli(["cat", ref, "/etc/motd", "-q", "--verbos"])).stderr).toStartWith("layerslayer: unknown option --verbos");
  });

  test("on a terminal: the label coloured; NO_COLOR (even empty), TERM=dumb and a pipe: plain text", async () => {
    const run = async (env: string) => {
      const cmd = `${env} ${process.execPath} ${MAIN} cat ${ref} /nope --no-cache; echo EXIT=$?; sleep 30`;
      const term = startTerminal(["env", "-u", "NO_COLOR", "HOME=/tmp", "sh", "-c", cmd], { height: 10 });
      try {
        await term.waitFor(/EXIT=\d+/);
        return term.screen({ escapes: true });
      } finally {
        term.kill();
      }
    };
    const [coloured, ...plain] = await Promise.all(["", "NO_COLOR=1", "NO_COLOR=", "TERM=dumb"].map(run));
    expect(coloured).toContain("\x1b[31mlayerslayer:\x1b[39m /nope");
    for (const screen of plain) {
      expect(screen).toContain("layerslayer: /nope");
      expect(screen).not.toContain("\x1b[31m");
    }
    // Off a terminal, without NO_COLOR: plain.
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: "/tmp", XDG_CACHE_HOME: "/tmp/ls-log-test-cache" };
    const piped = Bun.spawnSync([process.execPath, MAIN, "cat", ref, "/nope", "--no-cache"], { env, stderr: "pipe", stdout: "pipe" });
    expect(piped.stderr.toString()).toStartWith("layerslayer: /nope");
  });
});

test("the source reads the log layer only through log.ts: no other stderr writer for messages", async () => {
  const glob = new Bun.Glob("**/*.ts");
  const offenders: string[] = [];
  for await (const file of glob.scan(join(import.meta.dir, "../../src"))) {
    if (file === "cli/log.ts") continue;
    const text = await Bun.file(join(import.meta.dir, "../../src", file)).text();
    for (const line of text.split("\n")) {
      // Progress lines (\r…) are drawn, not logged.
      if (/console\.(error|warn|info|debug)\(|process\.stderr\.write\((?!["`]\\r|`\\r)/.test(line) && !line.trim().startsWith("*")) offenders.push(`${file}: ${line.trim()}`);
    }
  }
  expect(offenders).toEqual([]);
});
