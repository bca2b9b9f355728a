import { discard } from "./body.ts";
import { LayerslayerError } from "../errors.ts";
import type { Challenge } from "./challenge.ts";

export interface Credentials {
  username: string;
  password: string;
}

interface CachedToken {
  token: string;
  expiresAt: number;
}

export type Fetcher = (url: string, init: RequestInit) => Promise<Response>;

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
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new LayerslayerError("AUTH", `${this.registry} sent a bearer challenge with an invalid realm`);
    }
    if (challenge.params.service) url.searchParams.set("service", challenge.params.service);
    if (scope) url.searchParams.set("scope", scope);
    if (this.credentials) url.searchParams.set("account", this.credentials.username);
    const headers: Record<string, string> = { Accept: "application/json" };
    if (this.credentials) headers.Authorization = basic(this.credentials);
    const res = await this.fetcher(url.toString(), { headers });
    if (res.status === 401 || res.status === 403) {
      await discard(res);
      throw new LayerslayerError(
        "AUTH",
        this.credentials
          ? `${this.registry}: the token service refused the credentials of "${this.credentials.username}"`
          : `${this.registry}: anonymous access was refused; log in with -u/--username and --password-stdin`,
      );
    }
    if (!res.ok) {
      await discard(res);
      throw new LayerslayerError("AUTH", `${this.registry}: the token service answered HTTP ${res.status}`);
    }
    let body: { token?: unknown; access_token?: unknown; expires_in?: unknown; issued_at?: unknown };
    try {
      body = (await res.json()) as typeof body;
    } catch {
      throw new LayerslayerError("AUTH", `${this.registry}: the token service sent a reply that is not JSON`);
    }
    const token = typeof body.token === "string" ? body.token : typeof body.access_token === "string" ? body.access_token : "";
    if (!token) throw new LayerslayerError("AUTH", `${this.registry}: the token service sent no token`);
    const lifetime = typeof body.expires_in === "number" && body.expires_in > 0 ? body.expires_in : 60;
    // Take a margin so a token is never used in its last seconds.
    const expiresAt = this.now() + Math.max(1, lifetime - Math.min(10, lifetime / 4)) * 1000;
    return { token, expiresAt };
  }
}
