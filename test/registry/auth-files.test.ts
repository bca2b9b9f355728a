import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { authFileCredentials, authFilePaths, bestKey, lookupInFile, normalizeKey } from "../../src/registry/auth-files.ts";
import { runCli } from "../support/cli.ts";
import { layerFrom, pushImage } from "../support/fixtures.ts";
import { ADMIN, READER, READER_IDENTITY_TOKEN, useRegistry, withRegistry } from "../support/registry.ts";

const b64 = (s: string) => Buffer.from(s).toString("base64");
const login = (u: string, p: string) => ({ auth: b64(`${u}:${p}`) });

function writeJson(path: string, doc: unknown): string {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, JSON.stringify(doc));
  return path;
}

describe("auth file keys", () => {
  test("URL keys name their host; plain keys may name a namespace or repository; Docker Hub's names are docker.io", () => {
    expect(normalizeKey("https://index.docker.io/v1/")).toBe("docker.io");
    expect(normalizeKey("registry-1.docker.io")).toBe("docker.io");
    expect(normalizeKey("http://Reg.Example:5000/v2/")).toBe("reg.example:5000");
    expect(normalizeKey("reg.example:5000/ns/repo/")).toBe("reg.example:5000/ns/repo");
  });
  test("the most specific key that covers the repository wins", () => {
    const keys = ["https://host:5000", "host:5000/ns", "host:5000/ns/repo", "other"];
    expect(bestKey(keys, "host:5000", "ns/repo")).toBe("host:5000/ns/repo");
    expect(bestKey(keys, "host:5000", "ns/repo2")).toBe("host:5000/ns");
    expect(bestKey(keys, "host:5000", "nsx/repo")).toBe("https://host:5000");
    expect(bestKey(keys, "host:5000", "")).toBe("https://host:5000");
    expect(bestKey(keys, "host:5001", "ns/repo")).toBeUndefined();
  });
  test("in one file: credHelpers for the registry, then auths, then credsStore; an empty entry defers to credsStore", () => {
    const doc = {
      auths: { "a.example": login("u", "p:w"), "b.example": {}, "t.example": { auth: b64("me:"), identitytoken: "refresh" } },
      credHelpers: { "h.example": "ecr" },
      credsStore: "desktop",
    };
    expect(lookupInFile(doc, "f", "a.example", "x")).toEqual({ credentials: { username: "u", password: "p:w" } });
    expect(lookupInFile(doc, "f", "b.example", "x")).toEqual({ helper: "desktop" });
    expect(lookupInFile(doc, "f", "h.example", "x")).toEqual({ helper: "ecr" });
    expect(lookupInFile(doc, "f", "t.example", "x")).toEqual({ credentials: { identityToken: "refresh" } });
    expect(lookupInFile({ auths: { "a.example": { username: "u", password: "" } } }, "f", "a.example", "")).toEqual({ credentials: { username: "u", password: "" } });
    expect(lookupInFile({ auths: {} }, "f", "a.example", "x")).toBeUndefined();
    expect(() => lookupInFile({ auths: { "a.example": { auth: b64("no-colon") } } }, "f", "a.example", "x")).toThrow(
      'f, auths["a.example"]: "auth" is not base64 of user:password',
    );
  });
});

