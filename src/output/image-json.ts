/**
 * The documents the image commands print with --json (docs/json.md), as data: the CLI prints them,
 * `serve` answers with them, so both say the same thing in the same shape.
 */
import type { HistoryEvent, MergedNode, MergedTree } from "../image/merge.ts";
import { alignHistory, parseConfig, type Step } from "../oci/config.ts";
import { isAttestation, parseManifest } from "../oci/manifest.ts";
import { formatPlatform, platformOf } from "../oci/platform.ts";
import { imagePlatform, MAX_CONFIG_BYTES, type ResolvedImage } from "../oci/resolve.ts";
import type { ImageSource } from "../source/source.ts";
import { absolutePath, entryJson, jsonDocumentParts } from "./json.ts";

/** A member of the server's config that should be a JSON object, or an empty one when it is not. */
function objectOr<T>(v: Record<string, T> | null | undefined): Record<string, T> {
  return v && typeof v === "object" && !Array.isArray(v) ? v : {};
}

/** Everything `inspect` shows, as data. */
export function describeImage(img: ResolvedImage) {
  const { stepOfLayer } = alignHistory(img.config, img.manifest.image.layers.length);
  const c = img.config.config ?? {};
  return {
    reference: img.source.reference,
    digest: img.manifest.digest,
    mediaType: img.manifest.mediaType,
    ...(img.index ? { index: { digest: img.index.digest, mediaType: img.index.mediaType } } : {}),
    platform: formatPlatform(imagePlatform(img)),
    ...(img.config.created ? { created: img.config.created } : {}),
    config: {
      entrypoint: c.Entrypoint ?? null,
      cmd: c.Cmd ?? null,
      env: Array.isArray(c.Env) ? c.Env : [],
      user: c.User ?? "",
      workdir: c.WorkingDir ?? "",
      labels: objectOr(c.Labels),
      exposedPorts: Object.keys(objectOr(c.ExposedPorts)),
    },
    layers: img.manifest.image.layers.map((l, index) => ({
      index,
      digest: l.digest,
      size: l.size,
      mediaType: l.mediaType,
      createdBy: stepOfLayer[index]?.createdBy ?? null,
      ...(l.urls ? { urls: l.urls } : {}),
    })),
    totalSize: img.manifest.image.layers.reduce((n, l) => n + l.size, 0),
  };
}

/** Everything `history --json` shows: the build steps and the layer each made. */
export function historyJson(img: ResolvedImage) {
  const layers = img.manifest.image.layers;
  const { steps, stepOfLayer } = alignHistory(img.config, layers.length);
  return {
    steps: steps.map((s) => ({
      index: s.index,
      createdBy: s.createdBy,
      ...(s.created ? { created: s.created } : {}),
      ...(s.comment ? { comment: s.comment } : {}),
      emptyLayer: s.empty,
      layer: s.layer ?? null,
      ...(s.layer !== undefined ? { digest: layers[s.layer]!.digest, size: layers[s.layer]!.size } : {}),
    })),
    layersWithoutStep: stepOfLayer.flatMap((s, i) => (s ? [] : [i])),
  };
}

/** One entry of `ls --json`. */
export function nodeJson(n: MergedNode) {
  return {
    ...entryJson({ ...n.entry, layer: n.layer }, absolutePath(n.path)),
    ...(n.implied ? { implied: true } : {}),
    ...(n.replaced.length ? { replaced: n.replaced.map((e) => ({ layer: e.layer, type: e.type, size: e.size })) } : {}),
  };
}

/**
 * `ls --json` of `target` (a node the path resolved to, symlinks followed), a piece of text at a
 * time: a listing of a million paths is written as it is walked, never held whole.
 */
export function lsDocumentParts(tree: MergedTree, target: { path: string; node: MergedNode }, opts: { layer?: number; recursive?: boolean; history?: boolean }): Generator<string> {
  const dir = target.path;
  const isDir = target.node.entry.type === "dir";
  const nodes: Iterable<MergedNode> = !isDir ? [target.node] : opts.recursive ? tree.walk(dir) : tree.list(dir);
  const doc = {
    path: absolutePath(dir),
    ...(opts.layer !== undefined ? { layer: opts.layer } : {}),
    entries: [],
    ...(opts.history && isDir
      ? { history: tree.historyChildren(dir).flatMap((r) => r.events.map((e) => ({ path: absolutePath(e.path), layer: e.layer, action: e.action, type: e.entry.type }))) }
      : {}),
  };
  return jsonDocumentParts(doc, "entries", mapped(nodes, nodeJson));
}

function* mapped<T, U>(items: Iterable<T>, f: (item: T) => U): Generator<U> {
  for (const item of items) yield f(item);
}

/** One hit of `find --json`. */
export function findHitJson(tree: MergedTree, stepOfLayer: readonly (Step | undefined)[], e: HistoryEvent) {
  return {
    path: absolutePath(e.path),
    layer: e.layer,
    action: e.action,
    type: e.entry.type,
    size: e.entry.size,
    createdBy: stepOfLayer[e.layer]?.createdBy ?? null,
    present: tree.get(e.path)?.layer === e.layer && e.action !== "deleted" && e.action !== "hidden",
    ...(e.by ? { by: absolutePath(e.by) } : {}),
  };
}

/** What `platforms --json` shows: the platforms the reference offers (attestations only with `all`). */
export async function platformsJson(source: ImageSource, all: boolean) {
  const top = await source.manifest();
  const parsed = parseManifest(top.bytes, top.mediaType, source.reference);
  let rows: { platform: string; digest: string; size: number; mediaType: string; attestation: boolean }[];
  if (parsed.kind === "index") {
    rows = parsed.index.manifests
      .map((d) => ({ platform: formatPlatform(d.platform), digest: d.digest, size: d.size, mediaType: d.mediaType, attestation: isAttestation(d) }))
      .filter((r) => all || !r.attestation);
  } else {
    const cfg = parseConfig(await source.blobBytes(parsed.image.config.digest, MAX_CONFIG_BYTES, "image config"), source.reference);
    rows = [{ platform: formatPlatform(platformOf(cfg)), digest: top.digest, size: top.bytes.byteLength, mediaType: parsed.image.mediaType, attestation: false }];
  }
  return { reference: source.reference, digest: top.digest, index: parsed.kind === "index", platforms: rows };
}

/** What `manifest --json` shows: the image manifest, or with `index` the index the reference named. */
export function manifestJson(img: ResolvedImage, index: boolean) {
  const chosen = index ? img.index : img.manifest;
  if (!chosen) return undefined;
  return { digest: chosen.digest, mediaType: chosen.mediaType, manifest: JSON.parse(new TextDecoder().decode(chosen.bytes)) as unknown };
}

/** What `config --json` shows. */
export function configJson(img: ResolvedImage) {
  return { digest: img.manifest.image.config.digest, mediaType: img.manifest.image.config.mediaType, config: img.config };
}
