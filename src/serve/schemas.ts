/**
 * JSON Schemas (2020-12, as OpenAPI 3.1 uses them) of what the API answers: the documents `--json`
 * prints (docs/json.md), each with its `schema` version. Fields docs/json.md lists are described;
 * others may appear (new fields are allowed in any version), so objects stay open.
 */
export type JsonSchema = { [key: string]: unknown };

export const str = { type: "string" };
export const int = { type: "integer" };
export const bool = { type: "boolean" };
export const strOrNull = { type: ["string", "null"] };
export const digest = { type: "string", pattern: "^[a-z0-9]+:[a-f0-9]+$" };
export const strings = { type: "array", items: str };

export function obj(properties: Record<string, unknown>, required: string[] = Object.keys(properties)): JsonSchema {
  return { type: "object", properties, required };
}

/** Every document and NDJSON record carries it. */
export const versioned = (properties: Record<string, unknown>, required?: string[]): JsonSchema => {
  const o = obj(properties, required);
  return { ...o, properties: { schema: { const: 1 }, ...(o.properties as object) }, required: ["schema", ...(o.required as string[])] };
};

export const ENTRY = obj(
  { layer: int, path: str, type: str, mode: int, size: int, uid: int, gid: int, uname: str, gname: str, mtime: strOrNull, linkname: str, devmajor: int, devminor: int },
  ["path", "type", "mode", "size", "uid", "gid", "mtime"],
);

export const ERROR = obj({ error: obj({ code: str, message: str }) });

export const INSPECT = versioned(
  {
    reference: str,
    digest,
    mediaType: str,
    index: obj({ digest, mediaType: str }),
    platform: str,
    created: str,
    config: obj({
      entrypoint: { type: ["array", "null"], items: str },
      cmd: { type: ["array", "null"], items: str },
      env: strings,
      user: str,
      workdir: str,
      labels: { type: "object", additionalProperties: str },
      exposedPorts: strings,
    }),
    layers: {
      type: "array",
      items: obj({ index: int, digest, size: int, mediaType: str, createdBy: strOrNull, urls: strings }, ["index", "digest", "size", "mediaType", "createdBy"]),
    },
    totalSize: int,
  },
  ["reference", "digest", "mediaType", "platform", "config", "layers", "totalSize"],
);

export const HISTORY = versioned({
  steps: {
    type: "array",
    items: obj({ index: int, createdBy: str, created: str, comment: str, emptyLayer: bool, layer: { type: ["integer", "null"] }, digest, size: int }, [
      "index",
      "createdBy",
      "emptyLayer",
      "layer",
    ]),
  },
  layersWithoutStep: { type: "array", items: int },
});

export const MANIFEST = versioned({ digest, mediaType: str, manifest: { type: "object" } });
export const CONFIG = versioned({ digest, mediaType: str, config: { type: "object" } });

export const PLATFORMS = versioned({
  reference: str,
  digest,
  index: bool,
  platforms: { type: "array", items: obj({ platform: str, digest, size: int, mediaType: str, attestation: bool }) },
});

export const TAGS = versioned({ repository: str, tags: strings });
export const CATALOG = versioned({ registry: str, repositories: strings, truncated: bool }, ["registry", "repositories"]);

const STATS = obj(
  { layer: int, digest, mediaType: str, layerSize: int, bytesDownloaded: int, bytesDecompressed: int, entries: int, complete: bool, verified: bool, cached: bool, error: str },
  ["layer", "digest", "mediaType", "layerSize", "bytesDownloaded", "bytesDecompressed", "entries", "complete", "verified"],
);

/** One NDJSON record of peek: an entry, a layer's stats, or (last) the error that stopped the stream. */
export const PEEK_RECORD: JsonSchema = {
  oneOf: [
    versioned({ stats: STATS }),
    { ...ENTRY, properties: { schema: { const: 1 }, ...(ENTRY.properties as object) }, required: ["schema", ...(ENTRY.required as string[])] },
    versioned({ error: obj({ code: str, message: str }) }),
  ],
};

export const LS = versioned(
  {
    path: str,
    layer: int,
    entries: {
      type: "array",
      items: { ...ENTRY, properties: { ...(ENTRY.properties as object), implied: bool, replaced: { type: "array", items: obj({ layer: int, type: str, size: int }) } } },
    },
    history: { type: "array", items: obj({ path: str, layer: int, action: { enum: ["added", "modified", "deleted", "hidden"] }, type: str }) },
  },
  ["path", "entries"],
);

export const FIND = versioned({
  pattern: str,
  hits: {
    type: "array",
    items: obj({ path: str, layer: int, action: { enum: ["added", "modified", "deleted", "hidden"] }, type: str, size: int, createdBy: strOrNull, present: bool, by: str }, [
      "path",
      "layer",
      "action",
      "type",
      "size",
      "createdBy",
      "present",
    ]),
  },
});

export const BYTES = { type: "string", contentMediaType: "application/octet-stream" };

export const SEARCH = versioned({
  pattern: str,
  hits: {
    type: "array",
    items: obj(
      {
        reference: str,
        manifestDigest: digest,
        platform: str,
        layer: int,
        layerDigest: digest,
        action: { enum: ["added", "modified", "deleted", "hidden"] },
        fate: { enum: ["present", "replaced", "deleted", "hidden"] },
        fateLayer: int,
        type: str,
        mode: int,
        size: int,
        path: str,
        linkname: str,
        partial: bool,
      },
      ["reference", "manifestDigest", "platform", "layer", "layerDigest", "action", "type", "mode", "size", "path", "partial"],
    ),
  },
});
