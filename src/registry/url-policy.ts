/**
 * Which URLs a server may make us fetch. Redirect targets, token realms and foreign-layer URLs come
 * from untrusted servers: only http: and https: are ever opened (a file:, data: or s3: URL could
 * read local files or reach other services), and a step down from https to plain http happens only
 * where the user allowed plain HTTP.
 */
import { LayerslayerError, type ErrorCode } from "../errors.ts";
import { escapeName } from "../names.ts";

/**
 * A check made before every request leaves (each redirect hop and token realm too): throws to refuse
 * the URL, or gives the address it approved the URL's host name at, which the request then connects
 * to (`pinnedTarget`). `serve` installs one (address-policy.ts); the CLI has none.
 */
export type UrlCheck = (url: URL) => Promise<CheckedAddress | void>;

/** The address a check approved for a URL's host name. */
export interface CheckedAddress {
  address: string;
}

/**
 * A request to `url` pinned to `address`: the URL to fetch names the address, so nothing looks the
 * name up a second time (where a DNS answer that changed since the check, rebinding, would send it
 * elsewhere); the name stays in the Host header and, for https, is the TLS server name, which Bun's
 * fetch sends as SNI and checks the certificate against (checked here: a certificate for another
 * name fails, and a connection made for one name is not reused for another).
 */
export function pinnedTarget(url: URL, address: string): { url: string; host: string; serverName?: string } {
  const pinned = new URL(url.href);
  pinned.hostname = address.includes(":") ? `[${address}]` : address;
  return { url: pinned.href, host: url.host, ...(url.protocol === "https:" ? { serverName: url.hostname } : {}) };
}

/** Strips the query (signed URLs carry secrets) for logs and messages. */
export function redactUrl(url: string): string {
  const q = url.indexOf("?");
  return q < 0 ? url : `${url.slice(0, q)}?…`;
}

/** True for http: and https: URLs, the only ones fetched. */
export function isHttpUrl(url: URL): boolean {
  return url.protocol === "http:" || url.protocol === "https:";
}

/** A server-supplied URL for a message: no query (signed URLs carry secrets), escaped, bounded. */
export function showUrl(raw: string): string {
  const shown = escapeName(redactUrl(raw));
  return shown.length > 200 ? `${shown.slice(0, 200)}…` : shown;
}

/** The scheme of a URL for a message ("file:"), escaped. */
function schemeOf(raw: string): string {
  const m = /^([^:/?#]*):/.exec(raw);
  return m ? escapeName(`${m[1]!.slice(0, 20).toLowerCase()}:`) : "relative";
}

/**
 * Parses a URL a server handed us (relative to `base` when given) and refuses anything but
 * http(s) with `code` and a one-line message that starts with `what`.
 */
export function fetchableUrl(raw: string, what: string, code: ErrorCode, base?: string): URL {
  let url: URL;
  try {
    url = base === undefined ? new URL(raw) : new URL(raw, base);
  } catch {
    throw new LayerslayerError(code, `${what}: "${showUrl(raw)}" is not a valid URL`);
  }
  if (!isHttpUrl(url)) {
    throw new LayerslayerError(code, `${what}: refusing a ${schemeOf(url.href)} URL (only http and https are fetched)`);
  }
  return url;
}

/**
 * The URLs of a foreign layer, as a manifest gives them: never fetched, but one with a scheme other
 * than http(s) marks a hostile manifest, refused (NETWORK) wherever a foreign layer is met.
 */
export function checkForeignUrls(urls: readonly string[] | undefined, what: string): void {
  for (const url of urls ?? []) fetchableUrl(url, what, "NETWORK");
}
