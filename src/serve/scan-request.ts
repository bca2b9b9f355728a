/**
 * What `POST /v1/scans` takes, checked field by field (the body is a caller's JSON: nothing in it
 * is trusted), and what the scan routes answer about a job. The body names what the `scan` command
 * takes: references (a repository alone means its :latest), a registry's catalog (with `match` and
 * `allTags`), a platform or every platform, a budget or whole layers.
 */
import { DEFAULT_BUDGET } from "../cli/budget.ts";
import { LayerslayerError } from "../errors.ts";
import { escapeName } from "../names.ts";
import type { Platform } from "../oci/manifest.ts";
import { formatPlatform, parsePlatform } from "../oci/platform.ts";
import { outcomeJson } from "../output/scan-json.ts";
import type { Job } from "./jobs.ts";
import * as S from "./schemas.ts";

/** References one job takes at most (named, or found in a catalog). */
export const MAX_JOB_REFERENCES = 1000;

export interface ScanRequest {
  references: string[];
  catalog?: { registry: string; match?: string; allTags: boolean };
  platform: Platform | "all" | undefined;
  /** Compressed bytes per layer; undefined = whole layers. */
  budget: number | undefined;
  verify: boolean;
}

const FIELDS = ["references", "catalog", "platform", "budget", "full", "verify"];

function usage(message: string): LayerslayerError {
  return new LayerslayerError("USAGE", `scan request: ${message}`);
}

function text(v: unknown, what: string, max = 1024): string {
  if (typeof v !== "string" || v.trim() === "" || v.length > max) throw usage(`${what} must be a non-empty string of at most ${max} characters`);
  return v.trim();
}

function flag(v: unknown, what: string): boolean {
  if (v === undefined) return false;
  if (typeof v !== "boolean") throw usage(`${what} must be true or false`);
  return v;
}

function objectOf(v: unknown, what: string, keys: string[]): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw usage(`${what} must be a JSON object`);
  for (const k of Object.keys(v)) if (!keys.includes(k)) throw usage(`unknown field ${escapeName(k).slice(0, 64)} in ${what}; it takes ${keys.join(", ")}`);
  return v as Record<string, unknown>;
}

/**
 * The request a body describes. `checkReference` and `checkRegistry` are the server's policy
 * (registry references only, allowed registries only): every name is checked before the job starts.
 */
export function parseScanRequest(body: unknown, maxBudget: number, policy: { checkReference(text: string): void; checkRegistry(text: string): string }): ScanRequest {
  const b = objectOf(body, "the body", FIELDS);
  const references: string[] = [];
  if (b.references !== undefined) {
    if (!Array.isArray(b.references)) throw usage("references must be an array of image references");
    if (b.references.length > MAX_JOB_REFERENCES) throw usage(`more than ${MAX_JOB_REFERENCES} references`);
    for (const r of b.references) {
      const ref = text(r, "each reference");
      policy.checkReference(ref);
      references.push(ref);
    }
  }
  let catalog: ScanRequest["catalog"];
  if (b.catalog !== undefined) {
    const c = objectOf(b.catalog, "catalog", ["registry", "match", "allTags"]);
    const registry = policy.checkRegistry(text(c.registry, "catalog.registry", 256));
    const match = c.match === undefined ? undefined : text(c.match, "catalog.match", 256);
    if (match && (match.match(/\*/g) ?? []).length > 8) throw usage("catalog.match has more than 8 stars");
    catalog = { registry, ...(match ? { match } : {}), allTags: flag(c.allTags, "catalog.allTags") };
  }
  if (references.length === 0 && !catalog) throw usage("nothing to scan: give references or a catalog");
  const full = flag(b.full, "full");
  const verify = flag(b.verify, "verify");
  if (full && b.budget !== undefined) throw usage("full and budget cannot be used together");
  if (verify && !full) throw usage("verify reads whole layers: it goes with full");
  let budget: number | undefined = full ? undefined : Math.min(DEFAULT_BUDGET, maxBudget);
  if (b.budget !== undefined) {
    if (typeof b.budget !== "number" || !Number.isSafeInteger(b.budget) || b.budget < 1) throw usage("budget must be a whole number of bytes, 1 or more");
    if (b.budget > maxBudget) throw usage(`budget ${b.budget}: more than this server allows (${maxBudget})`);
    budget = b.budget;
  }
  let platform: ScanRequest["platform"];
  if (b.platform !== undefined) platform = b.platform === "all" ? "all" : parsePlatform(text(b.platform, "platform", 64));
  return { references, ...(catalog ? { catalog } : {}), platform, budget, verify };
}

