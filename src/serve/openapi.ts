/** The OpenAPI 3.1 document of the API, generated from the route table (table.ts). */
import { version } from "../version.ts";
import type { RouteDef } from "./route-def.ts";
import * as S from "./schemas.ts";

export function openApiDocument(routes: readonly RouteDef[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const status = String(r.response.status ?? 200);
    (paths[r.path] ??= {})[(r.method ?? "GET").toLowerCase()] = {
      operationId: r.operationId,
      summary: r.summary,
      parameters: Object.entries(r.params).map(([name, p]) => ({
        name,
        in: p.in ?? "query",
        required: p.in === "path" || !!p.required,
        description: p.description,
        schema: { type: p.type, ...(p.minimum !== undefined ? { minimum: p.minimum } : {}), ...(p.maximum !== undefined ? { maximum: p.maximum } : {}) },
      })),
      ...(r.body ? { requestBody: { required: true, description: r.body.description, content: { "application/json": { schema: r.body.schema } } } } : {}),
      responses: {
        [status]: {
          description: r.response.description,
          ...(r.response.headers ? { headers: Object.fromEntries(Object.entries(r.response.headers).map(([h, d]) => [h, { description: d, schema: { type: "string" } }])) } : {}),
          content: { [r.response.contentType]: { schema: r.response.schema } },
        },
        default: { description: "An error: its code and a one-line message", content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } },
      },
    };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "layerslayer",
      version,
      description: "Look inside container images in a remote registry without pulling them. Documents have the shapes `--json` prints (docs/json.md).",
    },
    paths,
    components: {
      schemas: { Error: S.ERROR },
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
    },
    // Required when the server listens beyond loopback (or was given a token); optional otherwise.
    security: [{ bearer: [] }, {}],
  };
}
