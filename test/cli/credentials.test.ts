import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MAIN, runCli } from "../support/cli.ts";
import { layerFrom, pushImage } from "../support/fixtures.ts";
import { READER, useRegistry } from "../support/registry.ts";
import { startTerminal } from "../support/tmux.ts";

describe("logging in from the command line", () => {
  const reg = useRegistry({ auth: "htpasswd" });
  let dir: string;
  beforeAll(async () => {
    await pushImage(reg, "c/app", "v1", { layers: [{ bytes: layerFrom([{ path: "etc/secret", content: "behind a login" }]) }] });
    dir = mkdtempSync(join(tmpdir(), "ls-login-"));
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
  });

  test("-u alone on a terminal asks for the password without echoing it (tmux)", async () => {
    const cmd = `cd ${dir} && HOME=${dir} XDG_CACHE_HOME=${dir}/cache ${process.execPath} ${MAIN} cat ${reg.host}/c/app:v1 /etc/secret -u ${READER.username}; code=$?; echo; echo EXIT=$code; sleep 30`;
    const term = startTerminal(cmd, { height: 20 });
    try {
      await term.waitFor(new RegExp(`Password for reader at ${reg.host.replace(/\./g, "\\.")}:`));
      // A typo first, erased with Backspace, then the password (spaces and a colon in it).
      term.type("xy");
      term.keys("BSpace", "BSpace");
      term.type(READER.password);
      term.keys("Enter");
      await term.waitFor(/EXIT=\d+/);
      const s = term.screen();
      expect(s).toContain("behind a login");
      expect(s).toContain("EXIT=0");
      expect(s).not.toContain("reader-pass");
      expect(s).not.toContain("xy");
    } finally {
      term.kill();
    }
  });

  test("-u alone off a terminal is a usage error that says how to give the password", async () => {
    const r = await runCli(["tags", `${reg.host}/c/app`, "-u", READER.username]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`layerslayer: a password is needed for "reader": use --password-stdin or LAYERSLAYER_PASSWORD (or run on a terminal to be asked)\n`);
  });

  test("no HOME and no passwd entry (a scratch container): works with the cache off and one warning", async () => {
    // A user namespace maps us to a user id that has no passwd entry; DOCKER_CONFIG still gives the login.
    const docker = join(dir, "docker");
    mkdirSync(docker, { recursive: true });
    writeFileSync(join(docker, "config.json"), JSON.stringify({ auths: { [reg.host]: { auth: Buffer.from(`${READER.username}:${READER.password}`).toString("base64") } } }));
    const proc = Bun.spawn(["unshare", "--user", "--map-user=54321", "--map-group=54321", process.execPath, MAIN, "cat", `${reg.host}/c/app:v1`, "/etc/secret"], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", NO_COLOR: "1", DOCKER_CONFIG: docker },
      cwd: dir,
      stdout: "pipe",
      stderr: "pipe",
    });
    const [code, out, err] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
    expect(out).toBe("behind a login");
    expect(code).toBe(0);
    const warnings = err.split("\n").filter((l) => l.startsWith("layerslayer: warning:"));
    expect(warnings).toEqual([
      "layerslayer: warning: no home directory (HOME is unset and this user has no passwd entry): the cache is off; LAYERSLAYER_CACHE_DIR or XDG_CACHE_HOME turns it on",
    ]);
  });
});
