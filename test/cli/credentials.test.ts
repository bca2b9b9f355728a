import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MAIN, runCli } from "../support/cli.ts";
import { layerFrom, pushImage } from "../support/fixtures.ts";
import { READER, startRegistry, type TestRegistry } from "../support/registry.ts";

describe("logging in from the command line", () => {
  let reg: TestRegistry;
  let dir: string;
  beforeAll(async () => {
    reg = await startRegistry({ auth: "htpasswd" });
    await pushImage(reg, "c/app", "v1", { layers: [{ bytes: layerFrom([{ path: "etc/secret", content: "behind a login" }]) }] });
    dir = mkdtempSync(join(tmpdir(), "ls-login-"));
  });
  afterAll(async () => {
    await reg.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("-u alone on a terminal asks for the password without echoing it (tmux)", async () => {
    const session = `ls-pw-${process.pid}`;
    const cmd = `cd ${dir} && HOME=${dir} XDG_CACHE_HOME=${dir}/cache ${process.execPath} ${MAIN} cat ${reg.host}/c/app:v1 /etc/secret -u ${READER.username}; echo; echo EXIT=$?; sleep 30`;
    expect(Bun.spawnSync(["tmux", "new-session", "-d", "-s", session, "-x", "200", "-y", "20", cmd]).exitCode).toBe(0);
    const screen = () => Bun.spawnSync(["tmux", "capture-pane", "-p", "-t", session]).stdout.toString();
    const waitFor = async (re: RegExp) => {
      for (let i = 0; i < 200; i++) {
        if (re.test(screen())) return;
        await Bun.sleep(50);
      }
      throw new Error(`screen never showed ${re}:\n${screen()}`);
    };
    try {
      await waitFor(new RegExp(`Password for reader at ${reg.host.replace(/\./g, "\\.")}:`));
      // A typo first, erased with Backspace, then the password (spaces and a colon in it).
      Bun.spawnSync(["tmux", "send-keys", "-t", session, "-l", "xy"]);
      Bun.spawnSync(["tmux", "send-keys", "-t", session, "BSpace", "BSpace"]);
      Bun.spawnSync(["tmux", "send-keys", "-t", session, "-l", READER.password]);
      Bun.spawnSync(["tmux", "send-keys", "-t", session, "Enter"]);
      await waitFor(/EXIT=\d+/);
      const s = screen();
      expect(s).toContain("behind a login");
      expect(s).toContain("EXIT=0");
      expect(s).not.toContain("reader-pass");
      expect(s).not.toContain("xy");
    } finally {
      Bun.spawnSync(["tmux", "kill-session", "-t", session]);
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
    expect(warnings).toEqual(["layerslayer: warning: no home directory (HOME is unset and this user has no passwd entry): the cache is off; LAYERSLAYER_CACHE_DIR or XDG_CACHE_HOME turns it on"]);
  });
});
