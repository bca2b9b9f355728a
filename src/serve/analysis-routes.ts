/**
 * The analyses over HTTP: `diff` of two images (or two layers) and dive's `efficiency`, answered
 * with the documents `diff --json` and `efficiency --json` print, by the same analysis functions.
 */
import { parseRules, RULE_NAMES, type RuleName } from "../analysis/ci-rules.ts";
import { LayerslayerError } from "../errors.ts";
import { jsonResponse } from "./http.ts";
import { opened, platform, ref, s, type ParamDef, type RouteDef } from "./route-def.ts";
import * as S from "./schemas.ts";

const image = (side: string): ParamDef => ({ type: "string", required: true, description: `Image ${side}: a registry reference` });

const ENTRY_AT = { ...S.ENTRY, properties: { ...(S.ENTRY.properties as object), layer: S.int } };

/** Where each layer's listing came from: its tar stream, or what its TOC declares (the stream unread). */
const LISTINGS = {
  type: "array",
  items: S.obj({ index: S.int, source: { enum: ["toc", "stream"] }, toc: S.obj({ format: S.str, bytes: S.int, checked: S.bool }, ["format"]), cached: S.bool }, [
    "index",
    "source",
    "cached",
  ]),
};
const SIDE = S.obj({ reference: S.str, digest: S.digest, layer: S.int, listings: LISTINGS }, ["reference", "digest", "listings"]);

export const DIFF = S.versioned(
  {
    a: SIDE,
    b: SIDE,
    same: S.bool,
    shared: { type: "array", items: S.obj({ index: S.int, digest: S.digest }) },
    sharedRead: S.bool,
    paths: {
      type: "array",
      items: S.obj(
        {
          path: S.str,
          kind: { enum: ["added", "removed", "modified"] },
          fields: { type: "array", items: { enum: ["type", "size", "mode", "owner", "link", "device", "mtime", "content"] } },
          a: ENTRY_AT,
          b: ENTRY_AT,
          below: S.int,
          overSharedBase: S.bool,
          contentFrom: { enum: ["toc", "bytes"] },
        },
        ["path", "kind"],
      ),
    },
    config: { type: "array", items: S.obj({ key: S.str, a: S.str, b: S.str }, ["key"]) },
    packages: {
      type: "array",
      items: S.obj({ manager: S.str, name: S.str, architecture: S.str, kind: { enum: ["added", "removed", "changed"] }, a: S.str, b: S.str }, [
        "manager",
        "name",
        "architecture",
        "kind",
      ]),
    },
    contentCompared: S.int,
    contentByToc: S.int,
    bytesDownloaded: S.int,
  },
  ["a", "b", "same", "shared", "sharedRead", "paths", "config", "bytesDownloaded"],
);

const num = { type: "number" };

export const EFFICIENCY = S.versioned(
  {
    reference: S.str,
    efficiency: num,
    sizeBytes: S.int,
    userSizeBytes: S.int,
    wastedBytes: S.int,
    wastedUserPercent: num,
    inefficiencies: { type: "array", items: S.obj({ path: S.str, cumulativeSize: S.int, layers: { type: "array", items: S.int } }) },
    rules: { type: "array", items: S.obj({ rule: { enum: [...RULE_NAMES] }, threshold: S.str, status: { enum: ["pass", "fail", "disabled"] }, message: S.str }) },
    listings: LISTINGS,
    pass: S.bool,
  },
  ["reference", "efficiency", "sizeBytes", "userSizeBytes", "wastedBytes", "wastedUserPercent", "inefficiencies", "listings"],
);

const RULE_HELP: Record<RuleName, string> = {
  lowestEfficiency: "With ci: fail below this efficiency, 0..1 or disabled (default 0.9)",
  highestWastedBytes: "With ci: fail above this many wasted bytes, e.g. 20M, or disabled (default disabled)",
  highestUserWastedPercent: "With ci: fail above this fraction of wasted to user bytes, 0..1 or disabled (default 0.1)",
};

export const ANALYSIS_ROUTES: RouteDef[] = [
  {
    path: "/v1/diff",
    operationId: "diff",
    summary: "What differs between two images (or one layer of each): paths, config and history; shared layers are named, not read",
    params: {
      a: image("A"),
      b: image("B"),
      platform,
      layer: { type: "string", description: "Compare this layer of A (its own changes, not merged) with one layer of B" },
      layerB: { type: "string", description: "With layer: B's layer (default: the same as A's)" },
      ignoreMtime: { type: "boolean", description: "Do not report modification times that differ" },
      content: { type: "boolean", description: "Also compare the bytes of regular files of equal size from different layers" },
      packages: { type: "boolean", description: "Also compare the installed packages (dpkg, apk, rpm)" },
    },
    response: { contentType: "application/json", description: "as `diff --json` (`same` says whether anything differs; the status is 200 either way)", schema: DIFF },
    downloads: true,
    handle: async (q, call) => {
      if (q.layerB !== undefined && q.layer === undefined) throw new LayerslayerError("USAGE", "layerB goes with layer");
      const [a, b] = [await call.core.open(String(q.a), s(q.platform)), await call.core.open(String(q.b), s(q.platform))];
      const doc = await call.core.diff(a, b, {
        ...(q.layer !== undefined ? { layerA: String(q.layer) } : {}),
        ...(q.layerB !== undefined ? { layerB: String(q.layerB) } : {}),
        ignoreMtime: q.ignoreMtime === true,
        content: q.content === true,
        packages: q.packages === true,
        ...(q.platform !== undefined ? { platform: String(q.platform) } : {}),
        signal: call.signal,
      });
      return jsonResponse(doc);
    },
  },
  {
    path: "/v1/efficiency",
    operationId: "efficiency",
    summary: "An image's wasted space as dive counts it (files replaced or deleted by later layers), and dive's CI rules",
    params: {
      ref,
      platform,
      top: { type: "integer", minimum: 0, maximum: 100_000, description: "How many of the most wasteful paths to list (default 20; 0 for all)" },
      ci: { type: "boolean", description: "Check dive's CI rules: `rules` and `pass` in the answer" },
      ...(Object.fromEntries(RULE_NAMES.map((r) => [r, { type: "string", description: RULE_HELP[r] }])) as Record<RuleName, ParamDef>),
    },
    response: {
      contentType: "application/json",
      description: "as `efficiency --json` (with ci=true, `pass` says whether every rule passed; the status is 200 either way)",
      schema: EFFICIENCY,
    },
    downloads: true,
    handle: async (q, call) => {
      const given: Partial<Record<RuleName, string>> = {};
      for (const r of RULE_NAMES) if (q[r] !== undefined) given[r] = String(q[r]);
      // Checked before anything is read: a bad threshold is the caller's mistake.
      const rules = parseRules(given);
      const img = await opened(call, q);
      return jsonResponse(await call.core.efficiency(img, { top: (q.top as number | undefined) ?? 20, ...(q.ci === true ? { rules } : {}), signal: call.signal }));
    },
  },
];
