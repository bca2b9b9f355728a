/**
 * Which network addresses a request may reach, for a process that fetches URLs on behalf of others
 * (`serve`). A registry, a token realm or a redirect target named by a caller or by an untrusted
 * server must not lead us to this machine (loopback), to the cloud metadata service (link-local) or
 * into the private network around us, unless the operator allowed that host by name. The check is
 * made on every hop (redirects included) and on every address the name resolves to, so neither a
 * redirect to 169.254.169.254 nor a DNS name that answers 10.0.0.1 gets through.
 *
 * The check gives back the address it approved for a name, and the transport connects to that
 * address (url-policy.ts `pinnedTarget`), so a name that answers a public address to the check and
 * a private one a moment later (DNS rebinding) is still reached at the public one. Through a forward
 * proxy the proxy looks the name up itself; docs/serve.md says so.
 */
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { LayerslayerError } from "../errors.ts";
import { escapeName } from "../names.ts";
import type { CheckedAddress, UrlCheck } from "./url-policy.ts";

export type AddressKind = "loopback" | "link-local" | "private" | "unspecified" | "public";

/** A refusal by policy (not a network failure): `serve` answers it with 403. */
export class PolicyRefusal extends LayerslayerError {
  constructor(message: string) {
    super("NETWORK", message);
    this.name = "PolicyRefusal";
  }
}

function v4Kind(ip: string): AddressKind {
  const [a = 0, b = 0] = ip.split(".").map(Number);
  if (a === 127) return "loopback";
  if (a === 0) return "unspecified";
  if (a === 169 && b === 254) return "link-local";
  if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127)) return "private";
  return "public";
}

/** Expands an IPv6 text form to its eight 16-bit groups (an embedded IPv4 tail becomes two). */
function v6Groups(ip: string): number[] {
  let text = ip.toLowerCase().split("%")[0]!;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4[1]!.split(".").map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes("::") ? text.split("::") : [text, undefined];
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const fill = tail === undefined ? [] : Array(8 - h.length - t.length).fill("0");
  return [...h, ...fill, ...t].map((g) => parseInt(g || "0", 16));
}

/** What kind of address an IP literal is (IPv4, IPv6, IPv4-mapped IPv6). */
export function addressKind(ip: string): AddressKind {
  const bare = ip.startsWith("[") ? ip.slice(1, -1) : ip;
  const family = isIP(bare);
  if (family === 4) return v4Kind(bare);
  if (family !== 6) throw new LayerslayerError("USAGE", `${escapeName(ip)} is not an IP address`);
  const g = v6Groups(bare);
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return v4Kind(`${g[6]! >> 8}.${g[6]! & 255}.${g[7]! >> 8}.${g[7]! & 255}`);
  if (g.slice(0, 7).every((x) => x === 0)) return g[7] === 1 ? "loopback" : "unspecified";
  if ((g[0]! & 0xffc0) === 0xfe80) return "link-local";
  if ((g[0]! & 0xfe00) === 0xfc00) return "private";
  return "public";
}

export interface AddressPolicyOptions {
  /** Hosts ("host" or "host:port", as a registry is named) that may be reached whatever they resolve to. */
  allowedHosts: ReadonlySet<string>;
  /** Resolves a name to its addresses (default: the system resolver, every answer). */
  resolve?: (host: string) => Promise<string[]>;
}

async function systemResolve(host: string): Promise<string[]> {
  return (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
}

/** The URL's host as a registry is named: "host" for the default port, "host:port" otherwise. */
function hostKeys(url: URL): string[] {
  const keys = [url.host.toLowerCase(), url.hostname.toLowerCase()];
  if (!url.port) keys.push(`${url.hostname.toLowerCase()}:${url.protocol === "https:" ? 443 : 80}`);
  return keys;
}

/**
 * A check for every URL about to be fetched: refuses (PolicyRefusal) a host that is, or resolves
 * to, a loopback, link-local, private or unspecified address, unless the host is allowed by name.
 * For a name it approved, it gives the first address it checked: the request goes there.
 */
export function addressPolicy(opts: AddressPolicyOptions): UrlCheck {
  const resolve = opts.resolve ?? systemResolve;
  return async (url: URL): Promise<CheckedAddress | undefined> => {
    if (hostKeys(url).some((k) => opts.allowedHosts.has(k))) return undefined;
    const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
    let addresses: string[];
    if (isIP(host)) addresses = [host];
    else {
      try {
        addresses = await resolve(host);
      } catch (e) {
        throw new LayerslayerError("NETWORK", `${escapeName(host)}: the name does not resolve`, { cause: e });
      }
      if (addresses.length === 0) throw new LayerslayerError("NETWORK", `${escapeName(host)}: the name does not resolve`);
    }
    for (const a of addresses) {
      const kind = addressKind(a);
      if (kind !== "public") {
        const via = a === host ? "" : ` (it resolves to ${a})`;
        throw new PolicyRefusal(`refusing to reach ${escapeName(url.host)}${via}: a ${kind} address; allow the registry with --allow-registry to reach it`);
      }
    }
    return isIP(host) ? undefined : { address: addresses[0]! };
  };
}
