import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { authFileCredentials } from "../../src/registry/auth-files.ts";
import { loginFile, removeLogin, saveLogin, writeAtomically } from "../../src/registry/auth-store.ts";

describe("saving logins where docker and podman read them", () => {
  let root: string;
  let n = 0;
  const fresh = () => {
    const home = join(root, `home${n++}`);
    mkdirSync(home, { recursive: true });
    return { home, env: { HOME: home, XDG_RUNTIME_DIR: join(home, "run"), PATH: `${join(root, "bin")}:${process.env.PATH}` } as Record<string, string> };
  };
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "ls-auth-store-"));
    mkdirSync(join(root, "bin"));
    writeFileSync(
      join(root, "bin", "docker-credential-keep"),
      `#!/bin/sh\ncase "$1" in store) cat > "${root}/kept.json" ;; erase) read -r s; echo "$s" > "${root}/erased" ;; *) exit 1 ;; esac\n`,
      { mode: 0o755 },
    );
    writeFileSync(join(root, "bin", "docker-credential-broken"), `#!/bin/sh\necho "keychain locked" >&2; exit 3\n`, { mode: 0o755 });
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  test("by default docker's config.json (which podman reads too), or REGISTRY_AUTH_FILE", () => {
    const { home, env } = fresh();
    expect(loginFile("reg.example", { env })).toBe(join(home, ".docker", "config.json"));
    expect(loginFile("reg.example", { env: { ...env, DOCKER_CONFIG: join(home, "d") } })).toBe(join(home, "d", "config.json"));
    expect(loginFile("reg.example", { env: { ...env, REGISTRY_AUTH_FILE: join(home, "a.json") } })).toBe(join(home, "a.json"));
    expect(loginFile("reg.example", { env, authfile: join(home, "x.json") })).toBe(join(home, "x.json"));
  });

  test("the file that already knows the registry gets the new login, so it is the one read back", async () => {
    const { home, env } = fresh();
    const podman = join(home, "run", "containers", "auth.json");
    mkdirSync(join(home, "run", "containers"), { recursive: true });
    writeFileSync(podman, JSON.stringify({ auths: { "https://reg.example/v1/": { auth: Buffer.from("old:stale").toString("base64") } } }));
    expect(loginFile("reg.example", { env })).toBe(podman);
    const saved = await saveLogin("reg.example", { username: "new", password: "fresh:pw" }, { env });
    expect(saved).toEqual({ path: podman });
    // The old key (another spelling of the same registry) is replaced, not left beside the new one.
    expect(Object.keys(JSON.parse(readFileSync(podman, "utf8")).auths)).toEqual(["reg.example"]);
    expect(await authFileCredentials("reg.example", "a/b", { env })).toEqual({ username: "new", password: "fresh:pw" });
  });

  test("Docker Hub is saved under docker's historical key; a namespace's own entry is left alone", async () => {
    const { home, env } = fresh();
    const file = join(home, "auth.json");
    writeFileSync(file, JSON.stringify({ auths: { "docker.io/team": { auth: Buffer.from("t:t").toString("base64") } }, other: [1, 2] }));
    await saveLogin("docker.io", { username: "me", password: "pw" }, { env, authfile: file });
    const doc = JSON.parse(readFileSync(file, "utf8"));
    expect(Object.keys(doc.auths).sort()).toEqual(["docker.io/team", "https://index.docker.io/v1/"]);
    expect(doc.other).toEqual([1, 2]);
    expect(await removeLogin("docker.io", { env, authfile: file })).toEqual([file]);
    expect(Object.keys(JSON.parse(readFileSync(file, "utf8")).auths)).toEqual(["docker.io/team"]);
  });

  test("credHelpers for the registry: the helper stores it and the file is not given the secret", async () => {
    const { home, env } = fresh();
    const file = join(home, "auth.json");
    writeFileSync(file, JSON.stringify({ credHelpers: { "reg.example": "keep" } }));
    expect(await saveLogin("reg.example", { username: "u", password: "p w" }, { env, authfile: file })).toEqual({ path: file, helper: "keep" });
    expect(JSON.parse(readFileSync(join(root, "kept.json"), "utf8"))).toEqual({ ServerURL: "reg.example", Username: "u", Secret: "p w" });
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual({ credHelpers: { "reg.example": "keep" }, auths: {} });
    expect(await removeLogin("reg.example", { env, authfile: file })).toEqual(["docker-credential-keep"]);
    expect(readFileSync(join(root, "erased"), "utf8")).toBe("reg.example\n");
  });

  test("a helper that fails, or a file that is not JSON: an error, and the file is not touched", async () => {
    const { home, env } = fresh();
    const file = join(home, "auth.json");
    const text = JSON.stringify({ credsStore: "broken" });
    writeFileSync(file, text);
    await expect(saveLogin("reg.example", { username: "u", password: "p" }, { env, authfile: file })).rejects.toThrow(
      "the credential helper docker-credential-broken failed to store the login for reg.example (exit 3): keychain locked",
    );
    expect(readFileSync(file, "utf8")).toBe(text);
    writeFileSync(file, "{ not json");
    await expect(saveLogin("reg.example", { username: "u", password: "p" }, { env, authfile: file })).rejects.toThrow(`the auth file ${file} is not valid JSON`);
    expect(readFileSync(file, "utf8")).toBe("{ not json");
  });

  test("writing is atomic: mode 0600 whatever the old mode, and no temp file left when it fails", () => {
    const { home } = fresh();
    const file = join(home, "f.json");
    writeFileSync(file, "old", { mode: 0o644 });
    writeAtomically(file, "new secret");
    expect(readFileSync(file, "utf8")).toBe("new secret");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(home)).toEqual(["f.json"]);
    // A target that cannot be replaced (a directory): an IO error, the temp file removed.
    mkdirSync(join(home, "dir.json"));
    writeFileSync(join(home, "dir.json", "x"), "");
    expect(() => writeAtomically(join(home, "dir.json"), "secret")).toThrow(`cannot write the auth file ${join(home, "dir.json")}`);
    expect(readdirSync(home).sort()).toEqual(["dir.json", "f.json"]);
    if (process.getuid?.() !== 0) {
      chmodSync(home, 0o500);
      expect(() => writeAtomically(file, "x")).toThrow("EACCES");
      chmodSync(home, 0o700);
    }
  });
});
