import { LayerslayerError } from "../errors.ts";
import { escapeName } from "../names.ts";
import { digestProblem } from "../ref/reference.ts";
import type { Platform } from "./platform.ts";
import { isImageManifestType, isIndexType, isSchema1Type, MT } from "./mediatypes.ts";

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  platform?: Platform;
}

export interface ImageManifest {
  schemaVersion: number;
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

export interface IndexManifest {
  schemaVersion: number;
  mediaType: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

export type Manifest = { kind: "index"; index: IndexManifest } | { kind: "image"; image: ImageManifest };

const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
export { MAX_MANIFEST_BYTES };

const isString = (v: unknown): v is string => typeof v === "string";

/**
 * What is wrong with a descriptor, or undefined. Its strings come from the server and end up in
 * URLs, file names and terminals: the digest must follow the digest grammar (so it cannot walk
 * a path or carry a control character), the media type, platform fields and URLs must be strings.
 */
function descriptorProblem(d: unknown): string | undefined {
  const o = d as Record<string, unknown>;
  if (!o || typeof o !== "object" || Array.isArray(o)) return "is not a JSON object";
  if (!isString(o.digest)) return "has no digest";
  const bad = digestProblem(o.digest);
  if (bad) return `has an invalid digest: ${escapeName(bad)}`;
  if (typeof o.size !== "number") return "has no size";
  if (o.mediaType !== undefined && !isString(o.mediaType)) return "has a media type that is not a string";
  if (o.urls !== undefined && !(Array.isArray(o.urls) && o.urls.every(isString))) return "has urls that are not a list of strings";
  const p = o.platform as Record<string, unknown> | undefined;
  if (p !== undefined && (!p || typeof p !== "object" || !isString(p.os) || !isString(p.architecture) || (p.variant !== undefined && !isString(p.variant)))) {
    return "has a platform without string os and architecture";
  }
  return undefined;
}

/** The first problem of a list of descriptors, named by its place ("layer 2 …"). */
function listProblem(list: unknown[], name: string): string | undefined {
  for (let i = 0; i < list.length; i++) {
    const why = descriptorProblem(list[i]);
    if (why) return `${name} ${i} ${why}`;
  }
  return undefined;
}

/** Parses manifest bytes, telling index from image by media type (header or body) and by shape. */
export function parseManifest(bytes: Uint8Array, contentType: string | null, what: string): Manifest {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
  } catch {
    throw new LayerslayerError("CORRUPT", `${what}: the manifest is not valid JSON`);
  }
  if (!doc || typeof doc !== "object" || Array.isArray(doc)) {
    throw new LayerslayerError("CORRUPT", `${what}: the manifest is not a JSON object`);
  }
  const headerType = contentType?.split(";")[0]?.trim();
  const bodyType = typeof doc.mediaType === "string" ? doc.mediaType : undefined;
  if (doc.schemaVersion === 1 || isSchema1Type(bodyType) || (isSchema1Type(headerType) && !Array.isArray(doc.manifests) && !doc.config)) {
    throw new LayerslayerError("UNSUPPORTED", `${what}: unsupported legacy manifest (Docker schema 1)`);
  }
  const mediaType = bodyType ?? headerType ?? "";
  if (isIndexType(mediaType) || (Array.isArray(doc.manifests) && !doc.config)) {
    const manifests = doc.manifests;
    if (!Array.isArray(manifests)) throw new LayerslayerError("CORRUPT", `${what}: the index has no valid "manifests" list`);
    const why = listProblem(manifests, "entry");
    if (why) throw new LayerslayerError("CORRUPT", `${what}: the index's ${why}`);
    return { kind: "index", index: { ...(doc as unknown as IndexManifest), mediaType: mediaType || MT.ociIndex } };
  }
  if (isImageManifestType(mediaType) || (doc.config && Array.isArray(doc.layers))) {
    if (!doc.config || !Array.isArray(doc.layers)) throw new LayerslayerError("CORRUPT", `${what}: the image manifest has no valid config or layers`);
    const why = descriptorProblem(doc.config) ? `config ${descriptorProblem(doc.config)}` : listProblem(doc.layers, "layer");
    if (why) throw new LayerslayerError("CORRUPT", `${what}: the image manifest's ${why}`);
    return { kind: "image", image: { ...(doc as unknown as ImageManifest), mediaType: mediaType || MT.ociManifest } };
  }
  throw new LayerslayerError("UNSUPPORTED", `${what}: unsupported manifest type "${escapeName(mediaType.slice(0, 200)) || "unknown"}"`);
}

export function isAttestation(d: Descriptor): boolean {
  return d.annotations?.["vnd.docker.reference.type"] === "attestation-manifest" || (d.platform?.os === "unknown" && d.platform?.architecture === "unknown");
}

/** A layer stored outside the registry (Windows base layers): `urls` and a non-distributable type. */
export function isForeignLayer(desc: Pick<Descriptor, "mediaType" | "urls">): boolean {
  return !!desc.urls?.length && /nondistributable|foreign/.test(desc.mediaType);
}

/** The image entries of an index: attestations and non-image artifacts left out. */
export function imageEntries(index: IndexManifest): Descriptor[] {
  return index.manifests.filter((d) => !isAttestation(d) && (isImageManifestType(d.mediaType) || isIndexType(d.mediaType) || !d.mediaType));
}

export type { Platform };
