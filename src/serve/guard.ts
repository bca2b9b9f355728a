/**
 * Who may call and how much: the bearer token (compared in constant time), CORS (closed unless an
 * origin was configured), and per-client and total limits on requests and downloads.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { Caps } from "./config.ts";

/** An HTTP refusal made by the server itself: status, a stable code, a one-line message. */
export class HttpRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "HttpRefusal";
  }
}

const digest = (s: string): Buffer => createHash("sha256").update(s, "utf8").digest();

/**
 * Checks `Authorization: Bearer TOKEN`. Both sides are hashed first, so the comparison is of equal
 * lengths and takes the same time whatever the caller sent.
 */
export function tokenCheck(token: string | undefined): (req: Request) => void {
  if (token === undefined) return () => {};
  const expected = digest(token);
  return (req) => {
    const header = req.headers.get("authorization") ?? "";
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const ok = m ? timingSafeEqual(digest(m[1]!), expected) : false;
    if (!ok)
      throw new HttpRefusal(401, "UNAUTHORIZED", m ? "the bearer token is wrong" : "a bearer token is required (Authorization: Bearer TOKEN)", {
        "WWW-Authenticate": 'Bearer realm="layerslayer"',
      });
  };
}

/** CORS headers for a response: only for the configured origin, and only when the request came from it. */
export function corsHeaders(allowed: string | undefined, req: Request): Record<string, string> {
  const origin = req.headers.get("origin");
  if (!allowed || origin !== allowed) return {};
  return { "Access-Control-Allow-Origin": allowed, Vary: "Origin", "Access-Control-Expose-Headers": "ETag, Content-Length, X-Layerslayer-Verified, Docker-Content-Digest" };
}

/** The answer to a CORS preflight (OPTIONS): allowed for the configured origin, refused otherwise. */
export function preflight(allowed: string | undefined, req: Request): Response {
  const cors = corsHeaders(allowed, req);
  if (!cors["Access-Control-Allow-Origin"]) return new Response(null, { status: 403 });
  return new Response(null, {
    status: 204,
    headers: { ...cors, "Access-Control-Allow-Methods": "GET, HEAD, POST, DELETE", "Access-Control-Allow-Headers": "Authorization, Content-Type", "Access-Control-Max-Age": "600" },
  });
}

interface ClientState {
  /** Start of the current one-minute window, and requests started in it. */
  windowStart: number;
  requests: number;
  downloads: number;
}

/** Request rate and download concurrency, per client (its address) and in all. */
export class Limits {
  private readonly clients = new Map<string, ClientState>();
  private downloads = 0;

  constructor(
    private readonly caps: Caps,
    private readonly now: () => number = Date.now,
  ) {}

  private state(client: string): ClientState {
    let s = this.clients.get(client);
    const t = this.now();
    if (!s) {
      s = { windowStart: t, requests: 0, downloads: 0 };
      this.clients.set(client, s);
    }
    if (t - s.windowStart >= 60_000) {
      s.windowStart = t;
      s.requests = 0;
    }
    return s;
  }

  /** Counts a request; refuses (429) past the client's requests per minute. */
  request(client: string): void {
    const s = this.state(client);
    if (s.requests >= this.caps.requestsPerMinute) {
      const wait = Math.max(1, Math.ceil((s.windowStart + 60_000 - this.now()) / 1000));
      throw new HttpRefusal(429, "TOO_MANY_REQUESTS", `more than ${this.caps.requestsPerMinute} requests a minute from this client`, { "Retry-After": String(wait) });
    }
    s.requests++;
    this.sweep();
  }

  /** Takes a download slot; refuses (429) past the client's or the server's limit. Returns its release. */
  download(client: string): () => void {
    const s = this.state(client);
    if (s.downloads >= this.caps.downloadsPerClient) {
      throw new HttpRefusal(429, "TOO_MANY_REQUESTS", `this client already has ${s.downloads} downloads running (the limit)`, { "Retry-After": "1" });
    }
    if (this.downloads >= this.caps.downloadsTotal) {
      throw new HttpRefusal(503, "BUSY", `the server has ${this.downloads} downloads running (the limit)`, { "Retry-After": "1" });
    }
    s.downloads++;
    this.downloads++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      s.downloads--;
      this.downloads--;
    };
  }

  /** Running downloads, in all. */
  get running(): number {
    return this.downloads;
  }

  /** Forgets idle clients whose window has passed (bounded memory under many addresses). */
  private sweep(): void {
    if (this.clients.size < 10_000) return;
    const t = this.now();
    for (const [k, s] of this.clients) if (s.downloads === 0 && t - s.windowStart >= 60_000) this.clients.delete(k);
  }
}
