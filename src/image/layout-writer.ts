/**
 * Writing an image as an OCI image layout (image-layout spec: `oci-layout`, `index.json`,
 * `blobs/<alg>/<hex>`) that skopeo, umoci and our own `oci:` source read back: the manifest and
 * config bytes exactly as the source gave them (so every digest stays the same), the layers
 * downloaded and verified (resumable, as `save` downloads them). With every platform, the index
 * the reference names is kept too, with each image below it.
 *
 * An existing layout is added to (its other images stay; an entry with the same ref name is
 * replaced); `index.json` is rewritten atomically.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { downloadBlob, type DownloadOptions } from "../blob/download.ts";
import { LayerslayerError } from "../errors.ts";
import { escapeName } from "../names.ts";
import { digestOf } from "../oci/digest.ts";
import { imageEntries, isForeignLayer, parseManifest, type Descriptor } from "../oci/manifest.ts";
import { MT } from "../oci/mediatypes.ts";
import type { ResolvedImage } from "../oci/resolve.ts";
import { REF_NAME } from "../source/layout.ts";
import type { FetchedManifest, ImageSource } from "../source/source.ts";

/** Configs and manifests read whole are held to this size. */
const MAX_SMALL_BLOB = 16 * 1024 * 1024;

export interface LayoutImage {
  /** The manifest (or index) that index.json names. */
  top: FetchedManifest;
  /** Every image manifest below it (the top itself for a single image), with its config. */
  images: { manifest: FetchedManifest; configDigest: string; config: Uint8Array; layers: Descriptor[] }[];
}

export interface LayoutProgress {
  /** Called before each layer is downloaded. */
  onLayer?: (image: number, layer: number, desc: Descriptor) => void;
  download?: DownloadOptions;
}

function blobPath(dir: string, digest: string): string {
  const m = /^(sha256|sha384|sha512):([a-f0-9]{64,128})$/.exec(digest);
  if (!m) throw new LayerslayerError("CORRUPT", `an invalid digest "${escapeName(digest.slice(0, 80))}"`);
  return join(dir, "blobs", m[1]!, m[2]!);
}

function writeVerified(dir: string, digest: string, bytes: Uint8Array): void {
  if (digestOf(bytes, digest.split(":")[0] as "sha256") !== digest) throw new LayerslayerError("CORRUPT", `${digest}: the bytes do not hash to their digest`);
  const path = blobPath(dir, digest);
  mkdirSync(join(path, ".."), { recursive: true });
  if (!existsSync(path)) writeFileSync(path, bytes);
}

/** The image the reference resolved to, or (all platforms) the index and every image in it. */
export async function layoutImage(img: ResolvedImage, allPlatforms: boolean): Promise<LayoutImage> {
  const one = (manifest: FetchedManifest, image: ResolvedImage["manifest"]["image"], config: Uint8Array) => ({
    manifest,
    configDigest: image.config.digest,
    config,
    layers: image.layers,
  });
  if (!allPlatforms || !img.index) return { top: img.manifest, images: [one(img.manifest, img.manifest.image, img.configBytes)] };
  const images: LayoutImage["images"] = [];
  for (const d of imageEntries(img.index.index)) {
    const fetched = await img.source.manifest(d.digest);
    const parsed = parseManifest(fetched.bytes, fetched.mediaType, `${img.source.reference}@${d.digest}`);
    if (parsed.kind !== "image") throw new LayerslayerError("UNSUPPORTED", `${escapeName(img.source.reference)}: nested indexes are not saved with --all-platforms`);
    images.push(one(fetched, parsed.image, await img.source.blobBytes(parsed.image.config.digest, MAX_SMALL_BLOB, "image config")));
  }
  return { top: img.index, images };
}

/** Writes the image into the layout at `dir` (made when missing) under `refName`. */
export async function writeLayout(source: ImageSource, image: LayoutImage, dir: string, refName: string | undefined, progress: LayoutProgress = {}): Promise<void> {
  prepare(dir);
  for (const [i, im] of image.images.entries()) {
    for (const [j, desc] of im.layers.entries()) {
      if (isForeignLayer(desc)) throw new LayerslayerError("UNSUPPORTED", `layer ${j}: a foreign layer (hosted outside the registry) cannot be saved in a layout`);
      progress.onLayer?.(i, j, desc);
      await downloadBlob(
        { source, digest: desc.digest, size: desc.size, mediaType: desc.mediaType, label: `layer ${j} (${desc.digest})` },
        blobPath(dir, desc.digest),
        progress.download ?? {},
      );
    }
    writeVerified(dir, im.configDigest, im.config);
    writeVerified(dir, im.manifest.digest, im.manifest.bytes);
  }
  writeVerified(dir, image.top.digest, image.top.bytes);
  const entry: Descriptor = {
    mediaType: image.top.mediaType,
    digest: image.top.digest,
    size: image.top.bytes.byteLength,
    ...(refName ? { annotations: { [REF_NAME]: refName } } : {}),
  };
  const index = readIndex(dir);
  index.manifests = [...index.manifests.filter((d) => !(refName && d.annotations?.[REF_NAME] === refName) && d.digest !== entry.digest), entry];
  const tmp = join(dir, `.index.json.${process.pid}.tmp`);
  writeFileSync(tmp, JSON.stringify(index, null, 2));
  renameSync(tmp, join(dir, "index.json"));
}

/** A directory that is a layout, or is missing or empty (then it becomes one). */
function prepare(dir: string): void {
  if (existsSync(join(dir, "oci-layout"))) return;
  if (existsSync(dir) && readdirSync(dir).length > 0)
    throw new LayerslayerError("USAGE", `${escapeName(dir)} is not empty and not an OCI layout: give a new or empty directory, or an existing layout`);
  mkdirSync(join(dir, "blobs"), { recursive: true });
  writeFileSync(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
}

function readIndex(dir: string): { schemaVersion: number; mediaType: string; manifests: Descriptor[] } {
  const path = join(dir, "index.json");
  if (!existsSync(path)) return { schemaVersion: 2, mediaType: MT.ociIndex, manifests: [] };
  try {
    const doc = JSON.parse(readFileSync(path, "utf8")) as { manifests?: Descriptor[] };
    if (!Array.isArray(doc.manifests)) throw new Error("no manifests");
    return { schemaVersion: 2, mediaType: MT.ociIndex, ...doc, manifests: doc.manifests };
  } catch {
    throw new LayerslayerError("CORRUPT", `${escapeName(path)}: not a valid index.json; refusing to rewrite it`);
  }
}