/** A job as the scan routes answer it; `images` only when asked (the list can be long). */
export function scanJobJson(job: Job<ScanRequest>, withImages = true): Record<string, unknown> {
  const r = job.request;
  const platform = r.platform === "all" ? "all" : r.platform ? formatPlatform(r.platform) : undefined;
  return {
    id: job.id,
    state: job.state,
    created: job.created.toISOString(),
    ...(job.started ? { started: job.started.toISOString() } : {}),
    ...(job.finished ? { finished: job.finished.toISOString() } : {}),
    request: {
      references: r.references,
      ...(r.catalog ? { catalog: r.catalog } : {}),
      ...(platform ? { platform } : {}),
      budget: r.budget ?? null,
      verify: r.verify,
    },
    references: job.references ?? null,
    scanned: job.scanned,
    failed: job.failed,
    bytesDownloaded: job.bytesDownloaded,
    ...(withImages ? { images: job.images.map(outcomeJson) } : {}),
    ...(job.error ? { error: job.error } : {}),
  };
}

const IMAGE = S.obj(
  {
    reference: S.str,
    platform: S.str,
    digest: { type: ["string", "null"] },
    layers: S.int,
    layersRead: S.int,
    layersSkipped: S.int,
    partialLayers: S.int,
    bytesDownloaded: S.int,
    entries: S.int,
    error: S.obj({ code: S.str, message: S.str }),
  },
  ["reference", "platform", "digest", "layers", "layersRead", "layersSkipped", "partialLayers", "bytesDownloaded", "entries"],
);

const JOB_PROPERTIES = {
  id: S.str,
  state: { enum: ["queued", "running", "done", "failed", "cancelled"] },
  created: S.str,
  started: S.str,
  finished: S.str,
  request: S.obj(
    {
      references: S.strings,
      catalog: S.obj({ registry: S.str, match: S.str, allTags: S.bool }, ["registry", "allTags"]),
      platform: S.str,
      budget: { type: ["integer", "null"] },
      verify: S.bool,
    },
    ["references", "budget", "verify"],
  ),
  references: { type: ["integer", "null"] },
  scanned: S.int,
  failed: S.int,
  bytesDownloaded: S.int,
  images: { type: "array", items: IMAGE },
  error: S.obj({ code: S.str, message: S.str }),
};
const JOB_REQUIRED = ["id", "state", "created", "request", "references", "scanned", "failed", "bytesDownloaded"];

export const SCAN_JOB = S.versioned(JOB_PROPERTIES, [...JOB_REQUIRED, "images"]);
export const SCAN_JOBS = S.versioned({ jobs: { type: "array", items: S.obj(JOB_PROPERTIES, JOB_REQUIRED) } });

/** The data of one server-sent event: a progress snapshot, a scanned image, or the job at its end. */
export const SCAN_EVENT = {
  oneOf: [S.versioned({ progress: S.obj(JOB_PROPERTIES, JOB_REQUIRED) }), S.versioned({ image: IMAGE }), S.versioned({ end: S.obj(JOB_PROPERTIES, [...JOB_REQUIRED, "images"]) })],
};

export const SCAN_BODY = {
  type: "object",
  additionalProperties: false,
  properties: {
    references: { type: "array", maxItems: MAX_JOB_REFERENCES, items: S.str, description: "Image references, as `scan REF...` takes them (a repository alone: its :latest)" },
    catalog: {
      type: "object",
      additionalProperties: false,
      properties: {
        registry: { type: "string", description: "Scan the repositories of this registry's catalog, as `scan --catalog`" },
        match: { type: "string", description: "Only repositories matching this glob (`--match`)" },
        allTags: { type: "boolean", description: "Every tag of each repository (`--all-tags`); else :latest" },
      },
      required: ["registry"],
    },
    platform: { type: "string", description: "os/arch[/variant], or all: every platform of a multi-platform image" },
    budget: { type: "integer", minimum: 1, description: "Compressed bytes per layer (default 262144, at most the server's --max-budget)" },
    full: { type: "boolean", description: "Whole layers: complete listings" },
    verify: { type: "boolean", description: "With full: read each tar stream even when the layer has a TOC, and check the TOC against it" },
  },
};
