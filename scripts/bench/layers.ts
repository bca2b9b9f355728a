/**
 * Benchmark inputs: a real directory tree of this machine tarred by GNU tar and gzip'd by `gzip -6`
 * (built by streaming pipelines into temp files, never held in memory), pushed to the registry as
 * single-layer images by streaming the files.
 */

import { existsSync, readdirSync, statSync } from "node:fs";
import { pushBlob, pushManifest } from "../../test/support/push.ts";
import type { TestRegistry } from "../../test/support/registry.ts";
import { q, sh } from "./proc.ts";

const MB = 1e6;
export const TREE_MIN = 40 * MB;
export const TREE_MAX = 60 * MB;

/**
 * Directories tried in order (relative to /, on Debian): many small text files first, then bigger
 * ones. Greedy: each one that still fits under TREE_MAX is taken, until TREE_MIN is reached.
 */
const CANDIDATES = [
  "usr/share/zoneinfo",
  "usr/share/perl",
  "usr/share/vim",
  "usr/share/i18n",
  "usr/lib/git-core",
  "usr/share/perl5",
  "usr/share/mime",
  "usr/share/man",
  "usr/lib/python3",
  ...pythons(),
  "usr/share/doc",
  "usr/share/locale",
  "usr/lib/x86_64-linux-gnu",
  "usr/lib/aarch64-linux-gnu",
];

function pythons(): string[] {
  try {
    return readdirSync("/usr/lib").filter((d) => /^python3\.\d+$/.test(d)).map((d) => `usr/lib/${d}`);
  } catch {
    return [];
  }
}

export interface Tree {
  dirs: string[];
  /** Apparent size of the files (du -sb). */
  bytes: number;
  /** Files, directories and links under the dirs (find | wc -l). */
  paths: number;
}

export async function pickTree(): Promise<Tree> {
  const dirs: string[] = [];
  let bytes = 0;
  for (const d of CANDIDATES) {
    if (bytes >= TREE_MIN) break;
    if (dirs.includes(d) || !existsSync(`/${d}`) || !statSync(`/${d}`).isDirectory()) continue;
    const size = Number((await sh(`du -sb ${q(`/${d}`)} 2>/dev/null | cut -f1`)).trim());
    if (!Number.isFinite(size) || size <= 0 || bytes + size > TREE_MAX) continue;
    dirs.push(d);
    bytes += size;
  }
  if (dirs.length === 0) throw new Error(`none of ${CANDIDATES.join(", ")} exists with a size under ${TREE_MAX / MB} MB`);
  const paths = Number((await sh(`cd / && find ${dirs.map(q).join(" ")} | wc -l`)).trim());
  return { dirs, bytes, paths };
}

export interface LayerFile {
  path: string;
  /** Compressed size. */
  size: number;
  /** Uncompressed (tar) size, from the gzip trailer's ISIZE (fine below 4 GiB). */
  tarSize: number;
  digest: string;
  buildMs: number;
}

const TAR_OPTS = "--sort=name --owner=0 --group=0 --numeric-owner --ignore-failed-read --warning=no-file-changed";

/** GNU tar in a subshell whose status is 0 when tar's is 0 or 1 ("some files changed while read"). */
function tar(args: string): string {
  return `( tar ${TAR_OPTS} ${args} 2>/dev/null; [ $? -le 1 ] )`;
}

async function finish(path: string, t0: number): Promise<LayerFile> {
  const file = Bun.file(path);
  const size = file.size;
  const trailer = new Uint8Array(await file.slice(size - 4, size).arrayBuffer());
  const tarSize = new DataView(trailer.buffer).getUint32(0, true);
  const hasher = new Bun.CryptoHasher("sha256");
  for await (const chunk of file.stream()) hasher.update(chunk);
  return { path, size, tarSize, digest: `sha256:${hasher.digest("hex")}`, buildMs: performance.now() - t0 };
}

/** The normal layer: GNU tar (default gnu format) of the tree, `gzip -6`. */
export async function buildSmall(tree: Tree, out: string): Promise<LayerFile> {
  const t0 = performance.now();
  await sh(`cd / && ${tar(`-cf - ${tree.dirs.map(q).join(" ")}`)} | gzip -6 > ${q(out)}`);
  return finish(out, t0);
}

/**
 * The big layer: `copies` copies of the tree under copyN/ prefixes in ONE archive (each copy's tar
 * with its end-of-archive blocks cut off, one end-of-archive at the end), `gzip -6`, all streamed.
 * Blocking factor 1 makes each tar end in exactly 1024 zero bytes. Symlink targets keep their text.
 */
export async function buildBig(tree: Tree, copies: number, out: string): Promise<LayerFile> {
  const t0 = performance.now();
  const one = (i: number) => `${tar(`-b1 --transform ${q(`s,^,copy${i}/,S`)} -cf - ${tree.dirs.map(q).join(" ")}`)} | head -c -1024`;
  const body = Array.from({ length: copies }, (_, i) => one(i)).join("; ");
  await sh(`cd / && { ${body}; head -c 1024 /dev/zero; } | gzip -6 > ${q(out)}`);
  return finish(out, t0);
}

/** Streams a file up as a blob (monolithic POST + PUT). */
async function pushFile(reg: TestRegistry, repo: string, layer: LayerFile): Promise<void> {
  const auth = await reg.pushAuth(repo);
  const start = await fetch(`${reg.url}/v2/${repo}/blobs/uploads/`, { method: "POST", headers: auth });
  if (start.status !== 202) throw new Error(`upload start for ${repo}: HTTP ${start.status} ${await start.text()}`);
  const location = new URL(start.headers.get("location")!, reg.url);
  location.searchParams.set("digest", layer.digest);
  const put = await fetch(location, {
    method: "PUT",
    headers: { ...auth, "Content-Type": "application/octet-stream", "Content-Length": String(layer.size) },
    body: Bun.file(layer.path),
  });
  if (put.status !== 201) throw new Error(`blob upload for ${repo}: HTTP ${put.status} ${await put.text()}`);
}

export const LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";

/** Pushes a one-layer OCI image; returns the reference to give the CLI and the blob's URL. */
export async function pushLayerImage(reg: TestRegistry, repo: string, tag: string, layer: LayerFile): Promise<{ image: string; blobUrl: string }> {
  await pushFile(reg, repo, layer);
  const config = JSON.stringify({
    architecture: "amd64",
    os: "linux",
    created: "2024-03-01T12:34:56Z",
    config: { Cmd: ["/bin/sh"] },
    rootfs: { type: "layers", diff_ids: [layer.digest] },
    history: [{ created: "2024-03-01T12:34:56Z", created_by: `/bin/sh -c #(nop) ADD bench-${tag}.tar /` }],
  });
  const configBytes = new TextEncoder().encode(config);
  const configDigest = await pushBlob(reg, repo, configBytes);
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: configDigest, size: configBytes.byteLength },
    layers: [{ mediaType: LAYER_GZIP, digest: layer.digest, size: layer.size }],
  });
  await pushManifest(reg, repo, manifest, "application/vnd.oci.image.manifest.v1+json", tag);
  return { image: `${reg.host}/${repo}:${tag}`, blobUrl: `${reg.url}/v2/${repo}/blobs/${layer.digest}` };
}
