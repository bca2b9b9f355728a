import { discard } from "./body.ts";
import { LayerslayerError } from "../errors.ts";
import { escapeName } from "../output/format.ts";
import type { Challenge } from "./challenge.ts";
import { fetchableUrl } from "./url-policy.ts";

export interface Credentials {
  username: string;
  password: string;
}

interface CachedToken {
  token: string;
  expiresAt: number;
}

/** GETs a URL and reads its body whole (at most `limit` bytes); the body is empty for a non-2xx answer. */
export type Fetcher = (url: string, init: RequestInit, limit: number, what: string) => Promise<{ res: Response; bytes: Uint8Array }>;

/** A token reply is a small JSON object; anything bigger is not one. */
const MAX_TOKEN_REPLY = 1024 * 1024;

function basic(c: Credentials): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`, "utf8").toString("base64")}`;
}

/**
 * Answers a registry's challenge: bearer tokens per scope (cached until they expire), or basic
 * credentials. Credentials only ever go to the registry itself and to the realm of its challenge.
 */
export class Authenticator {
  private tokens = new Map<string, CachedToken>();
  constructor(
    private readonly registry: string,
    private readonly credentials: Credentials | undefined,
    private readonly fetcher: Fetcher,
    private readonly now: () => number = Date.now,
  ) {}

  /** The Authorization header value for a request under `challenge` and `scope`, if any. */
  async header(challenge: Challenge | undefined, scope: string | undefined): Promise<string | undefined> {
    if (!challenge) return undefined;
    if (challenge.scheme === "basic") return this.credentials ? basic(this.credentials) : undefined;
    if (challenge.scheme !== "bearer") {
      throw new LayerslayerError("UNSUPPORTED", `${this.registry} asks for "${challenge.scheme}" authentication, which is not supported`);
    }
    const key = `${challenge.params.realm}|${challenge.params.service ?? ""}|${scope ?? ""}`;
    const cached = this.tokens.get(key);
    if (cached && cached.expiresAt > this.now()) return `Bearer ${cached.token}`;
    const fresh = await this.fetchToken(challenge, scope);
    this.tokens.set(key, fresh);
    return `Bearer ${fresh.token}`;
  }

  /** Forgets every cached token (after a 401 that says the token is no longer good). */
  invalidate(): void {
    this.tokens.clear();
  }

  private async fetchToken(challenge: Challenge, scope: string | undefined): Promise<CachedToken> {
    const realm = challenge.params.realm;
    if (!realm) throw new LayerslayerError("AUTH", `${this.registry} sent a bearer challenge without a realm`);
    const url = fetchableUrl(realm, `${this.registry}: token realm`, "AUTH");
    if (challenge.params.service) url.searchParams.set("service", challenge.params.service);
    if (scope) url.searchParams.set("scope", scope);
    if (this.credentials) url.searchParams.set("account", this.credentials.username);
    const headers: Record<string, string> = { Accept: "application/json" };
    if (this.credentials) headers.Authorization = basic(this.credentials);
    const { res, bytes } = await this.fetcher(url.toString(), { headers }, MAX_TOKEN_REPLY, `${this.registry}: token service`);
    if (res.status === 401 || res.status === 403) {
      await discard(res);
      throw new LayerslayerError(
        "AUTH",
        this.credentials
          ? `${this.registry}: the token service refused the credentials of "${escapeName(this.credentials.username)}"`
          : `${this.registry}: anonymous access was refused; log in with -u/--username and --password-stdin`,
      );
    }
    if (!res.ok) {
      await discard(res);
      throw new LayerslayerError("AUTH", `${this.registry}: the token service answered HTTP ${res.status}`);
    }
    return this.parseTokenReply(bytes);
  }

  /** A token reply: a JSON object with `token` (or `access_token`), a string of visible ASCII. */
  private parseTokenReply(bytes: Uint8Array): CachedToken {
    const bad = (why: string) => new LayerslayerError("AUTH", `${this.registry}: the token service sent ${why}`);
    let body: unknown;
    try {
      body = JSON.parse(new TextDecoder().decode(bytes));
    } catch {
      throw bad("a reply that is not JSON");
    }
    if (body === null || typeof body !== "object" || Array.isArray(body)) throw bad(`${body === null ? "null" : Array.isArray(body) ? "an array" : `a ${typeof body}`} instead of a JSON object`);
    const reply = body as { token?: unknown; access_token?: unknown; expires_in?: unknown };
    const token = typeof reply.token === "string" && reply.token ? reply.token : typeof reply.access_token === "string" ? reply.access_token : "";
    if (!token) throw bad("no token");
    // It goes into an Authorization header: visible ASCII only (no control characters, no line breaks).
    if (!/^[\x21-\x7e]+$/.test(token)) throw bad("a token with characters a header cannot carry (control characters, spaces or non-ASCII)");
    const lifetime = typeof reply.expires_in === "number" && Number.isFinite(reply.expires_in) && reply.expires_in > 0 ? reply.expires_in : 60;
    // Take a margin so a token is never used in its last seconds.
    const expiresAt = this.now() + Math.max(1, lifetime - Math.min(10, lifetime / 4)) * 1000;
    return { token, expiresAt };
  }
}
