/**
 * Image names as skopeo spells them: a transport prefix says where the image is.
 *
 *   docker://REF                 a registry (a plain REF is one too)
 *   oci:DIR[:TAG|@sha256:…]      an OCI image layout directory
 *   oci-archive:FILE[:TAG]       an OCI layout in a tar file (also @sha256:…)
 *   docker-archive:FILE[:REF]    a `docker save` tar (legacy or OCI form)
 *
 * As in containers/image, the path ends at the first ":" after the prefix (a path with a colon
 * cannot take a tag).
 */
import { LayerslayerError } from "../errors.ts";
import { escapeName } from "../names.ts";
import { parseDigest, parseReference, type ImageRef } from "./reference.ts";

export type ImageName =
  | { transport: "registry"; ref: ImageRef }
  | { transport: "oci" | "oci-archive"; path: string; tag?: string; digest?: string }
  | { transport: "docker-archive"; path: string; ref?: ImageRef };

export const LOCAL_TRANSPORTS = ["oci", "oci-archive", "docker-archive"] as const;

function bad(input: string, why: string): LayerslayerError {
  return new LayerslayerError("USAGE", `invalid image name "${escapeName(input)}": ${escapeName(why)}`);
}

function splitPath(input: string, rest: string): { path: string; after?: string; digest?: string } {
  let body = rest;
  let digest: string | undefined;
  const at = body.lastIndexOf("@");
  if (at >= 0 && /^sha(256|384|512):/.test(body.slice(at + 1))) {
    digest = parseDigest(body.slice(at + 1), input);
    body = body.slice(0, at);
  }
  const colon = body.indexOf(":");
  const path = colon >= 0 ? body.slice(0, colon) : body;
  const after = colon >= 0 ? body.slice(colon + 1) : undefined;
  if (path === "") throw bad(input, "the path is missing");
  if (after === "") throw bad(input, 'nothing follows the ":" after the path');
  return { path, ...(after !== undefined ? { after } : {}), ...(digest ? { digest } : {}) };
}

/** Parses an image name with or without a transport prefix; `allowBare` as for parseReference. */
export function parseImageName(input: string, opts: { allowBare?: boolean } = {}): ImageName {
  const s = input.trim();
  if (s.startsWith("docker://")) return { transport: "registry", ref: parseReference(s.slice("docker://".length), opts) };
  const prefix = /^(oci|oci-archive|docker-archive):/.exec(s)?.[1] as (typeof LOCAL_TRANSPORTS)[number] | undefined;
  if (!prefix) return { transport: "registry", ref: parseReference(s, opts) };
  const { path, after, digest } = splitPath(input, s.slice(prefix.length + 1));
  if (prefix === "docker-archive") {
    if (digest && after === undefined) throw bad(input, "docker-archive takes a name (FILE:NAME:TAG), not a digest alone");
    const ref = after !== undefined ? parseReference(digest ? `${after}@${digest}` : after) : undefined;
    return { transport: prefix, path, ...(ref ? { ref } : {}) };
  }
  if (after !== undefined && /[\x00-\x1f\x7f]/.test(after)) throw bad(input, "the tag holds control characters");
  if (after !== undefined && digest) throw bad(input, "give a tag or a digest, not both");
  return { transport: prefix, path, ...(after !== undefined ? { tag: after } : {}), ...(digest ? { digest } : {}) };
}

/** The name back as text, normalised (a registry reference in full). */
export function formatImageName(name: ImageName, formatRef: (r: ImageRef) => string): string {
  if (name.transport === "registry") return formatRef(name.ref);
  if (name.transport === "docker-archive") return `docker-archive:${name.path}${name.ref ? `:${formatRef(name.ref)}` : ""}`;
  return `${name.transport}:${name.path}${name.tag !== undefined ? `:${name.tag}` : ""}${name.digest ? `@${name.digest}` : ""}`;
}
