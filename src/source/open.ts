/**
 * Reference → source → image, in one place for every front end: parse what the user typed (a
 * registry reference, or a local image named as skopeo names them), open the source of its bytes
 * (the registry, a layout directory, an archive), and resolve the image (the platform chosen from
 * an index).
 */
import { basename } from "node:path";
import type { Platform } from "../oci/manifest.ts";
import { resolveImage, type ResolvedImage, type ResolveOptions } from "../oci/resolve.ts";
import { formatImageName, parseImageName, type ImageName } from "../ref/name.ts";
import { formatReference } from "../ref/reference.ts";
import type { RegistryClient } from "../registry/client.ts";
import { ArchiveFiles } from "./archive.ts";
import { openDockerArchive } from "./docker-archive.ts";
import { DirectoryFiles, localError } from "./files.ts";
import { openLayout } from "./layout.ts";
import { LocalSource } from "./local.ts";
import { RegistrySource } from "./registry.ts";
import type { ImageSource } from "./source.ts";
import { stat } from "node:fs/promises";
import { LayerslayerError } from "../errors.ts";
import { escapeName } from "../names.ts";

/** "app" for "/data/app.tar" or "/data/app/": save's default directory name for a local image. */
function repositoryOf(path: string): string {
  return basename(path.replace(/\/+$/, "")).replace(/\.(tar|tgz|tar\.gz)$/, "") || "image";
}

async function directory(path: string): Promise<DirectoryFiles> {
  try {
    const st = await stat(path);
    if (!st.isDirectory()) throw new LayerslayerError("USAGE", `${escapeName(path)}: not a directory (an OCI layout is one; for a tar file use oci-archive:)`);
  } catch (e) {
    throw localError(e, escapeName(path));
  }
  return new DirectoryFiles(path);
}

/** Gives the client for a registry (its host, e.g. "127.0.0.1:5000"); called only for a registry name. */
export type ClientFor = (registry: string) => RegistryClient | Promise<RegistryClient>;

/** The source of an image name (text is parsed by parseImageName). */
export async function openSource(name: ImageName | string, client: ClientFor): Promise<ImageSource> {
  if (typeof name === "string") name = parseImageName(name);
  if (name.transport === "registry") return new RegistrySource(await client(name.ref.registry), name.ref);
  const reference = escapeName(formatImageName(name, formatReference));
  const where = `${name.transport}:${escapeName(name.path)}`;
  if (name.transport === "docker-archive") {
    const files = await ArchiveFiles.open(name.path);
    const repository = name.ref?.repository ?? repositoryOf(name.path);
    return new LocalSource(files, await openDockerArchive(files, { reference, name: where, repository, ...(name.ref ? { ref: name.ref } : {}) }));
  }
  const files = name.transport === "oci" ? await directory(name.path) : await ArchiveFiles.open(name.path);
  const query = {
    reference,
    name: where,
    repository: repositoryOf(name.path),
    ...(name.tag !== undefined ? { tag: name.tag } : {}),
    ...(name.digest ? { digest: name.digest } : {}),
  };
  return new LocalSource(files, await openLayout(files, query));
}

/** The image a name points at: its source opened, the platform chosen from an index (default: this machine's); `opts` as resolveImage's. */
export async function openImage(name: ImageName | string, client: ClientFor, platform?: Platform, opts: ResolveOptions = {}): Promise<ResolvedImage> {
  return resolveImage(await openSource(name, client), platform, opts);
}
