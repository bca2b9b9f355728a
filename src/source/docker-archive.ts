/**
 * `docker save` archives in both forms: the legacy one (`manifest.json` naming a config and one
 * plain tar per layer; the image manifest is made here from it, layer digests being the config's
 * diff_ids, which the blob reader checks like any digest) and the OCI one newer docker writes
 * (an OCI layout plus `manifest.json`; images named by the `io.containerd.image.name` annotation).
 */
import { LayerslayerError } from "../errors.ts";
import { escapeName } from "../names.ts";
import { formatReference, parseReference, type ImageRef } from "../ref/reference.ts";
import { DigestHasher, digestOf } from "../oci/digest.ts";
import { MAX_MANIFEST_BYTES, type Descriptor } from "../oci/manifest.ts";
import { MT } from "../oci/mediatypes.ts";
import { sniff, SNIFF_BYTES } from "../codec/sniff.ts";
import type { LocalFiles } from "./files.ts";
import { openLayout, readLayoutIndex } from "./layout.ts";
import { layoutBlobPath, readSmall, type LocalImage } from "./local.ts";
import { MAX_CONFIG_BYTES } from "../oci/resolve.ts";

/** The annotation containerd and docker put on an index entry: the image's full name. */
const IMAGE_NAME = "io.containerd.image.name";

const LAYER_TYPE = {
  tar: "application/vnd.oci.image.layer.v1.tar",
  gzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  zstd: "application/vnd.oci.image.layer.v1.tar+zstd",
} as const;

interface SavedImage {
  Config: string;
  RepoTags: string[];
  Layers: string[];
}

export interface ArchiveQuery {
  reference: string;
  name: string;
  repository: string;
  /** The image asked for (`docker-archive:FILE:REF`); without it the archive must hold one image. */
  ref?: ImageRef;
}

/** A name as docker would normalise it ("app:v1" → "docker.io/library/app:v1"); undefined when it is none. */
function normalised(name: unknown): string | undefined {
  if (typeof name !== "string") return undefined;
  try {
    return formatReference(parseReference(name));
  } catch {
    return undefined;
  }
}

function parseSaved(bytes: Uint8Array, shown: string): SavedImage[] {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new LayerslayerError("CORRUPT", `${shown}: manifest.json is not valid JSON`);
  }
  const ok = (e: unknown): e is SavedImage => {
    const x = e as SavedImage;
    return !!x && typeof x.Config === "string" && Array.isArray(x.Layers) && x.Layers.every((l) => typeof l === "string");
  };
  if (!Array.isArray(doc) || !doc.every(ok)) throw new LayerslayerError("CORRUPT", `${shown}: manifest.json is not a list of images with Config and Layers`);
  return doc.map((e) => ({ ...e, RepoTags: Array.isArray(e.RepoTags) ? e.RepoTags.filter((t) => typeof t === "string") : [] }));
}

function chooseSaved(saved: SavedImage[], q: ArchiveQuery, shown: string): SavedImage {
  if (q.ref) {
    const want = formatReference(q.ref);
    const found = saved.find((s) => s.RepoTags.some((t) => normalised(t) === want));
    if (found) return found;
    const tags = saved.flatMap((s) => s.RepoTags);
    throw new LayerslayerError(
      "NOT_FOUND",
      `${shown}: the archive holds no image ${escapeName(want)}${tags.length ? ` (it holds: ${tags.slice(0, 10).map(escapeName).join(", ")})` : ""}`,
    );
  }
  if (saved.length === 1) return saved[0]!;
  throw new LayerslayerError(
    saved.length === 0 ? "NOT_FOUND" : "USAGE",
    saved.length === 0 ? `${shown}: the archive holds no image` : `${shown}: the archive holds ${saved.length} images; name one with docker-archive:FILE:NAME`,
  );
}

/** The digest a file name claims (`<hex>.json`, `<hex>.tar`, `blobs/sha256/<hex>`), if any. */
function claimedDigest(name: string): string | undefined {
  const m = /(?:^|\/)([a-f0-9]{64})(?:\.json|\.tar)?$/.exec(name);
  return m ? `sha256:${m[1]}` : undefined;
}

async function firstBytes(files: LocalFiles, name: string, size: number): Promise<Uint8Array> {
  const n = Math.min(SNIFF_BYTES, size);
  return new Uint8Array(await new Response(files.stream(name, 0, n)).arrayBuffer());
}

