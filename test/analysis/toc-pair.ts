/**
 * Two versions of a small rootfs, each pushed as an ordinary gzip layer, as eStargz (containerd's
 * estargz.Build, with its TOC digest annotation) and as zstd:chunked (skopeo), for `diff --content`
 * and the TOC labels of `diff` and `efficiency`. What differs between the versions is known:
 *   /etc/same      equal bytes
 *   /etc/changed   equal size, other bytes
 *   /etc/nonce     equal size, other bytes (random each run: no blob is reused between runs)
 *   /usr/bin/tool  1 MiB, equal bytes (several eStargz chunks)
 *   /usr/bin/big   1 MiB, equal size, one byte in the middle differs
 *   /etc/grown     another size
 */
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { estargzLayer } from "../support/estargz.ts";
import { compress, gnuTar, makeTree, pushImage, type FileSpec } from "../support/fixtures.ts";
import type { TestRegistry } from "../support/registry.ts";
import { skopeoZstdChunked } from "../support/zstd-chunked.ts";
import { ESTARGZ_TOC } from "../toc/fixture.ts";

export interface TocPair {
  /** repo:tag of each version in each form. */
  gzip: [string, string];
  estargz: [string, string];
  zstdChunked: [string, string];
  /** The paths whose bytes differ though their sizes are equal. */
  contentChanged: string[];
  /** The eStargz blobs of each version. */
  estargzBlobs: [Uint8Array, Uint8Array];
}

function files(version: 1 | 2, tool: Uint8Array, big: Uint8Array): FileSpec[] {
  return [
    { path: "etc/same", content: "the same in both\n" },
    { path: "etc/changed", content: version === 1 ? "version one\n" : "version two\n" },
    { path: "etc/nonce", content: `${randomBytes(16).toString("hex")}\n` },
    { path: "etc/grown", content: version === 1 ? "short\n" : "a longer line\n" },
    { path: "usr/bin/tool", content: tool, mode: 0o755 },
    { path: "usr/bin/big", content: big, mode: 0o755 },
  ];
}

function tarOf(spec: FileSpec[]): Uint8Array {
  const root = makeTree(spec);
  try {
    return gnuTar(root, "pax");
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

export async function pushTocPair(reg: TestRegistry, repo: string): Promise<TocPair> {
  const tool = new Uint8Array(randomBytes(1024 * 1024));
  const big1 = new Uint8Array(randomBytes(1024 * 1024));
  const big2 = big1.slice();
  big2[700_000] = big2[700_000]! ^ 0xff;
  const out: TocPair = {
    gzip: ["", ""],
    estargz: ["", ""],
    zstdChunked: ["", ""],
    contentChanged: ["/etc/changed", "/etc/nonce", "/usr/bin/big"],
    estargzBlobs: [new Uint8Array(), new Uint8Array()],
  };
  for (const v of [1, 2] as const) {
    const tar = tarOf(files(v, tool, v === 1 ? big1 : big2));
    await pushImage(reg, repo, `gzip-v${v}`, { layers: [{ bytes: compress(tar, "gzip") }] });
    const esgz = estargzLayer(tar, 256 * 1024);
    await pushImage(reg, repo, `estargz-v${v}`, { layers: [{ bytes: esgz.bytes, annotations: { [ESTARGZ_TOC]: esgz.tocDigest } }] });
    // Another repository: skopeo reuses a blob the destination repository already has.
    skopeoZstdChunked(reg, `${repo}:gzip-v${v}`, `${repo}-zstd:zstd-chunked-v${v}`);
    out.estargzBlobs[v - 1] = esgz.bytes;
    out.gzip[v - 1] = `${repo}:gzip-v${v}`;
    out.estargz[v - 1] = `${repo}:estargz-v${v}`;
    out.zstdChunked[v - 1] = `${repo}-zstd:zstd-chunked-v${v}`;
  }
  return out;
}
