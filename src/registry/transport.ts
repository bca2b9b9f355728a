import { discard, readBounded } from "./body.ts";
import { apiHost, isLoopback } from "../ref/reference.ts";
import { Authenticator, type CredentialSource, type Credentials } from "./auth.ts";
import { parseChallenges, pickChallenge, type Challenge } from "./challenge.ts";
import { describeProxy, proxyFor, proxySettings, takeProxyEnvironment, type ProxySettings } from "./proxy.ts";
import { fetchableUrl, pinnedTarget, redactUrl, showUrl, type UrlCheck } from "./url-policy.ts";
import { Attempts, sleep, isRetryableStatus, networkError } from "./retry.ts";
import { abortError, LayerslayerError } from "../errors.ts";

export interface TransportOptions {
  plainHttp?: boolean;
  insecure?: boolean;
  /** A login, or where to look one up when the registry asks for it. */
  credentials?: Credentials | CredentialSource | undefined;
  /** Attempts after the first one for network errors, 408, 429 and 5xx. */
  retries?: number;
  /** First backoff step in ms (doubles each time). */
  retryBaseMs?: number;
  /** A Retry-After longer than this fails at once instead of waiting. */
  maxRetryAfterMs?: number;
  /**
   * The waits between the tries of one request (or one small document) add up to at most this
   * (default 30 s): a Retry-After, or a backoff, that would take them past it fails at once.
   */
  maxRetryWaitMs?: number;
  /** Time allowed until response headers arrive. */
  headersTimeoutMs?: number;
  /** Forward proxies (default: this process's HTTP_PROXY/HTTPS_PROXY/NO_PROXY); loopback hosts never use one. */
  proxy?: ProxySettings;
  log?: ((message: string) => void) | undefined;
  /** Asked before every request leaves, redirects and token realms included (serve's address policy). */
  checkUrl?: UrlCheck | undefined;
}

export interface RequestOptions {
  method?: "GET" | "HEAD";
  headers?: Record<string, string>;
  /** Authorization scope, e.g. "repository:library/alpine:pull". */
  scope?: string;
  signal?: AbortSignal;
  /**
   * The tries this request may make, when it is one of several of a read that shares them (a blob
   * read's ranged requests); by default `retries` failed tries for this request alone.
   */
  attempts?: Attempts;
}

const MAX_REDIRECTS = 10;
const USER_AGENT = "layerslayer/0.1";

/** HTTP to one registry: scheme choice, auth challenge, tokens, retries, redirects without credential leaks. */
export class Transport {
  readonly registry: string;
  /** scheme://host: http for loopback hosts until a TLS-only server says otherwise (see ping). */
  baseUrl: string;
  private readonly auth: Authenticator;
  private challenge: Challenge | undefined;
  private pinged: Promise<void> | undefined;
  private readonly opts: Required<Omit<TransportOptions, "credentials" | "log" | "checkUrl">> & Pick<TransportOptions, "log" | "checkUrl">;

  constructor(registry: string, options: TransportOptions = {}) {
    this.registry = registry;
    const scheme = options.plainHttp || isLoopback(registry) ? "http" : "https";
    this.baseUrl = `${scheme}://${apiHost(registry)}`;
    this.opts = {
      plainHttp: options.plainHttp ?? false,
      insecure: options.insecure ?? false,
      retries: options.retries ?? 4,
      retryBaseMs: options.retryBaseMs ?? 250,
      maxRetryAfterMs: options.maxRetryAfterMs ?? 60_000,
      maxRetryWaitMs: options.maxRetryWaitMs ?? 30_000,
      headersTimeoutMs: options.headersTimeoutMs ?? 30_000,
      proxy: options.proxy ?? proxySettings(takeProxyEnvironment()),
      log: options.log,
      checkUrl: options.checkUrl,
    };
    this.auth = new Authenticator(registry, options.credentials, (url, init, limit, what) =>
      this.readWhole((attempts) => this.send(url, init, undefined, attempts), limit, what, undefined),
    );
  }

