import { afterAll, beforeAll } from "bun:test";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, waitFor } from "./ports.ts";
import { selfSigned } from "./certs.ts";
import { startTokenServer, type TokenServer } from "./token-server.ts";

export type AuthKind = "none" | "token" | "htpasswd";

export interface TestRegistry {
  /** "127.0.0.1:PORT", as a reference's registry part. */
  host: string;
  url: string;
  storage: string;
  auth: AuthKind;
  users: Record<string, string>;
  token?: TokenServer;
  /** Where blob GETs are redirected to, when started with `redirect`. */
  redirect?: { url: string; requests: { path: string; authorization: string | null; range: string | null }[] };
  /** The self-signed certificate of a TLS registry. */
  certPath?: string;
  /** A header that lets the test harness push (admin credentials). */
  pushAuth(repo: string): Promise<Record<string, string>>;
  stop(): Promise<void>;
}

export interface StartOptions {
  auth?: AuthKind;
  /** Serve blob GETs by a 307 to a second server on another origin (a CDN stand-in). */
  redirect?: boolean;
  /** Anonymous pull on these repository prefixes (token registry). */
  anonymousPull?: string[];
  /** Serve HTTPS only, with a self-signed certificate for 127.0.0.1 and the name registry.test (its PEM path is `certPath`). */
  tls?: boolean;
  /** Keep the storage in memory (/dev/shm, when there is one), for tests that write thousands of files. */
  inMemory?: boolean;
}

export const ADMIN = { username: "admin", password: "admin-secret" };
export const READER = { username: "reader", password: "reader-pass: with spaces" };
/** The identity (OAuth2 refresh) token the token registry's token service knows for READER. */
export const READER_IDENTITY_TOKEN = "identity-token-of-reader";

function which(cmd: string): boolean {
  return Bun.spawnSync(["sh", "-c", `command -v ${cmd}`]).exitCode === 0;
}

export function registryBinary(): string {
  if (!which("docker-registry")) throw new Error("docker-registry is not installed (apt-get install -y docker-registry)");
  return "docker-registry";
}

function basicHeader(u: string, p: string): string {
  return `Basic ${Buffer.from(`${u}:${p}`).toString("base64")}`;
}

