/**
 * What `serve` is allowed to do, decided once at start-up from its flags: where it listens, who may
 * call it (a bearer token, required beyond loopback), which registries it may reach, and how much
 * one request or one client may take.
 */
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { LayerslayerError } from "../errors.ts";
import { escapeName } from "../names.ts";
import { apiHost } from "../ref/reference.ts";
import { addressKind } from "../registry/address-policy.ts";

export interface Caps {
  /** Largest peek budget a request may ask for (compressed bytes per layer). */
  maxBudget: number;
  /** Downloading requests (peek, ls, find, cat, layer download) one client may have running. */
  downloadsPerClient: number;
  /** Downloading requests running for all clients together. */
  downloadsTotal: number;
  /** Requests of any kind one client may start per minute. */
  requestsPerMinute: number;
  /** A request still running after this long is stopped (its downloads with it). */
  requestTimeoutMs: number;
  /** Largest request body accepted (only POST /v1/scans takes one; any other is refused). */
  maxBodyBytes: number;
  /** Scan jobs running at once (more wait their turn). */
  scanJobs: number;
  /** Scan jobs held, finished or not (a new one pushes out the oldest finished one). */
  scanJobsKept: number;
  /** A scan job still running after this long is stopped. */
  scanJobTimeoutMs: number;
}

export interface ServeConfig {
  hostname: string;
  port: number;
  /** Listening on loopback only (127.0.0.0/8, ::1, localhost): no token needed. */
  loopbackOnly: boolean;
  /** The bearer token callers must send (always checked when set). */
  token?: string;
  /** Registries callers may name, as references name them ("127.0.0.1:5000", "docker.io"); empty = any public registry (loopback only). */
  allowRegistries: ReadonlySet<string>;
  /** The origin allowed to call from a browser page (CORS); none by default. */
  cors?: string;
  /** Use the local cache of listings, manifests and configs. */
  useCache: boolean;
  /** One line per request on stderr. */
  accessLog: boolean;
  /** The scan database `search` reads (as `--db` names it; default LAYERSLAYER_DB, then the cache's). */
  db?: string;
  /** Connections a whole-layer read uses at once (the registry client's `connections`). */
  connections?: number;
  caps: Caps;
}

export const DEFAULT_CAPS: Caps = {
  maxBudget: 16 * 1024 * 1024,
  downloadsPerClient: 4,
  downloadsTotal: 32,
  requestsPerMinute: 600,
  requestTimeoutMs: 5 * 60_000,
  maxBodyBytes: 64 * 1024,
  scanJobs: 2,
  scanJobsKept: 100,
  scanJobTimeoutMs: 60 * 60_000,
};

/** A token shorter than this is refused: it could be guessed. */
const MIN_TOKEN_LENGTH = 16;

/** Splits "HOST:PORT", "[V6]:PORT" or ":PORT" (every address). */
export function parseListen(value: string): { hostname: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new LayerslayerError("USAGE", `--listen ${escapeName(value)}: expected HOST:PORT, e.g. 127.0.0.1:8080 or [::1]:8080`);
  const hostname = m[1] ?? (m[2] || "0.0.0.0");
  return { hostname, port };
}

/** True for an address only this machine can reach. */
export function isLoopbackHost(hostname: string): boolean {
  if (hostname === "localhost") return true;
  return isIP(hostname) !== 0 && addressKind(hostname) === "loopback";
}

/** A registry as references name it, lower-cased: "Docker.io" → "docker.io". */
export function registryKey(registry: string): string {
  return registry.trim().toLowerCase();
}

