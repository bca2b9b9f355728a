import { readFileSync } from "node:fs";
import { join } from "node:path";
import { LayerslayerError } from "../errors.ts";
import { homeDirectory } from "../home.ts";
import { canonicalRegistry } from "../ref/reference.ts";
import type { Credentials, CredentialSource } from "./auth.ts";
import { helperCredentials } from "./cred-helper.ts";

/**
 * Logins stored by `docker login`, `podman login` and `skopeo login`, looked up the way podman
 * does: `--authfile`, then `REGISTRY_AUTH_FILE`, `$XDG_RUNTIME_DIR/containers/auth.json`,
 * `~/.config/containers/auth.json`, and docker's `$DOCKER_CONFIG/config.json` (or
 * `~/.docker/config.json`). The first file that knows the registry gives the login.
 */

export interface AuthEntry {
  auth?: unknown;
  username?: unknown;
  password?: unknown;
  identitytoken?: unknown;
}

export interface AuthFile {
  auths?: Record<string, AuthEntry> | undefined;
  credHelpers?: Record<string, unknown> | undefined;
  credsStore?: unknown;
}

export interface AuthFileOptions {
  /** `--authfile`: must exist. */
  authfile?: string;
  env?: Record<string, string | undefined>;
  /** Time a credential helper gets to answer. */
  helperTimeoutMs?: number;
}

/** The files to look in, first to last; `required` for one the user named on the command line. */
export function authFilePaths(opts: AuthFileOptions = {}): { path: string; required: boolean }[] {
  const env = opts.env ?? process.env;
  const home = homeDirectory(env);
  const out: { path: string; required: boolean }[] = [];
  if (opts.authfile) out.push({ path: opts.authfile, required: true });
  if (env.REGISTRY_AUTH_FILE) out.push({ path: env.REGISTRY_AUTH_FILE, required: false });
  if (env.XDG_RUNTIME_DIR) out.push({ path: join(env.XDG_RUNTIME_DIR, "containers", "auth.json"), required: false });
  if (home) out.push({ path: join(home, ".config", "containers", "auth.json"), required: false });
  const docker = env.DOCKER_CONFIG || (home ? join(home, ".docker") : undefined);
  if (docker) out.push({ path: join(docker, "config.json"), required: false });
  return out;
}

export function readAuthFile(path: string, required: boolean): AuthFile | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (!required && (code === "ENOENT" || code === "ENOTDIR")) return undefined;
    if (code === "ENOENT") throw new LayerslayerError("USAGE", `--authfile ${path}: no such file`);
    throw new LayerslayerError("AUTH", `cannot read the auth file ${path}: ${code ?? (e as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new LayerslayerError("AUTH", `the auth file ${path} is not valid JSON`);
  }
  if (!doc || typeof doc !== "object" || Array.isArray(doc)) throw new LayerslayerError("AUTH", `the auth file ${path} is not a JSON object`);
  return doc as AuthFile;
}

/**
 * A key of `auths` or `credHelpers` as "registry[/path]": a URL key (`https://index.docker.io/v1/`)
 * names its host only; a plain key may name a namespace or repository (podman's `host/ns/repo`).
 */
export function normalizeKey(key: string): string {
  let k = key.trim();
  const url = /^[a-z][a-z0-9+.-]*:\/\//i.exec(k);
  if (url) k = k.slice(url[0].length).split("/")[0]!;
  k = k.replace(/\/+$/, "");
  const slash = k.indexOf("/");
  const host = canonicalRegistry((slash < 0 ? k : k.slice(0, slash)).toLowerCase());
  return slash < 0 ? host : `${host}${k.slice(slash)}`;
}

/** The `auths` key that best matches registry/repository: the longest one that covers it. */
export function bestKey(keys: Iterable<string>, registry: string, repository: string): string | undefined {
  const target = repository ? `${registry}/${repository}` : registry;
  let best: string | undefined;
  let bestLength = -1;
  for (const key of keys) {
    const n = normalizeKey(key);
    if (n !== target && !target.startsWith(`${n}/`)) continue;
    if (n.length > bestLength) {
      best = key;
      bestLength = n.length;
    }
  }
  return best;
}

/** An `auths` entry's login; undefined for an empty entry (docker writes `{}` when a helper holds the secret). */
function entryCredentials(entry: AuthEntry, where: string): Credentials | undefined {
  if (typeof entry.identitytoken === "string" && entry.identitytoken) {
    const username = typeof entry.username === "string" && entry.username ? entry.username : undefined;
    return { identityToken: entry.identitytoken, ...(username ? { username } : {}) };
  }
  if (typeof entry.username === "string" && entry.username && typeof entry.password === "string") {
    return { username: entry.username, password: entry.password };
  }
  if (typeof entry.auth === "string" && entry.auth) {
    const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon <= 0) throw new LayerslayerError("AUTH", `${where}: "auth" is not base64 of user:password`);
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  return undefined;
}

type Found = { credentials: Credentials } | { helper: string } | undefined;

/** What one file says for registry/repository: credHelpers, then auths (most specific key), then credsStore. */
export function lookupInFile(doc: AuthFile, path: string, registry: string, repository: string): Found {
  const helpers = doc.credHelpers && typeof doc.credHelpers === "object" ? doc.credHelpers : {};
  for (const [key, name] of Object.entries(helpers)) {
    if (normalizeKey(key) === registry && typeof name === "string" && name) return { helper: name };
  }
  const auths = doc.auths && typeof doc.auths === "object" ? doc.auths : {};
  const key = bestKey(Object.keys(auths), registry, repository);
  const entry = key !== undefined ? auths[key] : undefined;
  if (entry && typeof entry === "object") {
    const credentials = entryCredentials(entry, `${path}, auths["${key}"]`);
    if (credentials) return { credentials };
  }
  if (typeof doc.credsStore === "string" && doc.credsStore) return { helper: doc.credsStore };
  return undefined;
}

/**
 * The login for registry/repository from the auth files, running a credential helper where a
 * file names one. A helper that has no login for the registry passes the question to the next
 * file; no file knowing the registry means anonymous access.
 */
export async function authFileCredentials(registry: string, repository: string, opts: AuthFileOptions = {}): Promise<Credentials | undefined> {
  for (const { path, required } of authFilePaths(opts)) {
    const doc = readAuthFile(path, required);
    if (!doc) continue;
    const found = lookupInFile(doc, path, registry, repository);
    if (!found) continue;
    if ("credentials" in found) return found.credentials;
    const fromHelper = await helperCredentials(found.helper, registry, {
      origin: path,
      ...(opts.env ? { env: opts.env } : {}),
      ...(opts.helperTimeoutMs ? { timeoutMs: opts.helperTimeoutMs } : {}),
    });
    if (fromHelper) return fromHelper;
  }
  return undefined;
}

/** A CredentialSource over the auth files, for one registry. */
export function authFileSource(registry: string, opts: AuthFileOptions = {}): CredentialSource {
  return (repository) => authFileCredentials(registry, repository, opts);
}