/** Starts Debian's docker-registry (CNCF distribution 2.8) on a free loopback port with temp storage. */
export async function startRegistry(opts: StartOptions = {}): Promise<TestRegistry> {
  const auth = opts.auth ?? "none";
  const dir = mkdtempSync(join(opts.inMemory && existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "ls-registry-"));
  const storage = join(dir, "storage");
  const port = freePort();
  const users = { [ADMIN.username]: ADMIN.password, [READER.username]: READER.password };
  let token: TokenServer | undefined;
  const lines = [
    "version: 0.1",
    "log:",
    "  level: error",
    "  accesslog:",
    "    disabled: true",
    "storage:",
    "  filesystem:",
    `    rootdirectory: ${storage}`,
    "  delete:",
    "    enabled: true",
    "http:",
    `  addr: 127.0.0.1:${port}`,
  ];
  let certPath: string | undefined;
  if (opts.tls) {
    certPath = join(dir, "tls-cert.pem");
    const keyPath = join(dir, "tls-key.pem");
    selfSigned(keyPath, certPath, "/CN=127.0.0.1", "subjectAltName=IP:127.0.0.1,DNS:registry.test");
    lines.push("  tls:", `    certificate: ${certPath}`, `    key: ${keyPath}`);
  }
  if (auth === "token") {
    token = startTokenServer({
      service: "layerslayer-test",
      issuer: "layerslayer-test-issuer",
      users,
      anonymousPull: opts.anonymousPull,
      refreshTokens: { [READER_IDENTITY_TOKEN]: READER.username },
    });
    lines.push("auth:", "  token:", `    realm: ${token.realm}`, "    service: layerslayer-test", "    issuer: layerslayer-test-issuer", `    rootcertbundle: ${token.certPath}`);
  } else if (auth === "htpasswd") {
    const htpasswd = join(dir, "htpasswd");
    const entries = await Promise.all(Object.entries(users).map(async ([u, p]) => `${u}:${await Bun.password.hash(p, { algorithm: "bcrypt", cost: 4 })}`));
    writeFileSync(htpasswd, entries.join("\n") + "\n");
    lines.push("auth:", "  htpasswd:", "    realm: layerslayer-test", `    path: ${htpasswd}`);
  }
  let redirect: TestRegistry["redirect"];
  let cdn: ReturnType<typeof Bun.serve> | undefined;
  if (opts.redirect) {
    const requests: NonNullable<TestRegistry["redirect"]>["requests"] = [];
    cdn = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(req) {
        const url = new URL(req.url);
        const range = req.headers.get("range");
        requests.push({ path: url.pathname, authorization: req.headers.get("authorization"), range });
        const file = Bun.file(join(storage, decodeURIComponent(url.pathname)));
        if (!(await file.exists())) return new Response("no such blob", { status: 404 });
        const size = file.size;
        const m = range ? /^bytes=(\d+)-(\d*)$/.exec(range) : null;
        if (m) {
          const start = Number(m[1]);
          const end = m[2] ? Math.min(Number(m[2]), size - 1) : size - 1;
          if (start >= size) return new Response("", { status: 416, headers: { "Content-Range": `bytes */${size}` } });
          return new Response(file.slice(start, end + 1), {
            status: 206,
            headers: { "Content-Range": `bytes ${start}-${end}/${size}`, "Content-Length": String(end - start + 1) },
          });
        }
        return new Response(file, { headers: { "Content-Length": String(size) } });
      },
    });
    redirect = { url: `http://127.0.0.1:${cdn.port}`, requests };
    lines.push("middleware:", "  storage:", "    - name: redirect", "      options:", `        baseurl: ${redirect.url}/`);
  }
  const configPath = join(dir, "config.yml");
  writeFileSync(configPath, lines.join("\n") + "\n");
  const proc = Bun.spawn([registryBinary(), "serve", configPath], { stdout: "ignore", stderr: "pipe" });
  const url = `${opts.tls ? "https" : "http"}://127.0.0.1:${port}`;
  try {
    await waitFor(`${url}/v2/`);
  } catch (e) {
    proc.kill();
    throw new Error(`registry failed to start: ${String(e)}`);
  }

  async function pushAuth(repo: string): Promise<Record<string, string>> {
    if (auth === "none") return {};
    if (auth === "htpasswd") return { Authorization: basicHeader(ADMIN.username, ADMIN.password) };
    const res = await fetch(`${token!.realm}?service=layerslayer-test&scope=repository:${repo}:pull,push`, {
      headers: { Authorization: basicHeader(ADMIN.username, ADMIN.password) },
    });
    const body = (await res.json()) as { token: string };
    return { Authorization: `Bearer ${body.token}` };
  }

  return {
    host: `127.0.0.1:${port}`,
    url,
    storage,
    auth,
    users,
    ...(token ? { token } : {}),
    ...(redirect ? { redirect } : {}),
    ...(certPath ? { certPath } : {}),
    pushAuth,
    async stop() {
      proc.kill();
      await proc.exited;
      token?.stop();
      cdn?.stop(true);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * One registry for the enclosing `describe` (or file): started before its tests, after `prepare`
 * (pushing its images), and stopped after them. Instead of a `let reg` with its own start and stop
 * blocks; the object returned reads through to the running registry:
 *
 *   const reg = useRegistry({}, (r) => pushImage(r, "app", "v1", …));
 *   test("…", () => … reg.host …);
 */
export function useRegistry(opts: StartOptions = {}, prepare?: (reg: TestRegistry) => Promise<unknown>): TestRegistry {
  let running: TestRegistry | undefined;
  beforeAll(async () => {
    running = await startRegistry(opts);
    await prepare?.(running);
  });
  afterAll(async () => {
    await running?.stop();
    running = undefined;
  });
  return new Proxy({} as TestRegistry, {
    get(_, key) {
      if (!running) throw new Error("useRegistry: the registry runs only during the tests of its describe block");
      return running[key as keyof TestRegistry];
    },
  });
}

/** Runs `fn` with a registry of its own, stopped afterwards whatever happens. */
export async function withRegistry<T>(fn: (reg: TestRegistry) => Promise<T>, opts: StartOptions = {}): Promise<T> {
  const reg = await startRegistry(opts);
  try {
    return await fn(reg);
  } finally {
    await reg.stop();
  }
}