describe("auth file order", () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "ls-authfiles-"));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  test("--authfile, REGISTRY_AUTH_FILE, XDG_RUNTIME_DIR, ~/.config/containers, DOCKER_CONFIG: the first that knows the registry wins", async () => {
    const files = {
      authfile: writeJson(join(root, "explicit.json"), { auths: { "r.example": login("explicit", "x") } }),
      env: writeJson(join(root, "env.json"), { auths: { "r.example": login("env", "x"), "only-env.example": login("env", "x") } }),
      runtime: writeJson(join(root, "run/containers/auth.json"), { auths: { "r.example": login("runtime", "x") } }),
      config: writeJson(join(root, "home/.config/containers/auth.json"), { auths: { "r.example": login("config", "x"), "c.example": login("config", "x") } }),
      docker: writeJson(join(root, "docker/config.json"), { auths: { "r.example": login("docker", "x"), "d.example": login("docker", "x") } }),
    };
    const env = { HOME: join(root, "home"), REGISTRY_AUTH_FILE: files.env, XDG_RUNTIME_DIR: join(root, "run"), DOCKER_CONFIG: join(root, "docker") };
    expect(authFilePaths({ authfile: files.authfile, env }).map((f) => f.path)).toEqual(Object.values(files));
    const user = async (registry: string, opts: { authfile?: string; env: Record<string, string> }) => {
      const c = await authFileCredentials(registry, "a/b", opts);
      return c && "username" in c ? c.username : c;
    };
    expect(await user("r.example", { authfile: files.authfile, env })).toBe("explicit");
    expect(await user("r.example", { env })).toBe("env");
    expect(await user("r.example", { env: { ...env, REGISTRY_AUTH_FILE: "" } })).toBe("runtime");
    expect(await user("c.example", { env })).toBe("config");
    expect(await user("d.example", { env })).toBe("docker");
    expect(await user("d.example", { env: { HOME: join(root, "nohome") } })).toBeUndefined();
    expect(await user("nobody.example", { env })).toBeUndefined();
  });

  test("a missing --authfile is a usage error; a broken file is named", async () => {
    await expect(authFileCredentials("r.example", "", { authfile: join(root, "missing.json"), env: {} })).rejects.toThrow(`--authfile ${join(root, "missing.json")}: no such file`);
    const broken = join(root, "broken.json");
    writeFileSync(broken, "{not json");
    await expect(authFileCredentials("r.example", "", { env: { REGISTRY_AUTH_FILE: broken, HOME: root } })).rejects.toThrow(`the auth file ${broken} is not valid JSON`);
  });
});

/** A `docker-credential-NAME` script that answers for one server and logs what it was asked. */
function helperScript(bin: string, name: string, body: string): void {
  const path = join(bin, `docker-credential-${name}`);
  writeFileSync(path, `#!/bin/sh\n[ "$1" = get ] || exit 9\nread -r server\necho "$server" >> "${bin}/asked-${name}"\n${body}\n`, { mode: 0o755 });
}

