import { LayerslayerError } from "../errors.ts";
import { isImageManifestType, isIndexType, isSchema1Type, MT } from "./mediatypes.ts";

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
  "os.version"?: string;
}

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

export function formatPlatform(p: Platform | undefined): string {
  if (!p) return "unknown";
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ""}`;
}

/** Parses `os/arch[/variant]`. */
export function parsePlatform(s: string): Platform {
  const parts = s.split("/");
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === "")) {
    throw new LayerslayerError("USAGE", `invalid platform "${s}": expected os/arch[/variant], e.g. linux/arm64`);
  }
  const [os, architecture, variant] = parts as [string, string, string?];
  return { os, architecture, ...(variant ? { variant } : {}) };
}

/** This machine's platform in OCI terms. */
export function hostPlatform(): Platform {
  const archMap: Record<string, string> = { x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386", ppc64: "ppc64le", s390x: "s390x", riscv64: "riscv64" };
  return { os: "linux", architecture: archMap[process.arch] ?? process.arch };
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

function defaultVariant(arch: string): string | undefined {
  return arch === "arm64" ? "v8" : arch === "arm" ? "v7" : undefined;
}

function matches(want: Platform, have: Platform | undefined): boolean {
  if (!have || have.os !== want.os || have.architecture !== want.architecture) return false;
  if (!want.variant) return true;
  return (have.variant ?? defaultVariant(have.architecture)) === want.variant;
}

/**
 * Picks the image for a platform from an index. With no platform asked for, an index with one real
 * image uses it; otherwise the host's. Attestations are never chosen. No match → an error listing what there is.
 */
export function choosePlatform(index: IndexManifest, asked: Platform | undefined, what: string): Descriptor {
  const images = imageEntries(index);
  if (images.length === 0) throw new LayerslayerError("NOT_FOUND", `${what}: the index holds no image manifests`);
  if (!asked && images.length === 1) return images[0]!;
  const want = asked ?? hostPlatform();
  const hits = images.filter((d) => matches(want, d.platform));
  // Prefer an entry without a variant or with the default variant when the user named none.
  const exact = hits.find((d) => !want.variant && (d.platform?.variant ?? defaultVariant(want.architecture)) === defaultVariant(want.architecture));
  const hit = exact ?? hits[0];
  if (hit) return hit;
  const available = images.map((d) => formatPlatform(d.platform)).join(", ");
  throw new LayerslayerError("NOT_FOUND", `${what}: no image for platform ${formatPlatform(want)}; available: ${available}`);
}
