import { createHash, createPrivateKey, createPublicKey, sign, type KeyObject } from "node:crypto";
import { selfSigned } from "./certs.ts";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Base32 (RFC 4648, no padding), as libtrust uses for key ids. */
function base32(bytes: Uint8Array): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0;
  let value = 0;
  let out = "";
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}

/** libtrust key id: base32 of the first 30 bytes of sha256(SPKI DER), 12 groups of 4 joined by ':'. */
export function libtrustKeyId(spkiDer: Uint8Array): string {
  const sum = createHash("sha256").update(spkiDer).digest().subarray(0, 30);
  return base32(sum).match(/.{4}/g)!.join(":");
}

function b64url(data: Uint8Array | string): string {
  return Buffer.from(data).toString("base64url");
}

export interface TokenServerOptions {
  service: string;
  issuer: string;
  /** username → password; the token endpoint checks them with Basic auth. */
  users: Record<string, string>;
  /** Repositories anonymous users may pull (prefix match); default: none. */
  anonymousPull?: string[] | undefined;
  /** Token lifetime the JWT carries (s). */
  lifetime?: number;
  /** OAuth2 refresh tokens (docker's identity tokens) → the user each stands for. */
  refreshTokens?: Record<string, string>;
}

export interface TokenServer {
  realm: string;
  certPath: string;
  /** Requests seen by the token endpoint (scope and account), for assertions. */
  requests: { scope: string | null; user: string | null; authorized: boolean; grant?: "refresh_token"; clientId?: string | null }[];
  /** Makes the next N tokens already expired (beyond the registry's 60 s leeway). */
  expireNext(n: number): void;
  stop(): void;
}

/** A small Docker-style token server signing ES256 JWTs that CNCF distribution accepts. */
export function startTokenServer(opts: TokenServerOptions): TokenServer {
  const dir = mkdtempSync(join(tmpdir(), "ls-token-"));
  const keyPath = join(dir, "key.pem");
  const certPath = join(dir, "cert.pem");
  selfSigned(keyPath, certPath, "/CN=layerslayer-test-token");
  const key: KeyObject = createPrivateKey(readFileSync(keyPath));
  const spki = new Uint8Array(createPublicKey(key).export({ type: "spki", format: "der" }));
  const kid = libtrustKeyId(spki);
  const requests: TokenServer["requests"] = [];
  let expired = 0;
  const lifetime = opts.lifetime ?? 300;

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const url = new URL(req.url);
      if (url.pathname !== "/token") return new Response("not found", { status: 404 });
      if (req.method === "POST") return refreshGrant(req);
      const scope = url.searchParams.get("scope");
      let user: string | null = null;
      const auth = req.headers.get("authorization");
      if (auth?.startsWith("Basic ")) {
        const [u, ...rest] = Buffer.from(auth.slice(6), "base64").toString("utf8").split(":");
        const p = rest.join(":");
        if (!u || opts.users[u] !== p) {
          requests.push({ scope, user: u ?? null, authorized: false });
          return Response.json({ errors: [{ code: "UNAUTHORIZED", message: "bad credentials" }] }, { status: 401 });
        }
        user = u;
      }
      requests.push({ scope, user, authorized: true });
      const token = issue(user, scope);
      return Response.json({ token, access_token: token, expires_in: lifetime, issued_at: new Date().toISOString() });
    },
  });

  /** The OAuth2 refresh-token grant (RFC 6749 §6), form-encoded, as docker sends identity tokens. */
  async function refreshGrant(req: Request): Promise<Response> {
    if (!(req.headers.get("content-type") ?? "").startsWith("application/x-www-form-urlencoded")) {
      return Response.json({ error: "invalid_request" }, { status: 400 });
    }
    const form = new URLSearchParams(await req.text());
    const scope = form.get("scope");
    if (form.get("grant_type") !== "refresh_token") return Response.json({ error: "unsupported_grant_type" }, { status: 400 });
    const clientId = form.get("client_id");
    if (!clientId || form.get("service") !== opts.service) return Response.json({ error: "invalid_request" }, { status: 400 });
    const user = opts.refreshTokens?.[form.get("refresh_token") ?? ""];
    requests.push({ scope, user: user ?? null, authorized: !!user, grant: "refresh_token", clientId });
    if (!user) return Response.json({ error: "invalid_grant" }, { status: 400 });
    return Response.json({ access_token: issue(user, scope), expires_in: lifetime, scope: scope ?? "" });
  }

  /** A signed JWT granting `user` (null: anonymous) what it may have of `scope`. */
  function issue(user: string | null, scope: string | null): string {
    const access: { type: string; name: string; actions: string[] }[] = [];
    for (const s of (scope ?? "").split(" ").filter(Boolean)) {
      const [type, ...mid] = s.split(":");
      const actions = (mid.pop() ?? "").split(",");
      const name = mid.join(":");
      if (type !== "repository" && type !== "registry") continue;
      // Users get what they ask for (the catalog included); anonymous users may only pull the open prefixes.
      const open = type === "repository" && (opts.anonymousPull ?? []).some((p) => name.startsWith(p));
      const allowed = user ? actions : open ? actions.filter((a) => a === "pull") : [];
      access.push({ type: type!, name, actions: allowed });
    }
    const now = Math.floor(Date.now() / 1000);
    const exp = expired > 0 ? now - 600 : now + lifetime;
    if (expired > 0) expired--;
    const header = { alg: "ES256", typ: "JWT", kid };
    const claims = { iss: opts.issuer, sub: user ?? "", aud: opts.service, exp, nbf: now - 10, iat: now - 10, jti: crypto.randomUUID(), access };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const sig = sign("sha256", Buffer.from(input), { key, dsaEncoding: "ieee-p1363" });
    return `${input}.${b64url(sig)}`;
  }
  return {
    realm: `http://127.0.0.1:${server.port}/token`,
    certPath,
    requests,
    expireNext(n: number) {
      expired = n;
    },
    stop: () => {
      server.stop(true);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
