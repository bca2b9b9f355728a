import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { errorLine, MAIN, runCli } from "../support/cli.ts";
import { layerFrom, pushImage } from "../support/fixtures.ts";
import { READER, useRegistry, withRegistry } from "../support/registry.ts";
import { startTerminal } from "../support/tmux.ts";

/** `login` and `logout` against the real token-auth and htpasswd registries. */
for (const auth of ["token", "htpasswd"] as const) {
  describe(`login and logout (${auth} registry)`, () => {
    const reg = useRegistry({ auth });
    const other = useRegistry({ auth: "htpasswd" });
    let home: string;
    const docker = () => join(home, ".docker");
    const configPath = () => join(docker(), "config.json");
    const env = () => ({ HOME: home, DOCKER_CONFIG: docker() });
    const login = (password: string, extra: string[] = [], opts: { env?: Record<string, string> } = {}) =>
      runCli(["login", reg.host, "-u", READER.username, "--password-stdin", ...extra], { stdin: `${password}\n`, env: { ...env(), ...opts.env } });
    beforeAll(async () => {
      await pushImage(reg, "c/app", "v1", { layers: [{ bytes: layerFrom([{ path: "etc/secret", content: "behind a login" }]) }] });
    });

    test("a wrong password fails (exit 3) and writes nothing", async () => {
      home = mkdtempSync(join(tmpdir(), "ls-login-home-"));
      const r = await login("not-the-password");
      expect(r.code).toBe(3);
      expect(errorLine(r)).toBe(`layerslayer: ${reg.host}: the login of "reader" was refused; nothing was saved`);
      expect(r.stderr).not.toContain("not-the-password");
      expect(existsSync(docker())).toBe(false);
      // An existing file is left exactly as it was.
      mkdirSync(docker(), { recursive: true });
      const before = JSON.stringify({ auths: { "ghcr.io": { auth: "eDp5" } }, credsStore: "" }, null, 2);
      writeFileSync(configPath(), before);
      expect((await login("still wrong")).code).toBe(3);
      expect(readFileSync(configPath(), "utf8")).toBe(before);
      expect(readdirSync(docker())).toEqual(["config.json"]);
    });

    test("a right one writes the file (0600, atomically, other entries kept); read commands then work without -u", async () => {
      const r = await login(READER.password);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe("");
      expect(r.stderr).toBe(`Logged in to ${reg.host} as reader; the login is saved in ${configPath()}\n`);
      expect(r.stderr).not.toContain(READER.password);
      const doc = JSON.parse(readFileSync(configPath(), "utf8"));
      expect(doc.auths["ghcr.io"]).toEqual({ auth: "eDp5" });
      expect(Buffer.from(doc.auths[reg.host].auth, "base64").toString()).toBe(`${READER.username}:${READER.password}`);
      expect(statSync(configPath()).mode & 0o777).toBe(0o600);
      expect(readdirSync(docker())).toEqual(["config.json"]); // no temp file left
      for (const args of [
        ["tags", `${reg.host}/c/app`],
        ["cat", `${reg.host}/c/app:v1`, "/etc/secret"],
        ["peek", `${reg.host}/c/app:v1`],
        ["inspect", `${reg.host}/c/app:v1`],
      ]) {
        const read = await runCli([...args, "-q"], { env: env() });
        expect({ args, code: read.code, stderr: read.stderr }).toEqual({ args, code: 0, stderr: "" });
        if (args[0] === "cat") expect(read.stdout).toBe("behind a login");
      }
      // Without the saved login the same reads are refused.
      expect((await runCli(["tags", `${reg.host}/c/app`], { env: { HOME: mkdtempSync(join(tmpdir(), "ls-empty-")) } })).code).toBe(3);
    });

    test("logout removes only that registry's entry", async () => {
      const second = await runCli(["login", other.host, "-u", READER.username, "--password-stdin"], { stdin: READER.password, env: env() });
      expect(second.code).toBe(0);
      const r = await runCli(["logout", reg.host], { env: env() });
      expect(r.code).toBe(0);
      expect(r.stderr).toBe(`Removed the login for ${reg.host} from ${configPath()}\n`);
      const doc = JSON.parse(readFileSync(configPath(), "utf8"));
      expect(Object.keys(doc.auths).sort()).toEqual(["ghcr.io", other.host].sort());
      expect(doc.credsStore).toBe("");
      expect(statSync(configPath()).mode & 0o777).toBe(0o600);
      expect((await runCli(["tags", `${reg.host}/c/app`], { env: env() })).code).toBe(3);
      expect((await runCli(["tags", `${other.host}/nothing`], { env: env() })).code).toBe(4); // logged in there: not found, not refused
      const again = await runCli(["logout", reg.host], { env: env() });
      expect(again.code).toBe(0);
      expect(again.stderr).toBe(`Not logged in to ${reg.host}: no saved login was found\n`);
    });
  });
}

