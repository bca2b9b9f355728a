import { LayerslayerError } from "../errors.ts";
import { escapeName } from "../names.ts";

/** A parsed image reference, normalised the way docker and the distribution spec do it. */
export interface ImageRef {
  /** Registry name as the user knows it: "docker.io", "ghcr.io", "localhost:5000", "[::1]:5000". */
  registry: string;
  /** Repository path inside the registry: "library/alpine", "a/b/c". */
  repository: string;
  tag?: string;
  /** "sha256:<hex>": wins over the tag when both are given. */
  digest?: string;
}

export const DEFAULT_REGISTRY = "docker.io";
export const DEFAULT_TAG = "latest";

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^([a-z0-9]+(?:[.+_-][a-z0-9]+)*):([A-Za-z0-9=_-]+)$/;
const DIGEST_HEX: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };
const HOST_LABEL = /^(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])$/;

/** A reference may come from a file or a server (a catalog): the message shows it escaped. */
function bad(input: string, why: string): LayerslayerError {
  return new LayerslayerError("USAGE", `invalid image reference "${escapeName(input)}": ${escapeName(why)}`);
}

/** What is wrong with a digest ("algo:hex", known algorithms with their hex length), or undefined when nothing is. */
export function digestProblem(value: string): string | undefined {
  const m = DIGEST.exec(value);
  if (!m) return `digest "${value}" is not of the form algorithm:hex`;
  const [, algo, hex] = m as unknown as [string, string, string];
  const want = DIGEST_HEX[algo];
  if (want !== undefined && (hex.length !== want || !/^[a-f0-9]+$/.test(hex))) return `${algo} digest must be ${want} lower-case hex characters`;
  return undefined;
}

/** Checks "algo:hex" and returns it; throws a USAGE error naming the bad part. */
export function parseDigest(value: string, input = value): string {
  const problem = digestProblem(value);
  if (problem) throw bad(input, problem);
  return value;
}

/**
 * True for a repository name as the distribution grammar allows it (lower-case components joined
 * by "/", at most 255 characters): what a name from a server must be before it is printed as one
 * or put in a URL.
 */
export function isRepositoryName(name: string): boolean {
  return name.length > 0 && name.length <= 255 && name.split("/").every((c) => COMPONENT.test(c));
}

/** True for a tag as the distribution grammar allows it. */
export function isTagName(tag: string): boolean {
  return TAG.test(tag);
}

function validHost(host: string): boolean {
  let name = host;
  let port: string | undefined;
  if (name.startsWith("[")) {
    const end = name.indexOf("]");
    if (end < 0) return false;
    const inside = name.slice(1, end);
    if (!/^[0-9A-Fa-f:.]+$/.test(inside) || !inside.includes(":")) return false;
    const rest = name.slice(end + 1);
    if (rest === "") return true;
    if (!rest.startsWith(":")) return false;
    port = rest.slice(1);
    return /^\d{1,5}$/.test(port) && Number(port) <= 65535;
  }
  const colon = name.lastIndexOf(":");
  if (colon >= 0) {
    port = name.slice(colon + 1);
    name = name.slice(0, colon);
    if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) return false;
  }
  return name.split(".").every((l) => HOST_LABEL.test(l));
}

/** True when the first path component names a registry host rather than a namespace. */
function looksLikeHost(first: string): boolean {
  return first.includes(".") || first.includes(":") || first === "localhost" || first.startsWith("[");
}

/**
 * Parses an image reference: `alpine`, `user/repo:tag`, `host:port/a/b@sha256:…`, `[::1]:5000/x:t@sha256:…`.
 * `requireTagOrDigest: false` (the default) fills in `latest` when neither is given; with
 * `allowBare` the tag is left empty (for commands that take a repository, like `tags`).
 */
export function parseReference(input: string, opts: { allowBare?: boolean } = {}): ImageRef {
  const s = input.trim();
  if (s === "") throw bad(input, "it is empty");
  if (/\s/.test(s)) throw bad(input, "it contains white space");
  let rest = s;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = parseDigest(rest.slice(at + 1), input);
    rest = rest.slice(0, at);
  }
  let registry = DEFAULT_REGISTRY;
  const slash = rest.indexOf("/");
  if (slash >= 0 && looksLikeHost(rest.slice(0, slash))) {
    registry = rest.slice(0, slash);
    rest = rest.slice(slash + 1);
    if (!validHost(registry)) throw bad(input, `registry host "${registry}" is not a valid host[:port]`);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf("/");
  const colon = rest.indexOf(":", lastSlash + 1);
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw bad(input, `tag "${tag}" may only hold letters, digits, '_', '.', '-' (at most 128, not starting with '.' or '-')`);
  }
  if (rest === "") throw bad(input, "the repository name is missing");
  const components = rest.split("/");
  for (const c of components) {
    if (c === "") throw bad(input, `repository "${rest}" has an empty path component`);
    if (!COMPONENT.test(c)) {
      const hint = c !== c.toLowerCase() ? " (repository names must be lower-case)" : "";
      throw bad(input, `repository component "${c}" is not valid${hint}`);
    }
  }
  if (rest.length > 255) throw bad(input, "the repository name is longer than 255 characters");
  let repository = rest;
  registry = canonicalRegistry(registry);
  if (registry === DEFAULT_REGISTRY && components.length === 1) repository = `library/${rest}`;
  if (!tag && !digest && !opts.allowBare) tag = DEFAULT_TAG;
  return { registry, repository, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** Docker Hub's other names are docker.io. */
export function canonicalRegistry(host: string): string {
  return host === "index.docker.io" || host === "registry-1.docker.io" ? DEFAULT_REGISTRY : host;
}

/**
 * Parses a registry name given on its own (`catalog REGISTRY`): `host[:port]`, `[v6]:port`,
 * optionally written as a URL (`https://host/`, as `docker login` accepts it).
 */
export function parseRegistry(input: string): string {
  const s = input
    .trim()
    .replace(/^https?:\/\//i, "")
    .replace(/\/+$/, "");
  if (s === "" || /[\s/@]/.test(s) || !validHost(s)) {
    throw new LayerslayerError("USAGE", `invalid registry "${escapeName(input)}": expected host[:port], e.g. localhost:5000 or ghcr.io`);
  }
  return canonicalRegistry(s.toLowerCase());
}

/** The host that serves the registry API for a registry name. */
export function apiHost(registry: string): string {
  return registry === DEFAULT_REGISTRY ? "registry-1.docker.io" : registry;
}

/** Hosts that speak plain HTTP by default: localhost, 127.0.0.0/8 and ::1. */
export function isLoopback(registry: string): boolean {
  let host = registry;
  if (host.startsWith("[")) host = host.slice(1, host.indexOf("]"));
  else if (host.includes(":")) host = host.slice(0, host.lastIndexOf(":"));
  return host === "localhost" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** What to ask the registry for: the digest when there is one, else the tag. */
export function manifestReference(ref: ImageRef): string {
  return ref.digest ?? ref.tag ?? DEFAULT_TAG;
}

/** Canonical form: registry/repository[:tag][@digest]. */
export function formatReference(ref: ImageRef): string {
  return `${ref.registry}/${ref.repository}${ref.tag ? `:${ref.tag}` : ""}${ref.digest ? `@${ref.digest}` : ""}`;
}
