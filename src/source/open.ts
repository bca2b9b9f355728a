/**
 * Reference → source → image, in one place for every front end: parse what the user typed (a
 * registry reference, or a local image named as skopeo names them), open the source of its bytes
 * (the registry, a layout directory, an archive), and resolve the image (the platform chosen from
 * an index).
 */
import type { Platform } from "../oci/manifest.ts";
import { resolveImage, type ResolvedImage, type ResolveOptions } from "../oci/resolve.ts";
import { parseImageName, type ImageName } from "../ref/name.ts";
import type { RegistryClient } from "../registry/client.ts";
import { RegistrySource } from "./registry.ts";
import type { ImageSource } from "./source.ts";

/** Gives the client for a registry (its host, e.g. "127.0.0.1:5000"); called only for a registry name. */
export type ClientFor = (registry: string) => RegistryClient | Promise<RegistryClient>;

/** The source of an image name (text is parsed by parseImageName). */
export async function openSource(name: ImageName | string, client: ClientFor): Promise<ImageSource> {
  if (typeof name === "string") name = parseImageName(name);
  if (name.transport === "registry") return new RegistrySource(await client(name.ref.registry), name.ref);
  // A local image's modules (layouts, archives, the files under them) load only when one is named.
  const { openLocal } = await import("./open-local.ts");
  return openLocal(name);
}

/** The image a name points at: its source opened, the platform chosen from an index (default: this machine's); `opts` as resolveImage's. */
export async function openImage(name: ImageName | string, client: ClientFor, platform?: Platform, opts: ResolveOptions = {}): Promise<ResolvedImage> {
  return resolveImage(await openSource(name, client), platform, opts);
}
