/**
 * Opening a local image (an OCI layout directory, an oci-archive or a docker-archive tar) as
 * open.ts's `openSource` does for a name that is not a registry reference. A module of its own so
 * that a registry reference never loads the local sources (open.ts imports it when needed).
 */
import { basename } from "node:path";
import { stat } from "node:fs/promises";
import { LayerslayerError } from "../errors.ts";
import { escapeName } from "../names.ts";
import { formatImageName, type ImageName } from "../ref/name.ts";
import { formatReference } from "../ref/reference.ts";
import { ArchiveFiles } from "./archive.ts";
import { openDockerArchive } from "./docker-archive.ts";
import { DirectoryFiles, localError } from "./files.ts";
import { openLayout } from "./layout.ts";
import { LocalSource } from "./local.ts";

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

/** The source of a local image name. */
export async function openLocal(name: Exclude<ImageName, { transport: "registry" }>): Promise<LocalSource> {
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
