/**
 * What a route is (path, method, parameters, body, answer, handler) and what every route's handler
 * is given: the table in table.ts is made of these, the server routes by them, and /openapi.json
 * is generated from them.
 */
import type { Caps } from "./config.ts";
import type { ServeCore } from "./core.ts";
import { BASE_HEADERS, Pipe } from "./http.ts";
import type * as S from "./schemas.ts";

export interface ParamDef {
  type: "string" | "integer" | "boolean";
  description: string;
  required?: boolean;
  /** A part of the path (`/v1/scans/{id}`) rather than the query. */
  in?: "path";
  minimum?: number;
  maximum?: number;
}

export type Query = Record<string, string | number | boolean | undefined>;

export interface Call {
  core: ServeCore;
  caps: Caps;
  /** The server listens on loopback only: its callers are this machine's users. */
  loopbackOnly: boolean;
  /** The caller's address (per-client limits). */
  client: string;
  /** Aborted when the client goes away or the request runs out of time. */
  signal: AbortSignal;
  /** Stops the request's work (the client went away). */
  abort: () => void;
  /** The request's JSON body, parsed (routes with a `body` only). */
  body?: unknown;
}

export interface RouteDef {
  /** OpenAPI's form: `/v1/scans/{id}` for a path parameter. */
  path: string;
  /** GET unless said. */
  method?: "GET" | "POST" | "DELETE";
  operationId: string;
  summary: string;
  params: Record<string, ParamDef>;
  /** The JSON body the route takes (size-limited by the server; the handler checks it). */
  body?: { description: string; schema: S.JsonSchema };
  response: { status?: number; contentType: string; description: string; schema: S.JsonSchema; headers?: Record<string, string> };
  /** The route downloads layer bytes: it takes one of the client's download slots. */
  downloads?: boolean;
  handle(q: Query, call: Call): Promise<Response>;
}

export const ref: ParamDef = {
  type: "string",
  required: true,
  description: "Image reference, e.g. registry.example.com/team/app:v1 (a registry reference; local images are not served)",
};
export const platform: ParamDef = { type: "string", description: "Platform to pick from a multi-platform image, os/arch[/variant]" };
export const layerSel: ParamDef = { type: "string", description: "Layer(s): an index, -1 for the last, 0,2 or 1-3, a digest, or all" };

export const s = (v: unknown): string | undefined => (v === undefined ? undefined : String(v));

export async function opened(call: Call, q: Query) {
  return call.core.open(String(q.ref), s(q.platform));
}

/** Text written piece by piece into a streamed body, in batches of about 64 KiB. */
export async function writeBatched(pipe: Pipe, parts: Iterable<string>): Promise<void> {
  let batch = "";
  for (const part of parts) {
    batch += part;
    if (batch.length >= 1 << 16) {
      await pipe.write(batch);
      batch = "";
    }
  }
  if (batch) await pipe.write(batch);
}

/** A response whose body a producer writes; an error after the first byte cuts the body short. */
export function streamed(call: Call, contentType: string, produce: (pipe: Pipe) => Promise<void>, extra: Record<string, string> = {}): Response {
  const pipe = new Pipe(call.abort);
  produce(pipe).then(
    () => pipe.close(),
    (e) => pipe.fail(e),
  );
  return new Response(pipe.stream, { headers: { ...BASE_HEADERS, "Content-Type": contentType, ...extra } });
}