  /**
   * Sends a request to a path under the registry (e.g. `/v2/a/b/manifests/latest`), answering auth
   * challenges and refreshing the token once on a 401. Returns any other status to the caller.
   */
  async request(path: string, options: RequestOptions = {}): Promise<Response> {
    // No `GET /v2/` up front: the first request goes out as the ping would (without credentials)
    // and its answer does the ping's work: a 401 names the challenge (below). Only the answers a
    // ping tells apart are checked with one (firstAnswerNeedsPing). A cached `ls IMAGE:TAG` thus
    // makes one request, not two. The ping and the token are shared by every request to the
    // registry: a cancelled one stops waiting for them.
    const { signal } = options;
    if (this.pinged) await abortable(this.ping(), signal);
    const attempts = options.attempts ?? this.attempts();
    const knewChallenge = this.challenge !== undefined;
    let authorization = await abortable(this.auth.header(this.challenge, options.scope), signal);
    let res = await this.send(`${this.baseUrl}${path}`, this.init(options, authorization), options.signal, attempts);
    if (!this.pinged && this.firstAnswerNeedsPing(res.status)) {
      if (res.status === 400) {
        // Perhaps a TLS-only loopback registry answering plain HTTP: the ping switches to HTTPS.
        await discard(res);
        await abortable(this.ping(), signal);
        res = await this.send(`${this.baseUrl}${path}`, this.init(options, authorization), options.signal, attempts);
      } else await abortable(this.ping(), signal); // 404: NOT_FOUND when the host serves no registry API; else the 404 stands.
    }
    const url = `${this.baseUrl}${path}`;
    if (res.status === 401 && !knewChallenge) {
      // The ping's 401, in effect: learn the challenge, then ask with credentials (a token refused
      // after this still gets its one refresh, below).
      await discard(res);
      if (!this.learnChallenge(res) && !this.pinged) await abortable(this.ping(), signal);
      if (!this.challenge) throw this.authError(options.scope);
      authorization = await abortable(this.auth.header(this.challenge, options.scope), signal);
      res = await this.send(url, this.init(options, authorization), options.signal, attempts);
    }
    if (res.status !== 401) return res;
    await discard(res);
    this.learnChallenge(res);
    if (!this.challenge) throw this.authError(options.scope);
    this.auth.invalidate();
    authorization = await abortable(this.auth.header(this.challenge, options.scope), signal);
    res = await this.send(url, this.init(options, authorization), options.signal, attempts);
    if (res.status === 401) {
      await discard(res);
      throw this.authError(options.scope);
    }
    return res;
  }

  /**
   * `request` for a small document (manifest, config, tag list) read whole, at most `limit` bytes.
   * A body that breaks off is fetched again; failed requests and broken bodies share one allowance
   * of `retries` failed tries, then it fails with NETWORK. An answer other than 2xx comes back
   * unread, for the caller's error. A cancelled read (`options.signal`) fails with ABORTED at once,
   * whether it waits for an answer, a body or a retry; `onBytes` hears the body's bytes arrive.
   */
  fetchBytes(path: string, options: RequestOptions, limit: number, what: string, onBytes?: (received: number) => void): Promise<{ res: Response; bytes: Uint8Array }> {
    return this.readWhole((attempts) => this.request(path, { ...options, attempts }), limit, what, options.signal, onBytes);
  }

  /** Whether the registry asked for a login (a challenge to `GET /v2/`, or since); known once a request was made. */
  get challenged(): boolean {
    return this.challenge !== undefined;
  }

  /**
   * GETs an absolute http(s) URL outside the registry API (Docker Hub's web API): no `/v2/` ping
   * and no login, but the same retries, Retry-After, redirect rules and bounded body as `fetchBytes`.
   */
  fetchUrl(url: string, headers: Record<string, string>, limit: number, what: string, signal?: AbortSignal): Promise<{ res: Response; bytes: Uint8Array }> {
    return this.readWhole((attempts) => this.send(url, this.init({ headers }, undefined), signal, attempts), limit, what, signal);
  }

  /** A fresh allowance of `retries` failed tries for one request or one small document, waiting `maxRetryWaitMs` between them in all. */
  private attempts(): Attempts {
    return new Attempts({ failures: this.opts.retries, waitMs: this.opts.maxRetryWaitMs });
  }

  private async readWhole(
    get: (attempts: Attempts) => Promise<Response>,
    limit: number,
    what: string,
    signal: AbortSignal | undefined,
    onBytes?: (received: number) => void,
  ): Promise<{ res: Response; bytes: Uint8Array }> {
    const attempts = this.attempts();
    try {
      for (;;) {
        const res = await get(attempts);
        if (!res.ok) return { res, bytes: new Uint8Array(0) };
        try {
          return { res, bytes: await readBounded(res, limit, what, onBytes) };
        } catch (e) {
          if (!(e instanceof LayerslayerError) || e.code !== "NETWORK" || signal?.aborted || !attempts.fail()) throw e;
          const delay = attempts.delay(this.opts.retryBaseMs);
          if (delay === undefined) throw e;
          this.opts.log?.(`${e.message}; retrying in ${delay} ms`);
          await sleep(delay, signal);
        }
      }
    } catch (e) {
      // However the cancel surfaced (the fetch's AbortError, a body that broke off, a retry's wait).
      if (signal?.aborted) throw abortError(signal, `the read of ${what}`);
      throw e;
    }
  }

