/**
 * Benchmark inputs, built by streaming pipelines into temp files (never held in memory) and pushed
 * to the registry as single-layer images by streaming the files:
 * - a rootfs-sized layer: GNU tar of real directories of this machine (~150-250 MB of files),
 *   as `gzip -6`, as `zstd -3`, and as a multi-member gzip (1 MiB of tar per member, like pigz
 *   --independent or an estargz layer without its TOC);
 * - a layer of 1,000,000 small entries written here (GNU tar would need the files on disk), `gzip -1`.
 */

import { existsSync, readdirSync, statSync } from "node:fs";
import { pushBlob, pushManifest } from "../../test/support/push.ts";
import type { TestRegistry } from "../../test/support/registry.ts";
import { q, sh } from "./proc.ts";

const MB = 1e6;
export const TREE_MIN = 150 * MB;
export const TREE_MAX = 250 * MB;

/**
 * Directories tried in order (relative to /, on Debian): many small text files first, then bigger
 * ones. Greedy: each one that still fits under TREE_MAX is taken, until TREE_MIN is reached.
 */
const CANDIDATES = [
  "usr/include",
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
    return readdirSync("/usr/lib")
      .filter((d) => /^python3\.\d+$/.test(d))
      .map((d) => `usr/lib/${d}`);
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
  /** Uncompressed (tar) size. */
  tarSize: number;
  digest: string;
  mediaType: string;
  buildMs: number;
}

const TAR_OPTS = "--sort=name --owner=0 --group=0 --numeric-owner --ignore-failed-read --warning=no-file-changed";

/** GNU tar in a subshell whose status is 0 when tar's is 0 or 1 ("some files changed while read"). */
function tar(args: string): string {
  return `( tar ${TAR_OPTS} ${args} 2>/dev/null; [ $? -le 1 ] )`;
}

export const LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";
export const LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd";

async function finish(path: string, tarSize: number, mediaType: string, t0: number): Promise<LayerFile> {
  const file = Bun.file(path);
  const hasher = new Bun.CryptoHasher("sha256");
  for await (const chunk of file.stream()) hasher.update(chunk);
  return { path, size: file.size, tarSize, digest: `sha256:${hasher.digest("hex")}`, mediaType, buildMs: performance.now() - t0 };
}

export interface RootfsLayers {
  tarSize: number;
  gzip: LayerFile;
  zstd: LayerFile;
  multi: LayerFile;
  /** The uncompressed tar (for budget baselines: GNU tar on a prefix needs the compressed files only). */
  tarPath: string;
}

/** The tree as one GNU tar (default gnu format), then compressed three ways in parallel. */
export async function buildRootfs(tree: Tree, dir: string): Promise<RootfsLayers> {
  const t0 = performance.now();
  const tarPath = `${dir}/rootfs.tar`;
  await sh(`cd / && ${tar(`-cf - ${tree.dirs.map(q).join(" ")}`)} > ${q(tarPath)}`);
  const tarSize = Bun.file(tarPath).size;
  const gz = `${dir}/rootfs.tar.gz`;
  const zst = `${dir}/rootfs.tar.zst`;
  const multi = `${dir}/rootfs.multi.tar.gz`;
  await Promise.all([
    sh(`gzip -6 -c ${q(tarPath)} > ${q(gz)}`),
    sh(`zstd -q -3 -T1 -c ${q(tarPath)} > ${q(zst)}`),
    // split runs gzip once per MiB of tar; the members' output goes to split's stdout, in order.
    sh(`split -b 1M --filter='gzip -6' ${q(tarPath)} > ${q(multi)}`),
  ]);
  return {
    tarSize,
    tarPath,
    gzip: await finish(gz, tarSize, LAYER_GZIP, t0),
    zstd: await finish(zst, tarSize, LAYER_ZSTD, t0),
    multi: await finish(multi, tarSize, LAYER_GZIP, t0),
  };
}

