/**
 * The HTTP server: Bun's own router over the route table, with the policy in front of every route:
 * body size, CORS, the bearer token, the client's request rate and download slots, a time limit,
 * and an access log that never holds a header (so never a token).
 */
import type { Server } from "bun";
import { escapeName } from "../names.ts";
import type { ServeConfig } from "./config.ts";
import { ServeCore } from "./core.ts";
import { corsHeaders, HttpRefusal, Limits, preflight, tokenCheck } from "./guard.ts";
import { BASE_HEADERS, errorResponse } from "./http.ts";
import { openApiDocument } from "./openapi.ts";
import { PAGE_ASSETS } from "./page.ts";
import type { Call, Query, RouteDef } from "./route-def.ts";
import { ROUTES } from "./table.ts";

export interface RunningServer {
  url: string;
  server: Server<undefined>;
  limits: Limits;
  stop(): Promise<void>;
}

/** Query parameters checked against the route's definition: unknown, repeated, missing or mistyped ones are refused. */
export function parseQuery(route: Pick<RouteDef, "params">, params: URLSearchParams, pathValues: Record<string, string> = {}): Query {
  const q: Query = {};
  for (const [key, value] of Object.entries(pathValues)) if (route.params[key]?.in === "path") q[key] = value;
  for (const key of new Set(params.keys())) {
    const def = route.params[key];
    if (!def || def.in === "path") throw new HttpRefusal(400, "USAGE", `unknown parameter ${escapeName(key)}; this route takes ${Object.keys(route.params).join(", ")}`);
    const all = params.getAll(key);
    if (all.length > 1) throw new HttpRefusal(400, "USAGE", `parameter ${key} given ${all.length} times`);
    const raw = all[0]!;
    if (raw.length > 4096) throw new HttpRefusal(400, "USAGE", `parameter ${key} is longer than 4096 characters`);
    if (def.type === "string") q[key] = raw;
    else if (def.type === "boolean") {
      if (!/^(true|false|1|0)$/.test(raw)) throw new HttpRefusal(400, "USAGE", `parameter ${key}: expected true or false`);
      q[key] = raw === "true" || raw === "1";
    } else {
      const n = Number(raw);
      if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n) || (def.minimum !== undefined && n < def.minimum) || (def.maximum !== undefined && n > def.maximum)) {
        throw new HttpRefusal(
          400,
          "USAGE",
          `parameter ${key}: expected a whole number${def.minimum !== undefined ? ` from ${def.minimum}` : ""}${def.maximum !== undefined ? ` to ${def.maximum}` : ""}`,
        );
      }
      q[key] = n;
    }
  }
  for (const [key, def] of Object.entries(route.params)) {
    if (def.required && q[key] === undefined) throw new HttpRefusal(400, "USAGE", `parameter ${key} is required`);
  }
  return q;
}

/** The query for the log: values of parameters that look like secrets are left out. */
function loggedTarget(url: URL): string {
  const shown = new URLSearchParams();
  for (const [k, v] of url.searchParams) shown.append(k, /token|pass|secret|auth|key/i.test(k) ? "…" : v);
  const q = shown.toString();
  return escapeName(`${url.pathname}${q ? `?${q}` : ""}`).slice(0, 500);
}