  private authError(scope: string | undefined): LayerslayerError {
    const [type, ...rest] = scope ? scope.split(":") : [];
    const name = rest.slice(0, -1).join(":");
    const what = type === "registry" && name === "catalog" ? " to list the catalog" : name ? ` to pull ${name}` : "";
    return new LayerslayerError(
      "AUTH",
      `${this.registry}: not authorized${what}; check the login (-u/--username, LAYERSLAYER_USERNAME/LAYERSLAYER_PASSWORD, --authfile, or docker/podman login)`,
    );
  }

  private init(options: RequestOptions, authorization: string | undefined): RequestInit {
    const headers: Record<string, string> = { "User-Agent": USER_AGENT, ...options.headers };
    if (authorization) headers.Authorization = authorization;
    return { method: options.method ?? "GET", headers };
  }

  /**
   * Takes the challenge a 401 names, if it names one (gcr.io sometimes sends none: the one known
   * stays, or the ping's is asked for).
   */
  private learnChallenge(res: Response): boolean {
    const fresh = pickChallenge(parseChallenges(res.headers.get("www-authenticate")));
    if (fresh) this.challenge = fresh;
    return fresh !== undefined;
  }

  /**
   * Whether the first answer (no ping made yet) is one a ping must explain: 400 from a loopback
   * host spoken to in plain HTTP (maybe it speaks only TLS), or 404 (maybe no registry API at all).
   */
  private firstAnswerNeedsPing(status: number): boolean {
    if (status === 404) return true;
    return status === 400 && this.baseUrl.startsWith("http:") && !this.opts.plainHttp;
  }

  /** Learns the registry's challenge once, from `GET /v2/`. */
  private ping(): Promise<void> {
    this.pinged ??= (async () => {
      let res = await this.send(`${this.baseUrl}/v2/`, { headers: { "User-Agent": USER_AGENT } }, undefined);
      if (res.status === 400 && this.baseUrl.startsWith("http:") && !this.opts.plainHttp) {
        // A loopback registry that speaks only TLS answers plain HTTP with 400 ("Client sent an
        // HTTP request to an HTTPS server"): use HTTPS, as docker does for localhost.
        const text = (await res.text()).slice(0, 200);
        if (/HTTPS/i.test(text)) {
          this.baseUrl = this.baseUrl.replace(/^http:/, "https:");
          this.opts.log?.(`${this.registry} speaks HTTPS only; switching`);
          res = await this.send(`${this.baseUrl}/v2/`, { headers: { "User-Agent": USER_AGENT } }, undefined);
        }
      }
      await discard(res);
      if (res.status === 401) this.challenge = pickChallenge(parseChallenges(res.headers.get("www-authenticate")));
      else if (res.status === 404) {
        throw new LayerslayerError("NOT_FOUND", `${this.registry} does not serve the registry API (GET /v2/ answered 404)`);
      }
    })();
    // A failed ping may be tried again by the next request.
    this.pinged.catch(() => (this.pinged = undefined));
    return this.pinged;
  }

