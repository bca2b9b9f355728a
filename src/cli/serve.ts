import { defineCommand } from "citty";
import { parseSize } from "../output/format.ts";
import { serveConfig, DEFAULT_CAPS } from "../serve/config.ts";
import { startServer } from "../serve/server.ts";
import { log } from "./log.ts";
import { onStopSignal } from "./signals.ts";
import { connectionsArg, dbArg, wholeNumber } from "./common.ts";
import { DEFAULT_CONNECTIONS, MAX_CONNECTIONS } from "../registry/client.ts";

/** Every value of a flag that may be repeated (citty keeps only the last one). */
function repeated(rawArgs: string[], flag: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < rawArgs.length; i++) {
    const a = rawArgs[i]!;
    if (a === "--") break;
    if (a === flag && rawArgs[i + 1] !== undefined) out.push(rawArgs[++i]!);
    else if (a.startsWith(`${flag}=`)) out.push(a.slice(flag.length + 1));
  }
  return out;
}

export default defineCommand({
  meta: { name: "serve", description: "Serve the JSON API (/v1, /openapi.json) over HTTP: loopback by default, a bearer token and a registry allow-list to go further" },
  args: {
    listen: { type: "string", valueHint: "HOST:PORT", description: "Address to listen on (default 127.0.0.1:8080); beyond loopback a token is required" },
    "token-file": {
      type: "string",
      valueHint: "FILE",
      description: "File holding the bearer token callers must send (or LAYERSLAYER_SERVE_TOKEN; default: none, allowed on loopback only)",
    },
    "allow-registry": {
      type: "string",
      valueHint: "HOST[:PORT],…",
      description:
        "Registries callers may name (repeat or comma-separate; default: any public registry on loopback, none beyond); the only ones that may be private addresses or get the server's logins",
    },
    cors: { type: "string", valueHint: "ORIGIN", description: "Let pages from this origin call the API (default: no cross-origin calls)" },
    "max-budget": { type: "string", valueHint: "SIZE", description: "Largest peek budget per layer a request may ask for (default 16M)" },
    "max-downloads": { type: "string", valueHint: "N", description: `Downloading requests at once, all clients together (default ${DEFAULT_CAPS.downloadsTotal})` },
    "client-downloads": { type: "string", valueHint: "N", description: `Downloading requests at once per client (default ${DEFAULT_CAPS.downloadsPerClient})` },
    "client-rate": { type: "string", valueHint: "N", description: `Requests per minute per client (default ${DEFAULT_CAPS.requestsPerMinute})` },
    "request-timeout": { type: "string", valueHint: "SECONDS", description: `Longest a request may run (default ${DEFAULT_CAPS.requestTimeoutMs / 1000})` },
    "scan-jobs": { type: "string", valueHint: "N", description: `Scan jobs (POST /v1/scans) running at once; more wait (default ${DEFAULT_CAPS.scanJobs})` },
    "scan-timeout": { type: "string", valueHint: "SECONDS", description: `Longest a scan job may run (default ${DEFAULT_CAPS.scanJobTimeoutMs / 1000})` },
    ...dbArg,
    ...connectionsArg,
    cache: {
      type: "boolean",
      default: true,
      description: "Use the local cache of listings, manifests and configs",
      negativeDescription: "Do not read or write the local listing cache",
    },
    "access-log": { type: "boolean", default: true, description: "One line per request on stderr (never a header, so never a token)", negativeDescription: "No access log" },
  },
  async run({ args, rawArgs }) {
    const cfg = serveConfig({
      ...(args.listen !== undefined ? { listen: args.listen } : {}),
      ...(args["token-file"] !== undefined ? { tokenFile: args["token-file"] } : {}),
      allowRegistry: repeated(rawArgs, "--allow-registry"),
      ...(args.cors !== undefined ? { cors: args.cors } : {}),
      cache: args.cache !== false,
      ...(args.db !== undefined ? { db: args.db } : {}),
      accessLog: args["access-log"] !== false,
      connections: wholeNumber(args.connections, "--connections", DEFAULT_CONNECTIONS, 1, MAX_CONNECTIONS),
      caps: {
        ...(args["max-budget"] !== undefined ? { maxBudget: parseSize(args["max-budget"], "--max-budget") } : {}),
        downloadsTotal: wholeNumber(args["max-downloads"], "--max-downloads", DEFAULT_CAPS.downloadsTotal, 1, 10_000),
        downloadsPerClient: wholeNumber(args["client-downloads"], "--client-downloads", DEFAULT_CAPS.downloadsPerClient, 1, 10_000),
        requestsPerMinute: wholeNumber(args["client-rate"], "--client-rate", DEFAULT_CAPS.requestsPerMinute, 1, 1_000_000),
        requestTimeoutMs: 1000 * wholeNumber(args["request-timeout"], "--request-timeout", DEFAULT_CAPS.requestTimeoutMs / 1000, 1, 86_400),
        scanJobs: wholeNumber(args["scan-jobs"], "--scan-jobs", DEFAULT_CAPS.scanJobs, 1, 64),
        scanJobTimeoutMs: 1000 * wholeNumber(args["scan-timeout"], "--scan-timeout", DEFAULT_CAPS.scanJobTimeoutMs / 1000, 1, 7 * 86_400),
      },
    });
    // The access log goes to stderr through the one logging layer, whatever -q says (it was asked for).
    const running = startServer(cfg, { log: (line) => log.always(line) });
    const scope = cfg.loopbackOnly ? "loopback only" : "token required";
    const registries = cfg.allowRegistries.size ? [...cfg.allowRegistries].join(", ") : "any public registry";
    log.always(`layerslayer: serving ${running.url} (${scope}; registries: ${registries}); API under /v1, description at /openapi.json`);
    await new Promise<void>((resolve) => {
      const stop = onStopSignal((_, exitCode) => {
        stop();
        process.exitCode = exitCode;
        void running.stop().then(resolve);
      });
    });
  },
});
