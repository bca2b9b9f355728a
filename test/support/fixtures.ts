import { chmodSync, linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pushBlob, pushManifest, sha256 } from "./push.ts";
import type { TestRegistry } from "./registry.ts";

export type FileSpec =
  | { path: string; content?: string | Uint8Array; mode?: number }
  | { path: string; dir: true; mode?: number }
  | { path: string; symlink: string }
  | { path: string; hardlink: string }
  | { path: string; fifo: true };

export type TarFormat = "ustar" | "gnu" | "pax";

const FIXED_MTIME = new Date("2024-03-01T12:34:56Z");

/** Creates the files in a fresh temp dir; returns its path. Parents are made as needed. */
export function makeTree(files: FileSpec[]): string {
  const root = mkdtempSync(join(tmpdir(), "ls-tree-"));
  for (const f of files) {
    const p = join(root, f.path);
    mkdirSync(dirname(p), { recursive: true });
    if ("dir" in f) {
      mkdirSync(p, { recursive: true });
      chmodSync(p, f.mode ?? 0o755); // not subject to the umask, unlike mkdir's mode
    } else if ("symlink" in f) symlinkSync(f.symlink, p);
    else if ("hardlink" in f) linkSync(join(root, f.hardlink), p);
    else if ("fifo" in f) Bun.spawnSync(["mkfifo", p]);
    else {
      writeFileSync(p, f.content ?? "");
      if (f.mode !== undefined) chmodSync(p, f.mode);
    }
  }
  for (const f of files) {
    if ("symlink" in f || "fifo" in f) continue;
    try {
      utimesSync(join(root, f.path), FIXED_MTIME, FIXED_MTIME);
    } catch {}
  }
  return root;
}

/**
 * A tar made by GNU tar (so a tar writer we did not write shapes our inputs). `order` lists the
 * members in the order wanted (no recursion); without it, the whole tree sorted by name.
 */
