/**
 * The API, as one table: each route's path, method, parameters and body (with their schemas),
 * answer (with its schema) and handler. The server routes by it, checks parameters by it, and
 * /openapi.json is generated from it: one source of truth.
 */
import { ANALYSIS_ROUTES } from "./analysis-routes.ts";
import { HUB_ROUTES } from "./hub-routes.ts";
import type { RouteDef } from "./route-def.ts";
import { IMAGE_ROUTES } from "./routes.ts";
import { SCAN_ROUTES } from "./scan-routes.ts";

export const ROUTES: RouteDef[] = [...IMAGE_ROUTES, ...ANALYSIS_ROUTES, ...HUB_ROUTES, ...SCAN_ROUTES];