async function hashMember(files: LocalFiles, name: string, size: number): Promise<string> {
  const hasher = new DigestHasher("sha256");
  for await (const chunk of files.stream(name, 0, size)) hasher.update(chunk);
  return hasher.digest();
}

/** The legacy form: an image manifest made from manifest.json and the config's diff_ids. */
async function legacyImage(files: LocalFiles, saved: SavedImage, q: ArchiveQuery, shown: string): Promise<LocalImage> {
  const fileOf = new Map<string, string>();
  const configBytes = await readSmall(files, saved.Config, MAX_CONFIG_BYTES, `${shown}: ${escapeName(saved.Config)}`);
  if (!configBytes) throw new LayerslayerError("CORRUPT", `${shown}: manifest.json names the config ${escapeName(saved.Config)}, which the archive does not hold`);
  const configDigest = digestOf(configBytes);
  const claimed = claimedDigest(saved.Config);
  if (claimed && claimed !== configDigest) throw new LayerslayerError("CORRUPT", `${shown}: the config ${escapeName(saved.Config)} hashes to ${configDigest}`);
  fileOf.set(configDigest, saved.Config);
  let diffIds: unknown[] = [];
  try {
    const rootfs = (JSON.parse(new TextDecoder().decode(configBytes)) as { rootfs?: { diff_ids?: unknown } }).rootfs;
    if (Array.isArray(rootfs?.diff_ids)) diffIds = rootfs.diff_ids;
  } catch {
    throw new LayerslayerError("CORRUPT", `${shown}: the config ${escapeName(saved.Config)} is not valid JSON`);
  }
  const layers: Descriptor[] = [];
  for (const [i, name] of saved.Layers.entries()) {
    const size = await files.size(name);
    if (size === undefined) throw new LayerslayerError("CORRUPT", `${shown}: manifest.json names the layer ${escapeName(name)}, which the archive does not hold`);
    const codec = sniff(await firstBytes(files, name, size));
    const diffId = diffIds[i];
    // A plain tar's digest is its diff_id; a compressed layer's is its own (a blob name may say it, else it is hashed here).
    const digest =
      codec !== "gzip" && codec !== "zstd" && typeof diffId === "string" && layoutBlobPath(diffId) ? diffId : (claimedDigest(name) ?? (await hashMember(files, name, size)));
    fileOf.set(digest, name);
    layers.push({ mediaType: codec === "gzip" || codec === "zstd" ? LAYER_TYPE[codec] : LAYER_TYPE.tar, digest, size });
  }
  const manifest = { schemaVersion: 2, mediaType: MT.ociManifest, config: { mediaType: MT.dockerConfig, digest: configDigest, size: configBytes.byteLength }, layers };
  const bytes = new TextEncoder().encode(JSON.stringify(manifest));
  return {
    reference: q.reference,
    name: q.name,
    repository: q.repository,
    version: q.ref?.digest ?? q.ref?.tag ?? "latest",
    top: { digest: digestOf(bytes), mediaType: MT.ociManifest, bytes },
    fileOf: (digest) => fileOf.get(digest),
  };
}

/** The image a `docker-archive:` reference names, in either form. */
export async function openDockerArchive(files: LocalFiles, q: ArchiveQuery): Promise<LocalImage> {
  const shown = escapeName(files.location);
  const entries = await readLayoutIndex(files, shown);
  if (entries) {
    // The OCI form: an entry named like the reference (or the only one) is read as a layout.
    const want = q.ref ? formatReference(q.ref) : undefined;
    const named = want ? entries.filter((e) => normalised(e.annotations?.[IMAGE_NAME]) === want) : entries;
    if (named.length === 1 || (named.length > 0 && want)) {
      const layoutQuery = { reference: q.reference, name: q.name, repository: q.repository, digest: named[0]!.digest };
      const image = await openLayout(files, layoutQuery, named);
      return { ...image, version: q.ref?.digest ?? q.ref?.tag ?? "latest" };
    }
  }
  const bytes = await readSmall(files, "manifest.json", MAX_MANIFEST_BYTES, `${shown}: manifest.json`);
  if (!bytes)
    throw new LayerslayerError(
      entries ? "NOT_FOUND" : "CORRUPT",
      entries ? `${shown}: no image ${escapeName(q.ref ? formatReference(q.ref) : "")} in the archive` : `${shown}: not a docker save archive (no manifest.json)`,
    );
  const saved = chooseSaved(parseSaved(bytes, shown), q, shown);
  return legacyImage(files, saved, q, shown);
}
