import { isLoopback } from "../ref/reference.ts";

type Net = typeof import("node:net");
let net: Net | undefined;
/**
 * node:net, loaded on first use: only NO_PROXY matching needs it, and loading it costs every
 * command about 3 MiB of memory.
 */
const loadNet = (): Net => (net ??= require("node:net") as Net);

/**
 * Forward proxies as Go programs (docker, podman, skopeo) read them: `HTTPS_PROXY` for https URLs,
 * `HTTP_PROXY` for http URLs (upper case first, then lower case), `NO_PROXY` for the exceptions.
 * A loopback host is never proxied.
 */
export interface ProxySettings {
  http?: string;
  https?: string;
  /** The NO_PROXY list, as written. */
  noProxy?: string;
}

const PROXY_VARIABLES = ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy"] as const;

let taken: Record<string, string> | undefined;

/**
 * The proxy variables of this process, taken out of `process.env` on the first call. Bun's fetch
 * applies them by itself, to loopback hosts too and with its own NO_PROXY rules; once they are
 * gone it connects directly unless a request names a proxy, so the choice is ours alone (see
 * proxyFor). Child processes that need them (credential helpers) get them back from here.
 */
export function takeProxyEnvironment(env: Record<string, string | undefined> = process.env): Record<string, string> {
  if (!taken) {
    taken = {};
    for (const name of PROXY_VARIABLES) {
      const value = env[name];
      if (value === undefined) continue;
      taken[name] = value;
      delete env[name];
    }
  }
  return taken;
}

/** The settings the variables in `env` describe; an empty value counts as unset. */
export function proxySettings(env: Record<string, string | undefined>): ProxySettings {
  const pick = (upper: string, lower: string) => env[upper] || env[lower] || undefined;
  const http = pick("HTTP_PROXY", "http_proxy");
  const https = pick("HTTPS_PROXY", "https_proxy");
  const noProxy = pick("NO_PROXY", "no_proxy");
  return { ...(http ? { http: withScheme(http) } : {}), ...(https ? { https: withScheme(https) } : {}), ...(noProxy ? { noProxy } : {}) };
}

/** `proxy:3128` means `http://proxy:3128`, as in Go and curl. */
function withScheme(value: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
}

/** The proxy URL a request to `url` goes through, or undefined for a direct connection. */
export function proxyFor(url: URL, settings: ProxySettings): string | undefined {
  const proxy = url.protocol === "https:" ? settings.https : url.protocol === "http:" ? settings.http : undefined;
  if (!proxy) return undefined;
  if (isLoopback(url.host)) return undefined;
  if (settings.noProxy && excluded(url, settings.noProxy)) return undefined;
  return proxy;
}

function defaultPort(url: URL): string {
  return url.port || (url.protocol === "https:" ? "443" : "80");
}

/**
 * NO_PROXY, with Go's rules: entries separated by commas (or spaces); `*` matches every host; an
 * IP address or CIDR block matches addresses; `name` matches the name and its subdomains, `.name`
 * (or `*.name`) its subdomains only; `:port` on an entry limits it to that port.
 */
export function excluded(url: URL, noProxy: string): boolean {
  const host = url.hostname
    .replace(/^\[|\]$/g, "")
    .toLowerCase()
    .replace(/\.$/, "");
  const port = defaultPort(url);
  const { BlockList, isIP } = loadNet();
  const hostIp = isIP(host);
  for (const raw of noProxy.split(/[,\s]+/)) {
    let entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry === "*") return true;
    const slash = entry.indexOf("/");
    if (slash > 0) {
      const addr = entry.slice(0, slash);
      const bits = Number(entry.slice(slash + 1));
      const family = isIP(addr);
      if (!family || !hostIp || family !== hostIp || !Number.isInteger(bits)) continue;
      const list = new BlockList();
      try {
        list.addSubnet(addr, bits, family === 4 ? "ipv4" : "ipv6");
      } catch {
        continue;
      }
      if (list.check(host, hostIp === 4 ? "ipv4" : "ipv6")) return true;
      continue;
    }
    let entryPort: string | undefined;
    const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
    if (bracket) {
      entry = bracket[1]!;
      entryPort = bracket[2];
    } else if (!isIP(entry)) {
      const m = /^(.*):(\d+)$/.exec(entry);
      if (m) {
        entry = m[1]!;
        entryPort = m[2];
      }
    }
    if (entryPort && entryPort !== port) continue;
    if (isIP(entry)) {
      if (hostIp && entry === host) return true;
      continue;
    }
    if (entry.startsWith("*.")) entry = entry.slice(1);
    if (entry.startsWith(".")) {
      if (host.endsWith(entry)) return true;
    } else if (host === entry || host.endsWith(`.${entry}`)) return true;
  }
  return false;
}

/** A proxy URL for logs and messages: scheme, host and port, never the credentials it may carry. */
export function describeProxy(proxy: string): string {
  try {
    const u = new URL(proxy);
    return `${u.protocol}//${u.host}`;
  } catch {
    return "the proxy";
  }
}
