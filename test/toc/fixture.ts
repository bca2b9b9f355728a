/**
 * One small rootfs pushed as an ordinary gzip layer, as eStargz (containerd's estargz.Build, with
 * and without the TOC digest annotation) and as zstd:chunked (skopeo, with and without its
 * annotations). A random file makes every run's content new (skopeo must compress it itself).
 */
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { estargzLayer } from "../support/estargz.ts";
import { compress, gnuTar, makeTree, pushImage, type FileSpec } from "../support/fixtures.ts";
import { pushManifest } from "../support/push.ts";
import type { TestRegistry } from "../support/registry.ts";
import { skopeoZstdChunked } from "../support/zstd-chunked.ts";

export const ESTARGZ_TOC = "containerd.io/snapshot/stargz/toc.digest";

function text(seed: number, lines: number): string {
  let s = "";
  for (let i = 0; i < lines; i++) s += `line ${i} of document ${seed}: ${"abcdefghij".repeat((i * 7 + seed) % 9)}\n`;
  return s;
}

export function rootfsFiles(): { files: FileSpec[]; binary: Uint8Array } {
  const binary = new Uint8Array(randomBytes(1024 * 1024));
  const files: FileSpec[] = [
    { path: "usr/lib/os-release", content: 'PRETTY_NAME="Fixture Linux"\nID=fixture\n' },
    { path: "etc/os-release", symlink: "../usr/lib/os-release" },
    { path: "etc/hostname", content: `nonce-${randomBytes(8).toString("hex")}\n` },
    { path: "etc/empty", content: "" },
    { path: "usr/bin/tool", content: binary, mode: 0o755 },
    { path: "usr/bin/tool-link", hardlink: "usr/bin/tool" },
    { path: "var/spool", dir: true, mode: 0o1777 },
    { path: "run/fifo", fifo: true },
  ];
  for (let i = 0; i < 40; i++) files.push({ path: `usr/share/doc/pkg${i % 5}/file${i}.txt`, content: text(i, 200 + i * 40) });
  return { files, binary };
}

export interface TocImages {
  tar: Uint8Array;
  binary: Uint8Array;
  files: FileSpec[];
  estargzLayerBytes: Uint8Array;
  estargzTocDigest: string;
  /** repo:tag of each variant. */
  gzip: string;
  estargz: string;
  estargzBare: string;
  estargzWrong: string;
  zstdChunked: string;
  zstdChunkedBare: string;
}

export async function pushTocImages(reg: TestRegistry, repo: string): Promise<TocImages> {
  const { files, binary } = rootfsFiles();
  const root = makeTree(files);
  let tar: Uint8Array;
  try {
    tar = gnuTar(root, "pax");
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  await pushImage(reg, repo, "gzip", { layers: [{ bytes: compress(tar, "gzip") }] });
  const esgz = estargzLayer(tar, 64 * 1024);
  await pushImage(reg, repo, "estargz", { layers: [{ bytes: esgz.bytes, annotations: { [ESTARGZ_TOC]: esgz.tocDigest } }] });
  await pushImage(reg, repo, "estargz-bare", { layers: [{ bytes: esgz.bytes }] });
  const wrong = `sha256:${"0".repeat(64)}`;
  await pushImage(reg, repo, "estargz-wrong", { layers: [{ bytes: esgz.bytes, annotations: { [ESTARGZ_TOC]: wrong } }] });
  // Another repository: skopeo reuses a blob the destination repository already has.
  const zrepo = `${repo}-zstd`;
  skopeoZstdChunked(reg, `${repo}:gzip`, `${zrepo}:zstd-chunked`);
  // The same zstd:chunked layer under a manifest without its annotations: found by its footer.
  const res = await fetch(`${reg.url}/v2/${zrepo}/manifests/zstd-chunked`, { headers: { Accept: "application/vnd.oci.image.manifest.v1+json" } });
  const man = (await res.json()) as { layers: { annotations?: Record<string, string> }[] };
  for (const l of man.layers) delete l.annotations;
  await pushManifest(reg, zrepo, JSON.stringify(man), "application/vnd.oci.image.manifest.v1+json", "zstd-chunked-bare");
  return {
    tar,
    binary,
    files,
    estargzLayerBytes: esgz.bytes,
    estargzTocDigest: esgz.tocDigest,
    gzip: `${repo}:gzip`,
    estargz: `${repo}:estargz`,
    estargzBare: `${repo}:estargz-bare`,
    estargzWrong: `${repo}:estargz-wrong`,
    zstdChunked: `${zrepo}:zstd-chunked`,
    zstdChunkedBare: `${zrepo}:zstd-chunked-bare`,
  };
}