/** The token from --token-file or LAYERSLAYER_SERVE_TOKEN (the file wins), trimmed of its line end. */
export function readToken(tokenFile: string | undefined, env: Record<string, string | undefined>): string | undefined {
  let token: string | undefined;
  if (tokenFile !== undefined) {
    try {
      token = readFileSync(tokenFile, "utf8");
    } catch (e) {
      throw new LayerslayerError("USAGE", `--token-file ${escapeName(tokenFile)}: cannot read it (${(e as { code?: string }).code ?? "error"})`);
    }
  } else token = env.LAYERSLAYER_SERVE_TOKEN;
  if (token === undefined) return undefined;
  token = token.replace(/\r?\n$/, "");
  if (token.length < MIN_TOKEN_LENGTH || /\s/.test(token)) {
    throw new LayerslayerError("USAGE", `the serve token must be at least ${MIN_TOKEN_LENGTH} characters with no spaces (e.g. openssl rand -hex 32)`);
  }
  return token;
}

export interface ServeFlags {
  listen?: string;
  tokenFile?: string;
  allowRegistry?: string[];
  cors?: string;
  cache?: boolean;
  accessLog?: boolean;
  db?: string;
  connections?: number;
  caps?: Partial<Caps>;
}

/** The configuration the flags ask for; a token is required unless listening on loopback only. */
export function serveConfig(flags: ServeFlags, env: Record<string, string | undefined> = process.env): ServeConfig {
  const { hostname, port } = parseListen(flags.listen ?? "127.0.0.1:8080");
  const loopbackOnly = isLoopbackHost(hostname);
  const token = readToken(flags.tokenFile, env);
  if (!loopbackOnly && !token) {
    throw new LayerslayerError("USAGE", `--listen ${escapeName(hostname)}: listening beyond loopback needs a bearer token (--token-file FILE or LAYERSLAYER_SERVE_TOKEN)`);
  }
  const allow = new Set<string>();
  for (const r of flags.allowRegistry ?? []) {
    for (const one of r.split(",")) if (one.trim()) allow.add(registryKey(one));
  }
  if (flags.cors !== undefined) {
    let origin: URL;
    try {
      origin = new URL(flags.cors);
    } catch {
      throw new LayerslayerError("USAGE", `--cors ${escapeName(flags.cors)}: expected an origin, e.g. https://tools.example.com`);
    }
    if (origin.origin !== flags.cors.replace(/\/$/, ""))
      throw new LayerslayerError("USAGE", `--cors ${escapeName(flags.cors)}: expected an origin (scheme://host[:port]), nothing after it`);
  }
  return {
    hostname,
    port,
    loopbackOnly,
    ...(token ? { token } : {}),
    allowRegistries: allow,
    ...(flags.cors !== undefined ? { cors: new URL(flags.cors).origin } : {}),
    useCache: flags.cache !== false,
    accessLog: flags.accessLog !== false,
    ...(flags.db !== undefined ? { db: flags.db } : {}),
    ...(flags.connections !== undefined ? { connections: flags.connections } : {}),
    caps: { ...DEFAULT_CAPS, ...flags.caps },
  };
}

/** The hosts the address policy lets through whatever they resolve to: each allowed registry's API host. */
export function allowedHosts(cfg: ServeConfig): Set<string> {
  const hosts = new Set<string>();
  for (const r of cfg.allowRegistries) {
    hosts.add(r);
    hosts.add(apiHost(r).toLowerCase());
  }
  return hosts;
}

/**
 * Refuses a registry the configuration does not allow: outside a non-empty allow-list, or any
 * registry not on one when listening beyond loopback.
 */
export function checkRegistry(cfg: ServeConfig, registry: string): void {
  const key = registryKey(registry);
  if (cfg.allowRegistries.has(key)) return;
  if (cfg.allowRegistries.size > 0 || !cfg.loopbackOnly) {
    const why = cfg.allowRegistries.size > 0 ? "is not in the allow-list" : "is refused: listening beyond loopback, only registries named";
    throw new RegistryRefused(`registry ${escapeName(registry)} ${why} by --allow-registry`);
  }
}

/** A registry the configuration refuses (403). */
export class RegistryRefused extends LayerslayerError {
  constructor(message: string) {
    super("USAGE", message);
    this.name = "RegistryRefused";
  }
}
