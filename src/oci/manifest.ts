import { LayerslayerError } from "../errors.ts";
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

function isDescriptor(d: unknown): d is Descriptor {
  const o = d as Descriptor;
  return !!o && typeof o === "object" && typeof o.digest === "string" && typeof o.size === "number";
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
    if (!Array.isArray(manifests) || !manifests.every(isDescriptor)) {
      throw new LayerslayerError("CORRUPT", `${what}: the index has no valid "manifests" list`);
    }
    return { kind: "index", index: { ...(doc as unknown as IndexManifest), mediaType: mediaType || MT.ociIndex } };
  }
  if (isImageManifestType(mediaType) || (doc.config && Array.isArray(doc.layers))) {
    if (!isDescriptor(doc.config) || !Array.isArray(doc.layers) || !doc.layers.every(isDescriptor)) {
      throw new LayerslayerError("CORRUPT", `${what}: the image manifest has no valid config or layers`);
    }
    return { kind: "image", image: { ...(doc as unknown as ImageManifest), mediaType: mediaType || MT.ociManifest } };
  }
  throw new LayerslayerError("UNSUPPORTED", `${what}: unsupported manifest type "${mediaType || "unknown"}"`);
}

export function isAttestation(d: Descriptor): boolean {
  return (
    d.annotations?.["vnd.docker.reference.type"] === "attestation-manifest" ||
    (d.platform?.os === "unknown" && d.platform?.architecture === "unknown")
  );
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
