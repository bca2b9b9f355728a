/**
 * Saving and removing logins where docker and podman read them (auth-files.ts reads them back).
 *
 * A login goes to one file: `--authfile`; else the first file of the lookup order that already
 * knows the registry (so the new login is the one read back, not shadowed by an older one); else
 * `$REGISTRY_AUTH_FILE`; else docker's `config.json`, which podman and skopeo read as well. When
 * that file names a credential helper for the registry (`credHelpers`) or for every registry
 * (`credsStore`), the helper stores the secret and the file keeps none, as `docker login` does.
 *
 * Files are replaced atomically: the new text goes to a temp file in the same directory created
 * with mode 0600, then renamed over the old one; a failure removes the temp file, so no secret is
 * left behind. Everything else in the file (other registries, other keys) is kept as it was.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { LayerslayerError } from "../errors.ts";
import { authFilePaths, normalizeKey, readAuthFile, type AuthFile, type AuthFileOptions } from "./auth-files.ts";
import { helperErase, helperServerUrl, helperStore } from "./cred-helper.ts";

/** Where a login was saved: the file, and the helper holding the secret when one does. */
export interface SavedLogin {
  path: string;
  helper?: string;
}

function objectOf(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** The `auths` keys that name exactly this registry (`host`, `https://host/v1/`, …), not a namespace in it. */
function registryKeys(doc: AuthFile, registry: string): string[] {
  return Object.keys(objectOf(doc.auths) ?? {}).filter((k) => normalizeKey(k) === registry);
}

/** The helper a file has the registry's secrets kept by: its `credHelpers` entry, else `credsStore`. */
function storeHelper(doc: AuthFile, registry: string): { name: string; everyRegistry: boolean } | undefined {
  for (const [key, name] of Object.entries(objectOf(doc.credHelpers) ?? {})) {
    if (normalizeKey(key) === registry && typeof name === "string" && name) return { name, everyRegistry: false };
  }
  return typeof doc.credsStore === "string" && doc.credsStore ? { name: doc.credsStore, everyRegistry: true } : undefined;
}

/** The file `login` writes to (see the top of this file). */
export function loginFile(registry: string, opts: AuthFileOptions = {}): string {
  if (opts.authfile) return opts.authfile;
  const env = opts.env ?? process.env;
  for (const { path } of authFilePaths({ env })) {
    const doc = readAuthFile(path, false);
    if (doc && (registryKeys(doc, registry).length > 0 || Object.keys(objectOf(doc.credHelpers) ?? {}).some((k) => normalizeKey(k) === registry))) return path;
  }
  if (env.REGISTRY_AUTH_FILE) return env.REGISTRY_AUTH_FILE;
  const docker = authFilePaths({ env }).at(-1);
  if (!docker) throw new LayerslayerError("USAGE", "no home directory to keep the login in: give --authfile FILE (or set REGISTRY_AUTH_FILE or DOCKER_CONFIG)");
  return docker.path;
}

/** Replaces `path` with `text` atomically, mode 0600 (see the top of this file). */
export function writeAtomically(path: string, text: string): void {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${crypto.randomUUID().slice(0, 8)}.tmp`);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const fd = openSync(tmp, "wx", 0o600);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    const code = (e as { code?: string }).code;
    throw new LayerslayerError("IO", `cannot write the auth file ${path}: ${code ?? (e as Error).message}`, { cause: e });
  }
}

function serialize(doc: AuthFile): string {
  return `${JSON.stringify(doc, null, "\t")}\n`;
}

/** Saves a login checked beforehand; returns where it went. */
export async function saveLogin(registry: string, login: { username: string; password: string }, opts: AuthFileOptions = {}): Promise<SavedLogin> {
  const path = loginFile(registry, opts);
  const doc: AuthFile = readAuthFile(path, false) ?? {};
  const auths: Record<string, unknown> = { ...(objectOf(doc.auths) ?? {}) };
  for (const key of registryKeys(doc, registry)) delete auths[key];
  const helper = storeHelper(doc, registry);
  const env = opts.env ?? process.env;
  if (helper) {
    await helperStore(helper.name, registry, login, { origin: path, env, ...(opts.helperTimeoutMs ? { timeoutMs: opts.helperTimeoutMs } : {}) });
    // docker leaves an empty entry for a registry whose secret the credsStore keeps.
    if (helper.everyRegistry) auths[helperServerUrl(registry)] = {};
  } else {
    auths[helperServerUrl(registry)] = { auth: Buffer.from(`${login.username}:${login.password}`, "utf8").toString("base64") };
  }
  writeAtomically(path, serialize({ ...doc, auths: auths as AuthFile["auths"] }));
  return { path, ...(helper ? { helper: helper.name } : {}) };
}

/**
 * Removes the registry's login: its `auths` entries (only those naming the registry itself) from
 * `--authfile`, or from every file of the lookup order, and from the helper that keeps its
 * secret. Returns the files and helpers it was removed from (none: there was no login).
 */
export async function removeLogin(registry: string, opts: AuthFileOptions = {}): Promise<string[]> {
  const env = opts.env ?? process.env;
  const paths = opts.authfile ? [opts.authfile] : [...new Set(authFilePaths({ env }).map((p) => p.path))];
  const removed: string[] = [];
  for (const path of paths) {
    const doc = readAuthFile(path, false);
    if (!doc) continue;
    const helper = storeHelper(doc, registry);
    if (helper && (await helperErase(helper.name, registry, { origin: path, env, ...(opts.helperTimeoutMs ? { timeoutMs: opts.helperTimeoutMs } : {}) }))) {
      removed.push(`docker-credential-${helper.name}`);
    }
    const keys = registryKeys(doc, registry);
    if (keys.length === 0) continue;
    const auths = { ...(objectOf(doc.auths) ?? {}) };
    for (const key of keys) delete auths[key];
    writeAtomically(path, serialize({ ...doc, auths: auths as AuthFile["auths"] }));
    removed.push(path);
  }
  return removed;
}
