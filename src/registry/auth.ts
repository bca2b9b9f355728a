import { discard } from "./body.ts";
import { LayerslayerError } from "../errors.ts";
import { escapeName } from "../names.ts";
import type { Challenge } from "./challenge.ts";
import { fetchableUrl } from "./url-policy.ts";

/**
 * A login: a user name and password, or an identity token (docker's `identitytoken`, an OAuth2
 * refresh token a token service gave at login), which is exchanged at the realm for access tokens.
 */
export type Credentials = { username: string; password: string } | { username?: string; identityToken: string };

/**
 * Where the login for a repository comes from (auth files, credential helpers): asked only when
 * the registry challenges, once per repository ("" for registry-wide scopes like the catalog).
 */
export type CredentialSource = (repository: string) => Promise<Credentials | undefined>;

interface CachedToken {
  token: string;
  expiresAt: number;
}

/** GETs a URL and reads its body whole (at most `limit` bytes); the body is empty for a non-2xx answer. */
export type Fetcher = (url: string, init: RequestInit, limit: number, what: string) => Promise<{ res: Response; bytes: Uint8Array }>;

/** A token reply is a small JSON object; anything bigger is not one. */
const MAX_TOKEN_REPLY = 1024 * 1024;

/** Sent as `client_id` with identity tokens, as OAuth2 asks of every client. */
const CLIENT_ID = "layerslayer";

function basic(c: { username: string; password: string }): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`, "utf8").toString("base64")}`;
}

/** The repository a scope names ("repository:a/b:pull" → "a/b"); "" for other scopes. */
function repositoryOf(scope: string | undefined): string {
  if (!scope?.startsWith("repository:")) return "";
  return scope.slice("repository:".length, scope.lastIndexOf(":"));
}

function who(c: Credentials): string {
  const name = c.username ? `"${escapeName(c.username)}"` : "";
  return "password" in c ? name : name ? `${name} (identity token)` : "the identity token";
}

/**
 * Answers a registry's challenge: bearer tokens per scope (cached until they expire), or basic
 * credentials. Credentials only ever go to the registry itself and to the realm of its challenge.
 */
export class Authenticator {
  private tokens = new Map<string, CachedToken>();
  private readonly logins = new Map<string, Promise<Credentials | undefined>>();
  private readonly source: CredentialSource;
  constructor(
    private readonly registry: string,
    credentials: Credentials | CredentialSource | undefined,
    private readonly fetcher: Fetcher,
    private readonly now: () => number = Date.now,
  ) {
    this.source = typeof credentials === "function" ? credentials : async () => credentials;
  }

  /** The login for a scope's repository, asked of the source once. */
  private login(scope: string | undefined): Promise<Credentials | undefined> {
    const repository = repositoryOf(scope);
    let p = this.logins.get(repository);
    if (!p) {
      p = this.source(repository);
      this.logins.set(repository, p);
    }
    return p;
  }

  /** The Authorization header value for a request under `challenge` and `scope`, if any. */
  async header(challenge: Challenge | undefined, scope: string | undefined): Promise<string | undefined> {
    if (!challenge) return undefined;
    if (challenge.scheme === "basic") {
      const login = await this.login(scope);
      if (login && !("password" in login)) {
        throw new LayerslayerError("AUTH", `${this.registry} asks for a password (basic authentication), but the login found for it is an identity token`);
      }
      return login ? basic(login) : undefined;
    }
    if (challenge.scheme !== "bearer") {
      throw new LayerslayerError("UNSUPPORTED", `${this.registry} asks for "${escapeName(challenge.scheme.slice(0, 40))}" authentication, which is not supported`);
    }
    const key = `${challenge.params.realm}|${challenge.params.service ?? ""}|${scope ?? ""}`;
    const cached = this.tokens.get(key);
    if (cached && cached.expiresAt > this.now()) return `Bearer ${cached.token}`;
    const fresh = await this.fetchToken(challenge, scope, await this.login(scope));
    this.tokens.set(key, fresh);
    return `Bearer ${fresh.token}`;
  }

  /** Forgets every cached token (after a 401 that says the token is no longer good). */
  invalidate(): void {
    this.tokens.clear();
  }

  private async fetchToken(challenge: Challenge, scope: string | undefined, login: Credentials | undefined): Promise<CachedToken> {
    const realm = challenge.params.realm;
    if (!realm) throw new LayerslayerError("AUTH", `${this.registry} sent a bearer challenge without a realm`);
    const url = fetchableUrl(realm, `${this.registry}: token realm`, "AUTH");
    if (challenge.params.service) url.searchParams.set("service", challenge.params.service);
    if (scope) url.searchParams.set("scope", scope);
    const identity = login && "identityToken" in login;
    const init = identity ? this.refreshGrant(url, login) : this.basicGet(url, login); // may move parameters out of the URL
    const { res, bytes } = await this.fetcher(url.toString(), init, MAX_TOKEN_REPLY, `${this.registry}: token service`);
    // An OAuth2 server answers a refresh token it does not accept with 400 invalid_grant.
    if (res.status === 401 || res.status === 403 || (identity && res.status === 400)) {
      await discard(res);
      throw new LayerslayerError(
        "AUTH",
        login
          ? `${this.registry}: the token service refused the credentials of ${who(login)}`
          : `${this.registry}: anonymous access was refused; log in with -u/--username and --password-stdin`,
      );
    }
    if (!res.ok) {
      await discard(res);
      throw new LayerslayerError("AUTH", `${this.registry}: the token service answered HTTP ${res.status}`);
    }
    return this.parseTokenReply(bytes);
  }

  /** GET realm?service&scope[&account], with Basic credentials when there is a password. */
  private basicGet(url: URL, login: Credentials | undefined): RequestInit {
    const headers: Record<string, string> = { Accept: "application/json" };
    if (login && "password" in login) {
      url.searchParams.set("account", login.username);
      headers.Authorization = basic(login);
    }
    return { headers };
  }

  /**
   * The OAuth2 refresh-token grant docker uses for identity tokens: a form POST to the realm with
   * the service and scope in the body (moved there from the query).
   */
  private refreshGrant(url: URL, login: { identityToken: string }): RequestInit {
    const form = new URLSearchParams({ grant_type: "refresh_token", refresh_token: login.identityToken, client_id: CLIENT_ID });
    for (const name of ["service", "scope"]) {
      const value = url.searchParams.get(name);
      if (value !== null) form.set(name, value);
      url.searchParams.delete(name);
    }
    return { method: "POST", headers: { Accept: "application/json", "Content-Type": "application/x-www-form-urlencoded" }, body: form.toString() };
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
    if (body === null || typeof body !== "object" || Array.isArray(body))
      throw bad(`${body === null ? "null" : Array.isArray(body) ? "an array" : `a ${typeof body}`} instead of a JSON object`);
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