  /**
   * One logical request: retries with backoff while `attempts` allows, follows redirects by hand so
   * that credentials never leave the origin (scheme, host and port) they were meant for: the
   * Authorization header is dropped on a redirect to another origin, and a request with a body (the
   * token service's form POST, which carries an identity token) is not followed there at all.
   */
  private async send(url: string, init: RequestInit, signal: AbortSignal | undefined, attempts = this.attempts()): Promise<Response> {
    const requestOrigin = fetchableUrl(url, this.registry, "NETWORK").origin;
    for (;;) {
      let current = url;
      let res: Response | undefined;
      // No answer in time is a failed try; never wait past the read's stall bound.
      const timeoutMs = Math.max(1, Math.min(this.opts.headersTimeoutMs, attempts.msLeft()));
      try {
        for (let hop = 0; ; hop++) {
          const headers = new Headers(init.headers);
          if (new URL(current).origin !== requestOrigin) headers.delete("authorization");
          res = await this.fetchOnce(current, { ...init, headers }, signal, timeoutMs);
          const location = res.headers.get("location");
          if (res.status < 300 || res.status > 399 || res.status === 304 || !location) break;
          await discard(res);
          if (hop >= MAX_REDIRECTS) throw new LayerslayerError("NETWORK", `${this.registry}: too many redirects`);
          const next = this.redirectTarget(location, current);
          if (init.body != null && next.origin !== requestOrigin) throw this.bodyRedirectError(next);
          current = next.toString();
          this.opts.log?.(`redirect → ${redactUrl(current)}`);
        }
      } catch (e) {
        if (e instanceof LayerslayerError || signal?.aborted) throw e;
        const proxy = proxyFor(new URL(current), this.opts.proxy);
        const { error: err, permanent } = networkError(e, current, timeoutMs, proxy && describeProxy(proxy));
        if (permanent || !attempts.fail()) throw err;
        const delay = attempts.delay(this.opts.retryBaseMs);
        if (delay === undefined) throw err;
        this.opts.log?.(`${err.message}; retrying in ${delay} ms`);
        await sleep(delay, signal);
        continue;
      }
      if (!isRetryableStatus(res.status)) return res;
      if (!attempts.fail()) return res;
      const delay = attempts.delay(this.opts.retryBaseMs, res.headers.get("retry-after"));
      if (delay === undefined || delay > this.opts.maxRetryAfterMs) return res;
      await discard(res);
      this.opts.log?.(`HTTP ${res.status} from ${redactUrl(current)}; retrying in ${delay} ms`);
      await sleep(delay, signal);
    }
  }

  /**
   * Where a redirect leads: http(s) only, and never from https down to plain http unless plain
   * HTTP is allowed there (see plainHttpAllowed).
   */
  private redirectTarget(location: string, from: string): URL {
    const what = `${this.registry}: redirect`;
    const next = fetchableUrl(location, what, "NETWORK", from);
    if (new URL(from).protocol === "https:" && next.protocol === "http:" && !this.plainHttpAllowed(next.host)) {
      throw new LayerslayerError(
        "NETWORK",
        `${what}: refusing to go from https to plain http (${showUrl(next.origin)}); plain HTTP is allowed only for the registry's own host, with --plain-http`,
      );
    }
    return next;
  }

  /**
   * A request carrying credentials in its body (the refresh-token grant) redirected to another
   * origin: following without the body would be a different request, following with it a leak.
   */
  private bodyRedirectError(next: URL): LayerslayerError {
    return new LayerslayerError(
      "AUTH",
      `${this.registry}: token service: refusing to follow a redirect to another host (${showUrl(next.origin)}): the credentials in the request are only sent where the registry's challenge named`,
    );
  }

  /** Plain HTTP is allowed only for the registry's own host, and only when it may speak it (--plain-http, or loopback). */
  private plainHttpAllowed(host: string): boolean {
    return host === apiHost(this.registry) && (this.opts.plainHttp || isLoopback(this.registry));
  }

  private async fetchOnce(url: string, init: RequestInit, signal: AbortSignal | undefined, timeoutMs: number): Promise<Response> {
    // An abort event fired before the listener was added is never heard: a cancelled request is not sent.
    signal?.throwIfAborted();
    const target = new URL(url);
    const checked = await this.opts.checkUrl?.(target);
    const controller = new AbortController();
    const onAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    const timer = setTimeout(() => controller.abort(new Error("timeout")), timeoutMs);
    const proxy = proxyFor(target, this.opts.proxy);
    // To the address the check approved (no second lookup); through a proxy, the proxy looks the name up.
    const pin = checked && !proxy ? pinnedTarget(target, checked.address) : undefined;
    let headers = init.headers;
    if (pin) {
      headers = new Headers(init.headers);
      headers.set("host", pin.host);
    }
    const tls = { ...(this.opts.insecure ? { rejectUnauthorized: false } : {}), ...(pin?.serverName ? { serverName: pin.serverName } : {}) };
    try {
      const res = await fetch(pin?.url ?? url, {
        ...init,
        ...(headers ? { headers } : {}),
        redirect: "manual",
        signal: controller.signal,
        ...(proxy ? { proxy } : {}),
        ...(Object.keys(tls).length > 0 ? { tls } : {}),
      } as RequestInit);
      this.opts.log?.(`${init.method ?? "GET"} ${redactUrl(url)} → ${res.status}${proxy ? ` (through ${describeProxy(proxy)})` : ""}`);
      return res;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** `work`, or ABORTED as soon as `signal` fires (the work itself goes on: it is shared). */
function abortable<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) return Promise.reject(abortError(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal));
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
