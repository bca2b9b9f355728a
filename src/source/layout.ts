/**
 * An OCI image layout (a directory, or the same inside a tar: oci-archive, the OCI form of docker
 * save): `index.json` lists the images, each blob is `blobs/<algo>/<hex>`. The reference picks an
 * entry by tag (the `org.opencontainers.image.ref.name` annotation, or a matcher the caller gives)
 * or by digest; without either, the layout must hold exactly one image.
 */
import { LayerslayerError } from "../errors.ts";
import { escapeName } from "../names.ts";
import { MAX_MANIFEST_BYTES, type Descriptor } from "../oci/manifest.ts";
import type { LocalFiles } from "./files.ts";
import { layoutBlobPath, readSmall, type LocalImage } from "./local.ts";

export const REF_NAME = "org.opencontainers.image.ref.name";

export interface LayoutQuery {
  /** How the user named the image, and where its blobs live, for messages. */
  reference: string;
  name: string;
  repository: string;
  /** The entry whose tag this is (see `matches`). */
  tag?: string;
  /** The manifest with this digest, listed or not. */
  digest?: string;
  /** Whether an entry is the one `tag` names (default: its ref.name annotation equals the tag). */
  matches?: (entry: Descriptor, tag: string) => boolean;
}

/** The entries of index.json; undefined when the layout has none. */
export async function readLayoutIndex(files: LocalFiles, shown: string): Promise<Descriptor[] | undefined> {
  const bytes = await readSmall(files, "index.json", MAX_MANIFEST_BYTES, `${shown}: index.json`);
  if (!bytes) return undefined;
  let doc: { manifests?: unknown };
  try {
    doc = JSON.parse(new TextDecoder().decode(bytes)) as { manifests?: unknown };
  } catch {
    throw new LayerslayerError("CORRUPT", `${shown}: index.json is not valid JSON`);
  }
  const list = doc?.manifests;
  const ok = (d: unknown): d is Descriptor => !!d && typeof d === "object" && typeof (d as Descriptor).digest === "string";
  if (!Array.isArray(list) || !list.every(ok)) throw new LayerslayerError("CORRUPT", `${shown}: index.json has no valid "manifests" list`);
  return list;
}

function tagOf(d: Descriptor): string | undefined {
  const v = d.annotations?.[REF_NAME];
  return typeof v === "string" ? v : undefined;
}

/** The image the query names in a layout's index.json entries. */
export function selectEntry(entries: Descriptor[], q: LayoutQuery): { digest: string; mediaType: string } {
  const shown = q.reference;
  if (q.digest) {
    const listed = entries.find((e) => e.digest === q.digest);
    return { digest: q.digest, mediaType: listed?.mediaType ?? "" };
  }
  const tags = [...new Set(entries.map(tagOf).filter((t): t is string => t !== undefined))];
  const known = tags.length ? ` (tags: ${tags.slice(0, 10).map(escapeName).join(", ")}${tags.length > 10 ? ", …" : ""})` : "";
  if (q.tag !== undefined) {
    const tag = q.tag;
    const match = q.matches ?? ((e: Descriptor) => tagOf(e) === tag);
    const found = entries.filter((e) => match(e, tag));
    if (found.length === 0) throw new LayerslayerError("NOT_FOUND", `${shown}: no image tagged "${escapeName(tag)}"${known}`);
    return { digest: found[0]!.digest, mediaType: found[0]!.mediaType ?? "" };
  }
  if (entries.length === 0) throw new LayerslayerError("NOT_FOUND", `${shown}: the layout holds no image`);
  if (entries.length > 1) throw new LayerslayerError("USAGE", `${shown}: the layout holds ${entries.length} images; name one with :TAG or @sha256:…${known}`);
  return { digest: entries[0]!.digest, mediaType: entries[0]!.mediaType ?? "" };
}

/** The image a query names in a layout (directory or archive). */
export async function openLayout(files: LocalFiles, q: LayoutQuery, entries?: Descriptor[]): Promise<LocalImage> {
  const shown = escapeName(files.location);
  const list = entries ?? (await readLayoutIndex(files, shown));
  if (!list) throw new LayerslayerError("NOT_FOUND", `${shown}: not an OCI image layout (no index.json)`);
  const top = selectEntry(list, q);
  return {
    reference: q.reference,
    name: q.name,
    repository: q.repository,
    version: q.digest ?? q.tag ?? "latest",
    top,
    fileOf: layoutBlobPath,
  };
}