export function startServer(cfg: ServeConfig, opts: { log?: (line: string) => void } = {}): RunningServer {
  const core = new ServeCore(cfg);
  const limits = new Limits(cfg.caps);
  const checkToken = tokenCheck(cfg.token);
  const log = cfg.accessLog ? opts.log : undefined;
  const openapi = JSON.stringify(openApiDocument(ROUTES), null, 2);
  const running = new Set<AbortController>();

  type Answer = (req: Request, url: URL, call: Omit<Call, "core" | "caps" | "loopbackOnly">) => Promise<Response>;
  /** What one method of a path answers, and the route it belongs to (none for the page and /openapi.json). */
  type Endpoint = { answer: Answer; route?: RouteDef };

  /** Everything every request goes through; the endpoint of its method is the route's own part. */
  const guarded =
    (endpoints: Partial<Record<string, Endpoint>>, opts: { public?: boolean } = {}) =>
    async (req: Request, server: Server<undefined>): Promise<Response> => {
      const started = performance.now();
      const url = new URL(req.url);
      const client = server.requestIP(req)?.address ?? "unknown";
      const cors = corsHeaders(cfg.cors, req);
      let res: Response;
      let release: (() => void) | undefined;
      const controller = new AbortController();
      try {
        const endpoint = endpoints[req.method === "HEAD" ? "GET" : req.method];
        const length = Number(req.headers.get("content-length") ?? 0);
        const chunked = req.headers.has("transfer-encoding") && req.method !== "GET" && req.method !== "HEAD";
        if (length > cfg.caps.maxBodyBytes || (chunked && !endpoint?.route?.body)) {
          throw new HttpRefusal(413, "TOO_LARGE", `request bodies are limited to ${cfg.caps.maxBodyBytes} bytes (only POST /v1/scans takes one)`);
        }
        if (req.method === "OPTIONS") return preflight(cfg.cors, req);
        if (!endpoint) {
          const allowed = Object.keys(endpoints).flatMap((m) => (m === "GET" ? ["GET", "HEAD"] : [m]));
          throw new HttpRefusal(405, "METHOD_NOT_ALLOWED", `${escapeName(req.method)} is not allowed here; this path answers ${allowed.join(", ")}`, { Allow: allowed.join(", ") });
        }
        if (!opts.public) checkToken(req);
        limits.request(client);
        const body = endpoint.route?.body ? await readJsonBody(req, cfg.caps.maxBodyBytes) : undefined;
        if (endpoint.route?.downloads) release = limits.download(client);
        const signal = AbortSignal.any([req.signal, controller.signal, AbortSignal.timeout(cfg.caps.requestTimeoutMs)]);
        running.add(controller);
        // Work that takes no signal (a manifest fetch) is bounded by the transport's own timeouts; the
        // answer does not wait for it past the request's time.
        const abort = () => controller.abort(new DOMException("the client went away", "AbortError"));
        res = await untilAborted(endpoint.answer(req, url, { client, signal, abort, ...(body !== undefined ? { body } : {}) }), signal);
        // The download slot is held until the body is sent (or the client leaves).
        const free = release;
        release = undefined;
        const done = () => {
          free?.();
          running.delete(controller);
        };
        if (free && res.body) res = holdUntilDone(res, done);
        else done();
      } catch (e) {
        release?.();
        running.delete(controller);
        res = errorResponse(e);
      }
      for (const [k, v] of Object.entries(cors)) res.headers.set(k, v);
      log?.(`${new Date().toISOString()} ${escapeName(client)} ${escapeName(req.method)} ${loggedTarget(url)} ${res.status} ${Math.round(performance.now() - started)}ms`);
      return res;
    };

  const get = (answer: Answer, o: { public?: boolean } = {}) => guarded({ GET: { answer } }, o);
  const routes: Record<string, (req: Request, server: Server<undefined>) => Promise<Response>> = {
    "/openapi.json": get(async () => new Response(openapi, { headers: { ...BASE_HEADERS, "Content-Type": "application/json; charset=utf-8" } })),
  };
  // The page's files need no token (they hold nothing but the page); the API they call does.
  for (const [path, asset] of Object.entries(PAGE_ASSETS)) routes[path] = get(async () => asset(), { public: true });
  const byPath = new Map<string, Partial<Record<string, Endpoint>>>();
  for (const r of ROUTES) {
    const endpoints = byPath.get(r.path) ?? {};
    byPath.set(r.path, endpoints);
    endpoints[r.method ?? "GET"] = {
      route: r,
      answer: async (req, url, call) => {
        const params = (req as Request & { params?: Record<string, string> }).params ?? {};
        const answer = await r.handle(parseQuery(r, url.searchParams, params), { core, caps: cfg.caps, loopbackOnly: cfg.loopbackOnly, ...call });
        return r.response.status && answer.status === 200 ? new Response(answer.body, { status: r.response.status, headers: answer.headers }) : answer;
      },
    };
  }
  // Bun's router writes a path parameter as :name where OpenAPI writes {name}.
  for (const [path, endpoints] of byPath) routes[path.replace(/\{(\w+)\}/g, ":$1")] = guarded(endpoints);
  const notFound = get(async (_req, url) => {
    throw new HttpRefusal(404, "NOT_FOUND", `no route ${escapeName(url.pathname).slice(0, 200)}; see /openapi.json`);
  });

  const server = Bun.serve({
    hostname: cfg.hostname,
    port: cfg.port,
    maxRequestBodySize: cfg.caps.maxBodyBytes,
    // Seconds a connection may stay silent: a long listing sends nothing until it is done.
    idleTimeout: 255,
    routes,
    fetch: (req, srv) => notFound(req, srv),
    error: () => errorResponse(new Error("internal")),
  });
  return {
    url: `http://${server.hostname?.includes(":") ? `[${server.hostname}]` : server.hostname}:${server.port}`,
    server,
    limits,
    stop: async () => {
      core.stop();
      for (const c of running) c.abort();
      await server.stop(true);
    },
  };
}

/** `work`, or the signal's reason as soon as it is aborted. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      reject(signal.reason);
      // An answer that comes after all is never sent: its body is cancelled, which stops its producer.
      work.then(
        (v) => (v instanceof Response ? v.body?.cancel().catch(() => {}) : undefined),
        () => {},
      );
    };
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}

/** The same response, calling `done` once its body was sent, failed or was cancelled. */
function holdUntilDone(res: Response, done: () => void): Response {
  let finished = false;
  const finish = () => {
    if (!finished) {
      finished = true;
      done();
    }
  };
  const reader = res.body!.getReader();
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(c) {
        try {
          const r = await reader.read();
          if (r.done) {
            finish();
            c.close();
          } else c.enqueue(r.value);
        } catch (e) {
          finish();
          c.error(e);
        }
      },
      cancel(reason) {
        finish();
        return reader.cancel(reason);
      },
    },
    new CountQueuingStrategy({ highWaterMark: 1 }),
  );
  return new Response(body, { status: res.status, headers: res.headers });
}

/** A request's JSON body, read up to `max` bytes (a body sent chunked is counted as it comes). */
async function readJsonBody(req: Request, max: number): Promise<unknown> {
  if (!/^application\/json\s*(;|$)/i.test(req.headers.get("content-type") ?? ""))
    throw new HttpRefusal(415, "UNSUPPORTED_MEDIA_TYPE", "the body must be JSON (Content-Type: application/json)");
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (req.body) {
    for await (const chunk of req.body) {
      size += chunk.byteLength;
      if (size > max) throw new HttpRefusal(413, "TOO_LARGE", `request bodies are limited to ${max} bytes`);
      chunks.push(chunk);
    }
  }
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(Buffer.concat(chunks)));
  } catch {
    throw new HttpRefusal(400, "USAGE", "the body is not JSON");
  }
}