/** GNU tar of directories of this machine (relative to /), `gzip -6` (or `zstd -3`): one layer, as for an image's base. */
export async function buildTreeLayer(dirs: string[], out: string, codec: "gzip" | "zstd" = "gzip"): Promise<LayerFile> {
  const t0 = performance.now();
  const [pack, unpack] = codec === "gzip" ? ["gzip -6", "gzip -dc"] : ["zstd -q -3 -T1", "zstd -q -dc"];
  await sh(`cd / && ${tar(`-cf - ${dirs.map(q).join(" ")}`)} | ${pack} > ${q(out)}`);
  const tarSize = Number((await sh(`${unpack} ${q(out)} | wc -c`)).trim());
  return finish(out, tarSize, codec === "gzip" ? LAYER_GZIP : LAYER_ZSTD, t0);
}

/**
 * A tar of `count` entries, written here as fast as possible: a directory per 1000 entries, every
 * third file 20 bytes long, the rest empty (ustar headers, 100-byte names), then `gzip -1`.
 */
export async function buildMany(count: number, out: string): Promise<LayerFile> {
  const t0 = performance.now();
  const proc = Bun.spawn(["bash", "-c", `gzip -1 > ${q(out)}`], { stdin: "pipe", stdout: "ignore", stderr: "pipe" });
  const enc = new TextEncoder();
  const template = new Uint8Array(512);
  const put = (b: Uint8Array, at: number, s: string) => b.set(enc.encode(s), at);
  put(template, 100, "0000644\0");
  put(template, 108, "0000000\0");
  put(template, 116, "0000000\0");
  put(template, 136, "14566606400\0");
  put(template, 257, "ustar\u000000");
  put(template, 265, "root\0");
  put(template, 297, "root\0");
  const content = enc.encode("small file content\n\n");
  let tarSize = 0;
  const batch: Uint8Array[] = [];
  let batchBytes = 0;
  const flush = async () => {
    for (const b of batch) proc.stdin.write(b);
    await proc.stdin.flush();
    batch.length = 0;
    batchBytes = 0;
  };
  const add = (b: Uint8Array) => {
    batch.push(b);
    batchBytes += b.length;
    tarSize += b.length;
  };
  const header = (name: string, size: number, type: string) => {
    const h = template.slice();
    put(h, 0, name);
    put(h, 124, `${size.toString(8).padStart(11, "0")}\0`);
    h[156] = type.charCodeAt(0);
    if (type === "5") put(h, 100, "0000755\0");
    h.fill(0x20, 148, 156);
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += h[i]!;
    put(h, 148, `${sum.toString(8).padStart(6, "0")}\0 `);
    return h;
  };
  for (let i = 0; i < count; i++) {
    if (i % 1000 === 0) add(header(`data/d${String(i / 1000).padStart(4, "0")}/`, 0, "5"));
    const size = i % 3 === 0 ? 20 : 0;
    add(header(`data/d${String(Math.floor(i / 1000)).padStart(4, "0")}/file-${String(i).padStart(7, "0")}.txt`, size, "0"));
    if (size) {
      const block = new Uint8Array(512);
      block.set(content.subarray(0, 20));
      add(block);
    }
    if (batchBytes >= 4 << 20) await flush();
  }
  add(new Uint8Array(1024));
  await flush();
  proc.stdin.end();
  if ((await proc.exited) !== 0) throw new Error(`gzip -1 failed: ${await new Response(proc.stderr).text()}`);
  return finish(out, tarSize, LAYER_GZIP, t0);
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
    layers: [{ mediaType: layer.mediaType, digest: layer.digest, size: layer.size }],
  });
  await pushManifest(reg, repo, manifest, "application/vnd.oci.image.manifest.v1+json", tag);
  return { image: `${reg.host}/${repo}:${tag}`, blobUrl: `${reg.url}/v2/${repo}/blobs/${layer.digest}` };
}
