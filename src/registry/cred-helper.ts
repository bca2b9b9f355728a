import { LayerslayerError } from "../errors.ts";
import { escapeName } from "../names.ts";
import type { Credentials } from "./auth.ts";
import { takeProxyEnvironment } from "./proxy.ts";

/** A helper that has not answered by then is stopped (it may be waiting on a keychain dialog). */
export const HELPER_TIMEOUT_MS = 30_000;
/** A helper's answer is a small JSON object. */
const MAX_OUTPUT_BYTES = 64 * 1024;
/** The user name a helper gives with an identity token instead of a password. */
const TOKEN_USERNAME = "<token>";

/** Helper names come from config files: a name, never a path. */
const HELPER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export interface HelperOptions {
  /** The file that named the helper, for messages. */
  origin: string;
  timeoutMs?: number;
  env?: Record<string, string | undefined>;
}

/** The server URL docker hands its helpers: Docker Hub's historical URL, else the host[:port]. */
export function helperServerUrl(registry: string): string {
  return registry === "docker.io" ? "https://index.docker.io/v1/" : registry;
}

/** Reads at most MAX_OUTPUT_BYTES of a stream (draining the rest); `stop` abandons it at once. */
function readCapped(stream: ReadableStream<Uint8Array>): { text: Promise<string>; stop: () => void } {
  const reader = stream.getReader();
  const text = (async () => {
    const parts: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const room = MAX_OUTPUT_BYTES - total;
      if (room <= 0) continue;
      parts.push(value.subarray(0, room));
      total += Math.min(value.byteLength, room);
    }
    return new TextDecoder().decode(Buffer.concat(parts));
  })();
  return { text, stop: () => void reader.cancel().catch(() => {}) };
}

/** The first line of what a helper said, made safe to print. */
function firstLine(text: string): string {
  const line = text.trim().split("\n")[0] ?? "";
  return escapeName(line.length > 200 ? `${line.slice(0, 200)}…` : line);
}

/** What a helper run said: its exit code and (capped) output. */
interface HelperRun {
  program: string;
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `docker-credential-NAME ACTION` with `input` on stdin, within the timeout: a helper that
 * hangs (or leaves a child holding its output open) is killed and abandoned. A name that is not a
 * helper name, a missing helper and a timeout are AUTH errors naming the helper.
 */
async function runHelper(name: string, action: "get" | "store" | "erase", input: string, opts: HelperOptions): Promise<HelperRun> {
  const program = `docker-credential-${name}`;
  if (!HELPER_NAME.test(name)) throw new LayerslayerError("AUTH", `${opts.origin} names the credential helper "${escapeName(name)}", which is not a valid helper name`);
  const env = { ...(opts.env ?? process.env), ...takeProxyEnvironment() };
  let proc: ReturnType<typeof Bun.spawn>;
  try {
    proc = Bun.spawn([program, action], { stdin: "pipe", stdout: "pipe", stderr: "pipe", env: env as Record<string, string> });
  } catch {
    throw new LayerslayerError("AUTH", `the credential helper ${program} (named in ${opts.origin}) is not on PATH`);
  }
  const timeoutMs = opts.timeoutMs ?? HELPER_TIMEOUT_MS;
  const out = readCapped(proc.stdout as ReadableStream<Uint8Array>);
  const err = readCapped(proc.stderr as ReadableStream<Uint8Array>);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((resolve) => {
    timer = setTimeout(() => resolve("late"), timeoutMs);
  });
  try {
    const stdin = proc.stdin as import("bun").FileSink;
    try {
      stdin.write(input);
      await stdin.end();
    } catch {} // a helper that exits without reading its input is judged by its exit below
    const answer = await Promise.race([Promise.all([proc.exited, out.text, err.text]), late]);
    if (answer === "late") {
      proc.kill("SIGKILL");
      out.stop();
      err.stop();
      throw new LayerslayerError("AUTH", `the credential helper ${program} did not answer within ${timeoutMs / 1000} s`);
    }
    const [code, stdout, stderr] = answer;
    return { program, code, stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
}

/** The AUTH error for a helper that exited non-zero: its first line of output, escaped. */
function helperFailed(run: HelperRun, action: string, registry: string): LayerslayerError {
  const said = firstLine(run.stdout) || firstLine(run.stderr);
  return new LayerslayerError("AUTH", `the credential helper ${run.program} failed to ${action} the login for ${registry} (exit ${run.code})${said ? `: ${said}` : ""}`);
}

/**
 * Asks `docker-credential-NAME get` for the login to `registry`, as docker does: the server URL on
 * stdin, `{"Username": …, "Secret": …}` on stdout (user name `<token>`: the secret is an identity
 * token). "credentials not found" means there is no login (undefined: anonymous); any other failure,
 * a missing helper or one that does not answer in time is an AUTH error naming the helper.
 */
export async function helperCredentials(name: string, registry: string, opts: HelperOptions): Promise<Credentials | undefined> {
  const run = await runHelper(name, "get", helperServerUrl(registry), opts);
  const { program, code, stdout, stderr } = run;
  if (code !== 0) {
    if (/credentials not found/i.test(stdout) || /credentials not found/i.test(stderr)) return undefined;
    const said = firstLine(stdout) || firstLine(stderr);
    throw new LayerslayerError("AUTH", `the credential helper ${program} failed for ${registry} (exit ${code})${said ? `: ${said}` : ""}`);
  }
  let doc: { Username?: unknown; Secret?: unknown };
  try {
    doc = JSON.parse(stdout) as typeof doc;
  } catch {
    throw new LayerslayerError("AUTH", `the credential helper ${program} answered for ${registry} with something that is not JSON`);
  }
  const username = typeof doc?.Username === "string" ? doc.Username : "";
  const secret = typeof doc?.Secret === "string" ? doc.Secret : "";
  if (!secret) throw new LayerslayerError("AUTH", `the credential helper ${program} answered for ${registry} without a Secret`);
  if (username === TOKEN_USERNAME) return { identityToken: secret };
  return { username, password: secret };
}

/** `docker-credential-NAME store`: hands the helper the login for `registry` (`{ServerURL, Username, Secret}` on stdin), as `docker login` does. */
export async function helperStore(name: string, registry: string, login: { username: string; password: string }, opts: HelperOptions): Promise<void> {
  const input = JSON.stringify({ ServerURL: helperServerUrl(registry), Username: login.username, Secret: login.password });
  const run = await runHelper(name, "store", input, opts);
  if (run.code !== 0) throw helperFailed(run, "store", registry);
}

/** `docker-credential-NAME erase`: the helper forgets the login for `registry`; false when it had none. */
export async function helperErase(name: string, registry: string, opts: HelperOptions): Promise<boolean> {
  const run = await runHelper(name, "erase", helperServerUrl(registry), opts);
  if (run.code === 0) return true;
  if (/credentials not found/i.test(run.stdout) || /credentials not found/i.test(run.stderr)) return false;
  throw helperFailed(run, "erase", registry);
}