export function gnuTar(root: string, format: TarFormat, order?: string[]): Uint8Array {
  const args = ["tar", `--format=${format}`, "--owner=0", "--group=0", "--numeric-owner", "-C", root, "-cf", "-"];
  if (order) args.push("--no-recursion", ...order);
  else args.push("--sort=name", ".");
  const r = Bun.spawnSync(args, { stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`tar failed: ${r.stderr.toString()}`);
  return new Uint8Array(r.stdout);
}

/** Layer bytes from file specs: tar (GNU), then compressed. */
export function layerFrom(files: FileSpec[], opts: { format?: TarFormat; compression?: "gzip" | "zstd" | "none"; order?: string[] } = {}): Uint8Array {
  const root = makeTree(files);
  try {
    const tar = gnuTar(root, opts.format ?? "pax", opts.order);
    return compress(tar, opts.compression ?? "gzip");
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** The digest of a layer's uncompressed tar (its diff_id). */
export function diffId(bytes: Uint8Array, how: "gzip" | "zstd" | "none"): string {
  const b = bytes as Uint8Array<ArrayBuffer>;
  return sha256(how === "none" ? b : how === "gzip" ? Bun.gunzipSync(b) : Bun.zstdDecompressSync(b));
}

export function compress(tar: Uint8Array, how: "gzip" | "zstd" | "none"): Uint8Array {
  if (how === "none") return tar;
  if (how === "gzip") return Bun.gzipSync(tar as Uint8Array<ArrayBuffer>);
  const r = Bun.spawnSync(["zstd", "-q", "-c", "-3"], { stdin: tar, stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`zstd failed: ${r.stderr.toString()}`);
  return new Uint8Array(r.stdout);
}

export const LAYER_TYPES = {
  oci: { gzip: "application/vnd.oci.image.layer.v1.tar+gzip", zstd: "application/vnd.oci.image.layer.v1.tar+zstd", none: "application/vnd.oci.image.layer.v1.tar" },
  docker: { gzip: "application/vnd.docker.image.rootfs.diff.tar.gzip", zstd: "application/vnd.oci.image.layer.v1.tar+zstd", none: "application/vnd.docker.image.rootfs.diff.tar" },
} as const;

export interface LayerInput {
  bytes: Uint8Array;
  compression?: "gzip" | "zstd" | "none";
  /** Override the media type written into the manifest. */
  mediaType?: string;
  /** The layer descriptor's annotations. */
  annotations?: Record<string, string>;
}

export interface HistoryInput {
  created_by: string;
  empty_layer?: boolean;
  comment?: string;
}

export interface PushedImage {
  digest: string;
  size: number;
  mediaType: string;
  manifest: string;
  config: string;
  configDigest: string;
  layers: { digest: string; size: number; mediaType: string; bytes: Uint8Array; annotations?: Record<string, string> }[];
}

/** Pushes a single-platform image (OCI or Docker v2) with the given layers, history and platform. */
export async function pushImage(
  reg: TestRegistry,
  repo: string,
  tag: string | undefined,
  opts: {
    layers: LayerInput[];
    format?: "oci" | "docker";
    history?: HistoryInput[];
    platform?: { os: string; architecture: string; variant?: string };
    config?: Record<string, unknown>;
    /**
     * Write the config's diff_ids as a real image has them, the digests of the uncompressed tars
     * (needed by docker-archive, whose layers are those tars); by default they are the blobs' digests.
     */
    realDiffIds?: boolean;
  },
): Promise<PushedImage> {
  const format = opts.format ?? "oci";
  const platform = opts.platform ?? { os: "linux", architecture: "amd64" };
  const layers = [] as PushedImage["layers"];
  for (const l of opts.layers) {
    const digest = await pushBlob(reg, repo, l.bytes);
    layers.push({
      digest,
      size: l.bytes.byteLength,
      mediaType: l.mediaType ?? LAYER_TYPES[format][l.compression ?? "gzip"],
      bytes: l.bytes,
      ...(l.annotations ? { annotations: l.annotations } : {}),
    });
  }
  const history = opts.history ?? opts.layers.map((_, i) => ({ created_by: `/bin/sh -c #(nop) ADD layer-${i}.tar /` }));
  const configDoc = {
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    created: "2024-03-01T12:34:56Z",
    config: { Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["/bin/sh"], WorkingDir: "/", Labels: { "org.example.fixture": repo } },
    ...opts.config,
    rootfs: { type: "layers", diff_ids: layers.map((l, i) => (opts.realDiffIds ? diffId(l.bytes, opts.layers[i]!.compression ?? "gzip") : l.digest)) },
    history: history.map((h) => ({ created: "2024-03-01T12:34:56Z", ...h })),
  };
  const config = JSON.stringify(configDoc, null, 2);
  const configBytes = new TextEncoder().encode(config);
  const configDigest = await pushBlob(reg, repo, configBytes);
  const mediaType = format === "oci" ? "application/vnd.oci.image.manifest.v1+json" : "application/vnd.docker.distribution.manifest.v2+json";
  const manifest = JSON.stringify(
    {
      schemaVersion: 2,
      mediaType,
      config: {
        mediaType: format === "oci" ? "application/vnd.oci.image.config.v1+json" : "application/vnd.docker.container.image.v1+json",
        digest: configDigest,
        size: configBytes.byteLength,
      },
      layers: layers.map(({ digest, size, mediaType, annotations }) => ({ mediaType, digest, size, ...(annotations ? { annotations } : {}) })),
    },
    null,
    3,
  );
  const digest = await pushManifest(reg, repo, manifest, mediaType, tag);
  return { digest, size: new TextEncoder().encode(manifest).byteLength, mediaType, manifest, config, configDigest, layers };
}

/** Pushes an index (OCI or Docker list) over already-pushed images, plus an attestation entry if asked. */
export async function pushIndex(
  reg: TestRegistry,
  repo: string,
  tag: string,
  images: { image: PushedImage; platform: { os: string; architecture: string; variant?: string } }[],
  opts: { format?: "oci" | "docker"; attestationFor?: PushedImage } = {},
): Promise<{ digest: string; bytes: string }> {
  const format = opts.format ?? "oci";
  const manifests: unknown[] = images.map(({ image, platform }) => ({ mediaType: image.mediaType, digest: image.digest, size: image.size, platform }));
  if (opts.attestationFor) {
    // An attestation manifest, as buildx pushes them: an image manifest for platform unknown/unknown.
    const att = await pushImage(reg, repo, undefined, {
      layers: [{ bytes: new TextEncoder().encode('{"_type":"https://in-toto.io/Statement/v0.1"}'), mediaType: "application/vnd.in-toto+json" }],
      platform: { os: "unknown", architecture: "unknown" },
    });
    manifests.push({
      mediaType: att.mediaType,
      digest: att.digest,
      size: att.size,
      platform: { os: "unknown", architecture: "unknown" },
      annotations: { "vnd.docker.reference.digest": opts.attestationFor.digest, "vnd.docker.reference.type": "attestation-manifest" },
    });
  }
  const mediaType = format === "oci" ? "application/vnd.oci.image.index.v1+json" : "application/vnd.docker.distribution.manifest.list.v2+json";
  const bytes = JSON.stringify({ schemaVersion: 2, mediaType, manifests }, null, 2);
  const digest = await pushManifest(reg, repo, bytes, mediaType, tag);
  return { digest, bytes };
}

export { sha256 };