describe("login with a credential helper, --authfile, and the password's other ways in", () => {
  const reg = useRegistry({ auth: "htpasswd" });
  let home: string;
  let bin: string;
  let record: string;
  beforeAll(async () => {
    await pushImage(reg, "c/app", "v1", { layers: [{ bytes: layerFrom([{ path: "etc/secret", content: "kept by a helper" }]) }] });
    home = mkdtempSync(join(tmpdir(), "ls-login-helper-"));
    bin = join(home, "bin");
    record = join(home, "store.log");
    mkdirSync(bin);
    // A helper that keeps one login in a file: store records what it was given, get answers it, erase forgets it.
    writeFileSync(
      join(bin, "docker-credential-recorder"),
      `#!/bin/sh
store="${home}/secret.json"
case "$1" in
  store) cat > "$store"; cp "$store" "${record}" ;;
  get) read -r server; if [ -f "$store" ]; then sed 's/"ServerURL":"[^"]*",//' "$store"; else echo "credentials not found in native keychain"; exit 1; fi ;;
  erase) read -r server; echo "$server" > "${home}/erased"; rm -f "$store" ;;
  *) exit 9 ;;
esac
`,
      { mode: 0o755 },
    );
  });
  afterAll(async () => {
    rmSync(home, { recursive: true, force: true });
  });
  const env = () => ({ HOME: home, DOCKER_CONFIG: join(home, ".docker"), PATH: `${bin}:${process.env.PATH}` });

  test("a credsStore in the file receives the login; the file keeps no secret", async () => {
    mkdirSync(join(home, ".docker"), { recursive: true });
    writeFileSync(join(home, ".docker", "config.json"), JSON.stringify({ credsStore: "recorder" }));
    const r = await runCli(["login", reg.host, "-u", READER.username, "--password-stdin"], { stdin: READER.password, env: env() });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      `Logged in to ${reg.host} as reader; the login is saved in the credential helper docker-credential-recorder (named in ${join(home, ".docker", "config.json")})\n`,
    );
    expect(JSON.parse(readFileSync(record, "utf8"))).toEqual({ ServerURL: reg.host, Username: READER.username, Secret: READER.password });
    const file = readFileSync(join(home, ".docker", "config.json"), "utf8");
    expect(JSON.parse(file)).toEqual({ credsStore: "recorder", auths: { [reg.host]: {} } });
    expect(file).not.toContain("reader");
    const cat = await runCli(["cat", `${reg.host}/c/app:v1`, "/etc/secret"], { env: env() });
    expect(cat.stdout).toBe("kept by a helper");
    const out = await runCli(["logout", reg.host], { env: env() });
    expect(out.stderr).toBe(`Removed the login for ${reg.host} from docker-credential-recorder, ${join(home, ".docker", "config.json")}\n`);
    expect(readFileSync(join(home, "erased"), "utf8")).toBe(`${reg.host}\n`);
    expect((await runCli(["cat", `${reg.host}/c/app:v1`, "/etc/secret"], { env: env() })).code).toBe(3);
  });

  test("on a terminal: the user name and then the password are asked for, the password without echo (tmux)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ls-login-tty-"));
    const cmd = `cd ${dir} && HOME=${dir} USER=nobody XDG_CACHE_HOME=${dir}/cache ${process.execPath} ${MAIN} login ${reg.host} --verbose; echo EXIT=$?; sleep 30`;
    const term = startTerminal(cmd, { height: 30 });
    try {
      await term.waitFor(/Username \(nobody\)/);
      term.type(READER.username);
      term.keys("Enter");
      await term.waitFor(new RegExp(`Password for reader at ${reg.host.replace(/\./g, "\\.")}:`));
      term.type(READER.password);
      term.keys("Enter");
      await term.waitFor(/EXIT=\d+/);
      const s = term.screen();
      expect(s).toContain("EXIT=0");
      expect(s).toContain(`Logged in to ${reg.host} as reader`);
      // Not echoed, and not in the --verbose log (neither as typed nor as the Basic header's base64).
      expect(s).not.toContain(READER.password);
      expect(s).not.toContain(Buffer.from(`${READER.username}:${READER.password}`).toString("base64").slice(0, 12));
      const doc = JSON.parse(readFileSync(join(dir, ".docker", "config.json"), "utf8"));
      expect(Buffer.from(doc.auths[reg.host].auth, "base64").toString()).toBe(`${READER.username}:${READER.password}`);
    } finally {
      term.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("--authfile names the file; LAYERSLAYER_PASSWORD gives the password; a missing user name is a usage error", async () => {
    const file = join(home, "podman", "auth.json");
    const r = await runCli(["login", reg.host, "-u", READER.username, "--authfile", file], { env: { ...env(), LAYERSLAYER_PASSWORD: READER.password } });
    expect(r.code).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(home, "podman")).mode & 0o777).toBe(0o700);
    const tags = await runCli(["tags", `${reg.host}/c/app`, "--authfile", file], { env: { HOME: mkdtempSync(join(tmpdir(), "ls-empty-")) } });
    expect(tags.stdout).toBe("v1\n");
    const noUser = await runCli(["login", reg.host, "--password-stdin"], { stdin: "x", env: env() });
    expect(noUser.code).toBe(2);
    expect(errorLine(noUser)).toBe("layerslayer: login needs a user name: -u/--username (or LAYERSLAYER_USERNAME)");
    const noPassword = await runCli(["login", reg.host, "-u", "reader"], { env: env() });
    expect(noPassword.code).toBe(2);
    // A registry that asks for no login: saved, with a warning that it could not be checked.
    await withRegistry(async (open) => {
      const r2 = await runCli(["login", open.host, "-u", "anyone", "--password-stdin", "--authfile", join(home, "open.json")], { stdin: "whatever", env: env() });
      expect(r2.code).toBe(0);
      expect(r2.stderr.split("\n")[0]).toBe(`layerslayer: warning: ${open.host} asks for no login, so this one could not be checked; it is saved all the same`);
      expect(Object.keys(JSON.parse(readFileSync(join(home, "open.json"), "utf8")).auths)).toEqual([open.host]);
    });
    const badRegistry = await runCli(["login", "not a host"], { env: env() });
    expect(badRegistry.code).toBe(2);
  });
});