describe("logins from auth files and credential helpers, on real registries", () => {
  const token = useRegistry({ auth: "token" });
  const basic = useRegistry({ auth: "htpasswd" });
  let dir: string;
  let bin: string;
  const run = (args: string[], files: Record<string, unknown>, env: Record<string, string> = {}) => {
    const home = mkdtempSync(join(dir, "home-"));
    for (const [rel, doc] of Object.entries(files)) writeJson(join(home, rel), doc);
    return runCli(args, { env: { HOME: home, PATH: `${bin}:${process.env.PATH}`, ...env } });
  };
  beforeAll(async () => {
    for (const reg of [token, basic]) {
      await pushImage(reg, "c/app", "v1", { layers: [{ bytes: layerFrom([{ path: "f" }]) }] });
      await pushImage(reg, "c/other", "v1", { layers: [{ bytes: layerFrom([{ path: "g" }]) }] });
    }
    dir = mkdtempSync(join(tmpdir(), "ls-creds-"));
    bin = join(dir, "bin");
    mkdirSync(bin);
    helperScript(bin, "good", `printf '{"ServerURL":"%s","Username":"${READER.username}","Secret":"${READER.password}"}' "$server"`);
    helperScript(bin, "token", `printf '{"ServerURL":"%s","Username":"<token>","Secret":"${READER_IDENTITY_TOKEN}"}' "$server"`);
    helperScript(bin, "none", `echo "credentials not found in native keychain"; exit 1`);
    helperScript(bin, "broken", `echo "error getting credentials - err: exit status 1, out: \\033[31mkeychain locked\\033[0m" >&2; exit 1`);
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
  });

  test("podman's repository-scoped keys: the most specific entry is used for each repository", async () => {
    const files = {
      ".config/containers/auth.json": { auths: { [`${basic.host}/c/app`]: login(READER.username, READER.password), [basic.host]: login(READER.username, "wrong") } },
    };
    expect((await run(["tags", `${basic.host}/c/app`], files)).stdout).toBe("v1\n");
    const other = await run(["tags", `${basic.host}/c/other`], files);
    expect(other.code).toBe(3);
  });

  test("credHelpers per registry: the helper gets the registry on stdin and its login is used", async () => {
    const r = await run(["tags", `${token.host}/c/app`], {
      ".docker/config.json": { auths: { [token.host]: {} }, credHelpers: { [token.host]: "good", "elsewhere.example": "broken" } },
    });
    expect(r.stdout).toBe("v1\n");
    expect(await Bun.file(join(bin, "asked-good")).text()).toContain(`${token.host}\n`);
  });

  test("credsStore answering <token>: the identity token is exchanged at the realm (refresh_token grant)", async () => {
    const before = token.token!.requests.length;
    const r = await run(["cat", `${token.host}/c/app:v1`, "/f"], { ".docker/config.json": { auths: { [token.host]: {} }, credsStore: "token" } });
    expect(r.code).toBe(0);
    const grants = token.token!.requests.slice(before);
    expect(grants.length).toBeGreaterThan(0);
    expect(grants.every((g) => g.grant === "refresh_token" && g.user === READER.username && g.clientId === "layerslayer")).toBe(true);
    expect(grants[0]!.scope).toBe("repository:c/app:pull");
  });

  test("identitytoken in auths; a token the service does not know is refused (exit 3)", async () => {
    const key = `http://${token.host}`;
    const ok = await run(["tags", `${token.host}/c/app`], {
      ".config/containers/auth.json": { auths: { [key]: { auth: b64(`${READER.username}:`), identitytoken: READER_IDENTITY_TOKEN } } },
    });
    expect(ok.stdout).toBe("v1\n");
    const bad = await run(["tags", `${token.host}/c/app`], { ".config/containers/auth.json": { auths: { [key]: { identitytoken: "forged" } } } });
    expect(bad.code).toBe(3);
    expect(bad.stderr).toBe(`layerslayer: ${token.host}: the token service refused the credentials of the identity token\n`);
    const onBasic = await run(["tags", `${basic.host}/c/app`], { ".config/containers/auth.json": { auths: { [basic.host]: { identitytoken: "x" } } } });
    expect(onBasic.code).toBe(3);
    expect(onBasic.stderr).toContain("the login found for it is an identity token");
  });

  test("a helper without a login means anonymous; a failing or missing helper is one line naming it (exit 3)", async () => {
    const none = await run(["tags", `${token.host}/c/app`], { ".docker/config.json": { credsStore: "none" } });
    expect(none.code).toBe(3);
    expect(none.stderr).toBe(
      `layerslayer: ${token.host}: not authorized to pull c/app; check the login (-u/--username, LAYERSLAYER_USERNAME/LAYERSLAYER_PASSWORD, --authfile, or docker/podman login)\n`,
    );
    const broken = await run(["tags", `${token.host}/c/app`], { ".docker/config.json": { credHelpers: { [token.host]: "broken" } } });
    expect(broken.code).toBe(3);
    expect(broken.stderr).toBe(
      `layerslayer: the credential helper docker-credential-broken failed for ${token.host} (exit 1): error getting credentials - err: exit status 1, out: \\x1b[31mkeychain locked\\x1b[0m\n`,
    );
    const missing = await run(["tags", `${token.host}/c/app`], { ".docker/config.json": { credsStore: "nosuch" } });
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/^layerslayer: the credential helper docker-credential-nosuch \(named in .*config\.json\) is not on PATH\n$/);
    const path = await run(["tags", `${token.host}/c/app`], { ".docker/config.json": { credsStore: "../../bin/sh" } });
    expect(path.code).toBe(3);
    expect(path.stderr).toContain('names the credential helper "../../bin/sh", which is not a valid helper name');
  });

  test("an open registry never runs a helper; -u with a password wins over the files", async () => {
    await withRegistry(async (open) => {
      await pushImage(open, "c/app", "v1", { layers: [{ bytes: layerFrom([{ path: "f" }]) }] });
      const r = await run(["tags", `${open.host}/c/app`], { ".docker/config.json": { credsStore: "broken" } });
      expect(r.stdout).toBe("v1\n");
    });
    const u = await run(["tags", `${basic.host}/c/app`, "-u", ADMIN.username, "--password-stdin"], { ".docker/config.json": { credsStore: "broken" } });
    expect(u.code).toBe(2); // stdin is not given by run(): --password-stdin reads nothing
  });
});
